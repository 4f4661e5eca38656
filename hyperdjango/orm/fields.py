"""Fields: one typed column of a model, chosen from the attribute's annotation.

>>> from decimal import Decimal
>>> from hyperdjango import Model, Field
>>> class Tea(Model):
...     name: str = Field(max_length=50)
...     price: Decimal = Field(max_digits=6, decimal_places=2, ge=0)
...     origin: str | None = None
>>> [(f.name, type(f).__name__, f.null) for f in Tea._meta.fields]
[('id', 'IntegerField', False), ('name', 'TextField', False), ('price', 'DecimalField', False), ('origin', 'TextField', True)]
>>> Tea._meta.get_field("price").convert("4.5")
Decimal('4.50')

Values are converted on ``save()`` and in lookups (``filter(id="5")`` means id 5);
rows read from the database become instances without per-field validation.
"""

from __future__ import annotations

import datetime
import decimal
import re
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from ..database.json_values import unstorable as unstorable_json
from .exceptions import ValidationError

MISSING: Any = type("MISSING", (), {"__repr__": lambda self: "MISSING"})()

ON_DELETE = ("CASCADE", "SET_NULL", "PROTECT", "RESTRICT", "DO_NOTHING")

UTC = datetime.UTC


#: Field type → its registered lookups and transforms with its bases' (``Field.merged_lookups``);
#: emptied whenever a registration changes.
MERGED_LOOKUPS: dict[type, dict[str, Any]] = {}


