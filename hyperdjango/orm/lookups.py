"""Lookups and transforms: the ``__icontains`` and ``__year`` of ``filter(name__icontains="tea")``.

>>> sorted(LOOKUPS)[:6]
['contains', 'endswith', 'exact', 'gt', 'gte', 'icontains']
>>> from hyperdjango.orm.fields import DateField
>>> transform_class(DateField(), "year")
<class 'hyperdjango.orm.functions_datetime.ExtractYear'>

A lookup converts its value to the field's type when the QuerySet is built
(``filter(id="5")`` compares with the integer 5; ``filter(id="x")`` raises a
``ValidationError`` naming ``id``). How each lookup is spelled in SQL is the
backend's business (``backends/*/operations.py``). Transforms (``__year``, ``__date``, a
user's ``__abs``) and user lookups (``__ne``) are the classes registered on the field's
type with ``register_lookup`` (see ``functions_datetime.py`` and ``custom_lookups.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .exceptions import FieldError
from .expressions import Exists, Expression, Func, Param, Subquery
from .fields import Field, TextField
from .functions_datetime import DATE_PARTS, TIME_PARTS

if TYPE_CHECKING:
    from .sql.compiler import SQLCompiler
    from .sql.query import Query

#: Lookups every field has.
COMMON = frozenset({"exact", "gt", "gte", "lt", "lte", "in", "range", "isnull"})

#: Lookups whose value is text matched inside the column.
PATTERNS = frozenset({"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"})

#: name → SQL template for lookups spelled the same on every backend.
TEMPLATES = {
    "exact": "{lhs} = {rhs}",
    "gt": "{lhs} > {rhs}",
    "gte": "{lhs} >= {rhs}",
    "lt": "{lhs} < {rhs}",
    "lte": "{lhs} <= {rhs}",
    "iexact": "UPPER({lhs}) = UPPER({rhs})",
}

LOOKUPS = frozenset(TEMPLATES) | COMMON | PATTERNS | {"regex", "iregex"}


#: The built-in transforms' names (registered on the date and time fields), for the checks
#: that have a name and no field.
TRANSFORMS = DATE_PARTS | TIME_PARTS | frozenset({"date", "time"})


def transform_class(field: Field | None, name: str) -> type[Func] | None:
    """The transform registered as ``name`` on ``field``'s type (``ExtractYear`` for a date's ``year``)."""
    found = type(field).class_lookup(name) if field is not None else None
    return found if isinstance(found, type) and issubclass(found, Func) else None


def custom_lookup_class(field: Field | None, name: str) -> Any:
    """The lookup class a user registered as ``name`` on ``field``'s type (None if none)."""
    found = type(field).class_lookup(name) if field is not None else None
    return None if found is None or issubclass(found, Func) else found


def valid_lookups(field: Field | None) -> frozenset[str]:
    """The built-in lookups of ``field`` (registered ones are looked up by name first)."""
    if field is None:
        return COMMON | frozenset({"iexact"})
    return COMMON | field.type_lookups


class Lookup(Expression):
    """``lhs <lookup> rhs``: a resolved condition."""

    def __init__(self, name: str, lhs: Expression, rhs: Any) -> None:
        self.name = name
        self.lhs = lhs
        self.rhs = rhs  # an Expression, a list of them (in, range) or a bool (isnull)
        if lhs.contains_aggregate or any(r.contains_aggregate for r in (rhs if isinstance(rhs, list) else [rhs]) if isinstance(r, Expression)):
            self.contains_aggregate = True

    def children(self) -> tuple[Expression, ...]:
        rest = self.rhs if isinstance(self.rhs, list) else [self.rhs]
        return (self.lhs, *(r for r in rest if isinstance(r, Expression)))

    def as_sql(self, c: SQLCompiler) -> str:
        lhs = self.lhs.as_sql(c)
        name = self.name
        if name == "isnull":
            return f"{lhs} IS {'' if self.rhs else 'NOT '}NULL"
        if name == "in":
            if isinstance(self.rhs, Expression):  # a subquery
                return f"{lhs} IN ({self.rhs.as_sql(c)})"
            if not self.rhs:
                return "1 = 0"  # IN () is a syntax error; nothing matches an empty list
            return f"{lhs} IN ({', '.join(r.as_sql(c) for r in self.rhs)})"
        if name == "range":
            return f"{lhs} BETWEEN {self.rhs[0].as_sql(c)} AND {self.rhs[1].as_sql(c)}"
        if name in PATTERNS or name in ("regex", "iregex"):
            if isinstance(self.rhs, Param):
                return c.ops.pattern_lookup(name, lhs, c.param(self.rhs.idx, c.ops.pattern_adapter(name)))
            return c.ops.pattern_lookup_expression(name, lhs, self.rhs.as_sql(c))
        return TEMPLATES[name].format(lhs=lhs, rhs=self.rhs.as_sql(c))