class Field:
    """A model field. The annotation picks the column type; the options refine it.

    ``Field(default=0)``, ``Field(default_factory=list)``, ``null``, ``unique``,
    ``index``, ``db_column``, ``choices``, ``primary_key``, ``auto`` (database-
    generated key), ``auto_now_add``/``auto_now`` (datetimes set on save),
    ``max_length``, ``max_digits``/``decimal_places``, validators ``ge``, ``le``,
    ``min_length``, ``pattern`` (checked on save), and for relations
    ``foreign_key=Model`` with ``on_delete``, ``related_name`` (the accessor on the
    target's instances: ``category.products``; ``"+"`` for none) and ``related_query_name``
    (the name in the target's lookups: ``Category.objects.filter(product__price=1)``;
    else ``related_name``, else the model's name in lower case, as in Django).
    """

    python_type: type | tuple[type, ...] = object
    #: The type whose values ``convert(value, exact=True)`` returns unchanged, with no check
    #: to make (``int`` for an IntegerField): a planned lookup binds such a value without
    #: calling ``convert``. A subclass that overrides a conversion method loses it.
    unconverted_type: ClassVar[type | None] = None
    #: Lookups that make sense for the type (besides the common ones).
    type_lookups: frozenset[str] = frozenset()
    #: Name → lookup class registered on exactly this type (created in the class's own
    #: ``__dict__`` by ``register_lookup``, so a subclass never shares its base's dict).
    class_lookups: ClassVar[dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "unconverted_type" not in cls.__dict__ and any(m in cls.__dict__ for m in ("to_python", "to_python_exact", "convert")):
            cls.unconverted_type = None  # its own conversion may change or refuse such values

    @classmethod
    def register_lookup(cls, lookup: Any, lookup_name: str | None = None) -> Any:
        """Makes a lookup or transform class usable in filters on this field type and its
        subclasses, by its ``lookup_name`` (Django's ``register_lookup``; also a class decorator).

        >>> from hyperdjango.expressions import Transform
        >>> @IntegerField.register_lookup
        ... class Negated(Transform):
        ...     lookup_name = "negated"
        ...     function = "-"
        >>> IntegerField.class_lookup("negated") is Negated
        True
        >>> IntegerField._unregister_lookup(Negated)
        """
        name = lookup_name or lookup.lookup_name
        if "class_lookups" not in cls.__dict__:
            cls.class_lookups = {}
        cls.class_lookups[name] = lookup
        MERGED_LOOKUPS.clear()
        return lookup

    @classmethod
    def _unregister_lookup(cls, lookup: Any, lookup_name: str | None = None) -> None:
        """Removes a registration (Django's ``_unregister_lookup``, for tests)."""
        del cls.__dict__["class_lookups"][lookup_name or lookup.lookup_name]
        MERGED_LOOKUPS.clear()

    @classmethod
    def merged_lookups(cls) -> dict[str, Any]:
        """Name → class registered on this type or the nearest base (derived once per type:
        every filter on a date asks)."""
        merged = MERGED_LOOKUPS.get(cls)
        if merged is None:
            merged = {}
            for klass in reversed(cls.__mro__):
                merged.update(klass.__dict__.get("class_lookups", {}))
            MERGED_LOOKUPS[cls] = merged
        return merged

    @classmethod
    def class_lookup(cls, name: str) -> Any:
        """The lookup or transform class registered as ``name`` on this type or the nearest base."""
        return cls.merged_lookups().get(name)

    @classmethod
    def class_lookup_names(cls) -> set[str]:
        """Every name registered on this type and its bases."""
        return set(cls.merged_lookups())

    def __init__(
        self,
        default: Any = MISSING,
        *,
        default_factory: Callable[[], Any] | None = None,
        null: bool | None = None,
        unique: bool = False,
        index: bool = False,
        db_column: str | None = None,
        choices: Any = None,
        primary_key: bool = False,
        auto: bool = False,
        auto_now_add: bool = False,
        auto_now: bool = False,
        max_length: int | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        ge: Any = None,
        le: Any = None,
        min_length: int | None = None,
        pattern: str | None = None,
        foreign_key: Any = None,
        on_delete: str = "CASCADE",
        related_name: str | None = None,
        related_query_name: str | None = None,
    ) -> None:
        if default is not MISSING and default_factory is not None:
            raise TypeError("give default or default_factory, not both")
        if on_delete not in ON_DELETE:
            raise ValueError(f"on_delete must be one of {', '.join(ON_DELETE)}, not {on_delete!r}")
        # Kept so the metaclass can rebuild the field as the type its annotation asks for.
        self.options = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        self.default = default
        self.default_factory = default_factory
        self.null = null
        self.unique = unique or primary_key
        self.index = index
        self.db_column = db_column
        self.choices = _choice_values(choices)
        self.primary_key = primary_key
        self.auto = auto
        self.auto_now_add = auto_now_add
        self.auto_now = auto_now
        self.max_length = max_length
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        self.ge = ge
        self.le = le
        self.min_length = min_length
        self.pattern = re.compile(pattern) if pattern else None
        self.foreign_key = foreign_key
        self.on_delete = on_delete
        self.related_name = related_name
        self.related_query_name = related_query_name
        self.model: Any = None
        self.name = ""
        self.column = ""

    # -- binding to a model -------------------------------------------------------

    def bind(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name
        self.column = self.db_column or name
        if self.foreign_key is not None and not name.endswith("_id"):
            raise TypeError(f"{model.__name__}.{name}: a foreign key field is named <relation>_id (e.g. category_id)")

    @property
    def relation_name(self) -> str | None:
        """``category`` for the foreign key ``category_id``."""
        return self.name[:-3] if self.foreign_key is not None else None

    @property
    def related_model(self) -> Any:
        """The model a foreign key points to (resolving ``"self"`` and class names)."""
        from .options import resolve_model

        return resolve_model(self.foreign_key, self.model)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        # Loaded values live in the instance's __dict__, which Python consults
        # first: this runs only for a field left out by only()/defer().
        if instance is None:
            return self
        from .exceptions import DeferredFieldNotLoaded

        raise DeferredFieldNotLoaded(
            f"{type(instance).__name__}.{self.name} was not loaded (only()/defer()); "
            f"use await obj.refresh_from_db(fields=[{self.name!r}])"
        )

    def __repr__(self) -> str:
        owner = self.model.__name__ if self.model else "?"
        return f"<{type(self).__name__} {owner}.{self.name}>"

    # -- values -------------------------------------------------------------------

    def has_default(self) -> bool:
        return self.default is not MISSING or self.default_factory is not None

    def get_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        if self.default is MISSING:
            return None
        # Mutable defaults are copied, as dataclasses would require a factory for.
        return self.default.copy() if isinstance(self.default, (dict, list)) else self.default

    def to_python(self, value: Any) -> Any:
        """Converts ``value`` to the field's type; raises ValueError/TypeError when it cannot."""
        return value

    def to_python_exact(self, value: Any) -> Any:
        """``to_python`` without rounding to the column's precision: the value a lookup
        compares with (Django compares ``price=Decimal("10.005")`` as given, so it does not
        match 10.00)."""
        return self.to_python(value)

    def convert(self, value: Any, *, exact: bool = False) -> Any:
        """``to_python`` (``to_python_exact`` for a lookup's value) with errors as a
        ``ValidationError`` naming the field."""
        if value is None:
            return None
        try:
            return self.to_python_exact(value) if exact else self.to_python(value)
        except ValidationError:
            raise
        except (ValueError, TypeError, ArithmeticError) as e:
            raise ValidationError({self.name: [f"{value!r} is not a valid {self.type_name}"]}) from e

    @property
    def type_name(self) -> str:
        return getattr(self.python_type, "__name__", "value")

    def validate(self, value: Any) -> list[str]:
        """The messages for ``value`` (already converted); empty when it is valid."""
        if value is None:
            return [] if self.null or self.auto else ["this field cannot be null"]
        errors = []
        if self.choices is not None and value not in self.choices:
            errors.append(f"{value!r} is not one of the choices {sorted(self.choices, key=repr)}")
        if self.ge is not None and value < self.ge:
            errors.append(f"must be at least {self.ge}")
        if self.le is not None and value > self.le:
            errors.append(f"must be at most {self.le}")
        if self.min_length is not None and len(value) < self.min_length:
            errors.append(f"must have at least {self.min_length} characters")
        if self.max_length is not None and len(value) > self.max_length:
            errors.append(f"must have at most {self.max_length} characters")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            errors.append(f"must match {self.pattern.pattern!r}")
        return errors


def _choice_values(choices: Any) -> frozenset | None:
    if choices is None:
        return None
    return frozenset(c[0] if isinstance(c, tuple) else c for c in choices)


class IntegerField(Field):
    python_type = int
    unconverted_type = int

    def to_python(self, value: Any) -> int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(value)
            return int(value)
        if isinstance(value, decimal.Decimal):
            if value != value.to_integral_value():
                raise ValueError(value)
            return int(value)
        if isinstance(value, str):
            return int(value.strip())
        raise TypeError(value)


class FloatField(Field):
    python_type = float
    unconverted_type = float

    def to_python(self, value: Any) -> float:
        if isinstance(value, (str, int, float, decimal.Decimal)) and not isinstance(value, bool):
            return float(value)
        raise TypeError(value)


class DecimalField(Field):
    python_type = decimal.Decimal

    def to_python(self, value: Any) -> decimal.Decimal:
        return self.quantize(self.to_python_exact(value))

    def to_python_exact(self, value: Any) -> decimal.Decimal:
        if isinstance(value, float):
            # A double holds 15 significant digits reliably: Decimal(0.1) or SQLite's
            # AVG of REALs (8.540000000000001) would keep binary noise beyond them.
            value = f"{value:.15g}"
        elif not isinstance(value, (str, int, decimal.Decimal)) or isinstance(value, bool):
            raise TypeError(value)
        result = decimal.Decimal(value)
        if not result.is_finite():
            raise ValueError(value)
        return result

    def quantize(self, value: decimal.Decimal) -> decimal.Decimal:
        if self.decimal_places is None:
            return value
        return value.quantize(decimal.Decimal(1).scaleb(-self.decimal_places), rounding=decimal.ROUND_HALF_EVEN)

    def validate(self, value: Any) -> list[str]:
        errors = super().validate(value)
        if value is not None and self.max_digits is not None:
            allowed = self.max_digits - (self.decimal_places or 0)
            whole = abs(int(value))
            if whole and len(str(whole)) > allowed:
                errors.append(f"must have at most {allowed} digits before the decimal point")
        return errors


class BooleanField(Field):
    python_type = bool
    unconverted_type = bool
    _TRUE = {"true", "1", "yes", "on", "t"}
    _FALSE = {"false", "0", "no", "off", "f"}

    def to_python(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in self._TRUE:
                return True
            if lowered in self._FALSE:
                return False
        raise ValueError(value)


class TextField(Field):
    python_type = str
    type_lookups = frozenset({"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith", "iexact", "regex", "iregex"})

    def to_python(self, value: Any) -> str:
        if isinstance(value, str):
            if "\x00" in value:
                # PostgreSQL refuses U+0000 in text and SQLite keeps it: one answer for both.
                raise ValidationError({self.name: ["must not contain NUL characters (\\x00)"]})
            return value
        if isinstance(value, (int, float, decimal.Decimal, uuid.UUID)):
            return str(value)
        raise TypeError(value)


class DateTimeField(Field):
    """Stored as an aware UTC datetime (``timestamptz``); naive values are taken as UTC,
    so comparisons agree on both backends."""

    python_type = datetime.datetime

    def to_python(self, value: Any) -> datetime.datetime:
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        elif isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            value = datetime.datetime(value.year, value.month, value.day)
        if not isinstance(value, datetime.datetime):
            raise TypeError(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DateField(Field):
    python_type = datetime.date

    def to_python(self, value: Any) -> datetime.date:
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            return datetime.date.fromisoformat(value.strip())
        raise TypeError(value)


class TimeField(Field):
    python_type = datetime.time

    def to_python(self, value: Any) -> datetime.time:
        if isinstance(value, datetime.time):
            return value
        if isinstance(value, str):
            return datetime.time.fromisoformat(value.strip())
        raise TypeError(value)


class DurationField(Field):
    """A ``timedelta``: PostgreSQL's ``interval``, on SQLite an integer of microseconds (as Django)."""

    python_type = datetime.timedelta

    def to_python(self, value: Any) -> datetime.timedelta:
        if isinstance(value, datetime.timedelta):
            return value
        if isinstance(value, int) and not isinstance(value, bool):  # SQLite's microseconds, of a computed value
            return datetime.timedelta(microseconds=value)
        if isinstance(value, float) and value.is_integer():
            return datetime.timedelta(microseconds=int(value))
        raise TypeError(value)


class UUIDField(Field):
    python_type = uuid.UUID

    def to_python(self, value: Any) -> uuid.UUID:
        if isinstance(value, uuid.UUID):
            return value
        if isinstance(value, str):
            return uuid.UUID(value.strip())
        if isinstance(value, bytes):
            return uuid.UUID(bytes=value)
        raise TypeError(value)


class BinaryField(Field):
    python_type = bytes

    def to_python(self, value: Any) -> bytes:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise TypeError(value)


class JSONField(Field):
    """A ``dict`` or ``list`` stored as JSON (``jsonb`` on PostgreSQL). NaN and infinite
    floats, and text holding U+0000, are a ``ValidationError``: JSON cannot hold the
    former and PostgreSQL refuses the latter (see docs/orm.md)."""

    python_type = (dict, list)
    type_name = "JSON value"

    def to_python(self, value: Any) -> Any:
        reason = unstorable_json(value)
        if reason is not None:
            raise ValidationError({self.name: [reason]})
        return value


#: Annotation → field class.
FIELD_TYPES: dict[Any, type[Field]] = {
    int: IntegerField,
    float: FloatField,
    decimal.Decimal: DecimalField,
    bool: BooleanField,
    str: TextField,
    datetime.datetime: DateTimeField,
    datetime.date: DateField,
    datetime.time: TimeField,
    datetime.timedelta: DurationField,
    uuid.UUID: UUIDField,
    bytes: BinaryField,
    dict: JSONField,
    list: JSONField,
}


def field_from_annotation(model_name: str, name: str, annotation: Any, declared: Any) -> Field:
    """The field for ``name: annotation = declared`` (``declared`` may be a Field, a plain default or MISSING)."""
    base, optional = _unwrap_optional(annotation)
    cls = FIELD_TYPES.get(typing.get_origin(base) or base)
    if cls is None:
        known = ", ".join(sorted(t.__name__ for t in FIELD_TYPES))
        raise TypeError(f"{model_name}.{name}: unsupported annotation {annotation!r}; use one of {known} (or X | None)")
    options = declared.options if isinstance(declared, Field) else {}
    if not isinstance(declared, Field) and declared is not MISSING:
        options = {"default": declared}
    field = cls(**options)
    if field.null is None:
        field.null = optional
    return field


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) != len(typing.get_args(annotation))
    return annotation, False