def build_lookup(query: Query, lhs: Expression, parts: list[str], value: Any, label: str) -> Lookup:
    """The condition for ``lhs__<parts>=value`` (``parts`` are transforms then one lookup)."""
    parts = list(parts)
    lhs = apply_transforms(lhs, parts, label)
    if len(parts) > 1:
        raise FieldError(f"{label}: {'__'.join(parts)!r} is not a lookup; valid lookups: {_listing(lhs.output_field)}")
    name = parts[0] if parts else "exact"
    field = lhs.output_field
    custom = custom_lookup_class(field, name)
    if custom is not None:
        from .custom_lookups import RegisteredLookup

        if custom.prepare_rhs or isinstance(value, Expression):
            return RegisteredLookup(custom, lhs, _prepare_rhs(query, name, field, value))
        return RegisteredLookup(custom, lhs, _param(query, value, None))
    if name not in valid_lookups(field) and not (name in LOOKUPS and field is None):
        if name in DATE_PARTS | TIME_PARTS | {"date", "time"}:
            raise FieldError(f"{label}: the transform {name!r} needs a date/time field; valid lookups: {_listing(field)}")
        raise FieldError(f"{label}: unsupported lookup {name!r}; valid lookups: {_listing(field)}")
    if value is None and name in ("exact", "iexact"):
        return Lookup("isnull", lhs, True)  # as in SQL's sense of "= NULL", which never matches
    return Lookup(name, lhs, _prepare_rhs(query, name, field, value))


def apply_transforms(lhs: Expression, parts: list[str], label: str) -> Expression:
    """``lhs`` with the transforms that start ``parts`` applied (and removed from ``parts``)."""
    while parts:
        transform = transform_class(lhs.output_field, parts[0])
        if transform is None:
            break
        parts.pop(0)
        lhs = transform(lhs).resolved([lhs])
    return lhs


def _listing(field: Field | None) -> str:
    names = valid_lookups(field)
    if field is not None:
        names = names | type(field).class_lookup_names()  # transforms (year, date...) and users' lookups
    return ", ".join(sorted(names))


def _prepare_rhs(query: Query, name: str, field: Field | None, value: Any) -> Any:
    from .query import QuerySet

    if isinstance(value, QuerySet):
        if name not in ("in", "exact"):
            raise FieldError(f"a QuerySet can be the value of __in or __exact, not __{name}")
        value = Subquery(value)
    if isinstance(value, Expression):
        resolved = value.resolve(query)
        # IN takes the subquery's rows: its own parentheses would make it one value (SQLite).
        return resolved.embedded if name == "in" and isinstance(resolved, Subquery) and not isinstance(resolved, Exists) else resolved
    if name == "isnull":
        if not isinstance(value, bool):
            raise FieldError(f"__isnull takes True or False, not {value!r}")
        return value
    if name in ("in", "range"):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise FieldError(f"__{name} takes a list of values, not {value!r}")
        values = list(value)
        if name == "range" and len(values) != 2:
            raise FieldError(f"__range takes two values (low, high), not {len(values)}")
        if name == "in":
            values = list(dict.fromkeys(_convert(field, v) for v in values if v is not None))
            return [_param(query, v, field) for v in values]
        return [_param(query, _convert(field, v), field) for v in values]
    if name in PATTERNS or name in ("regex", "iregex", "iexact"):
        return _param(query, TextField().convert(value) if field is None else str(_convert(field, value)), field)
    return _param(query, _convert(field, value), field)


def _convert(field: Field | None, value: Any) -> Any:
    if hasattr(value, "_meta") and hasattr(value, "pk"):  # a model instance stands for its key
        value = value.pk
    return field.convert(value, exact=True) if field is not None else value


def _param(query: Query, value: Any, field: Field | None) -> Param:
    return Param(query.add_param(value), type(value), field)
