"""Models: a class per table, declared with annotations.

>>> import asyncio
>>> from decimal import Decimal
>>> from hyperdjango import Model, Field
>>> from hyperdjango.database import Database
>>> class Product(Model):
...     class Meta:
...         table = "products"
...         ordering = ["name"]
...     name: str = Field(max_length=200)
...     price: Decimal = Field(max_digits=10, decimal_places=2)
...     stock: int = 0
>>> async def main():
...     db = Database("sqlite://:memory:")
...     await db.create_tables(Product)
...     tea = Product(name="Tea", price="4.5")
...     await tea.save(using=db)
...     found = await Product.objects.using(db).get(id=str(tea.id))
...     await db.close()
...     return found == tea, found.price, found.to_dict()
>>> asyncio.run(main())
(True, Decimal('4.50'), {'id': 1, 'name': 'Tea', 'price': Decimal('4.50'), 'stock': 0})
"""

from __future__ import annotations

import datetime
import sys
import typing
from typing import Any, ClassVar, Self

from .backends import operations_for
from .exceptions import DoesNotExist, MultipleObjectsReturned, ValidationError
from .signals import post_save, pre_save
from .fields import MISSING, Field, IntegerField, field_from_annotation
from .manager import Manager
from .options import Options, model_defined
from .related import ManyToMany, check_related_saved, contribute_foreign_key
from .sql.compiler import insert_sql, update_by_pk_sql


class ModelMeta(type):
    """Builds ``_meta`` (fields from annotations, Meta options) and ``objects`` for each model class."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> Any:
        parents = [b for b in bases if isinstance(b, ModelMeta) and hasattr(b, "_meta")]
        if not parents and not any(isinstance(b, ModelMeta) for b in bases):
            return super().__new__(mcs, name, bases, namespace, **kwargs)  # Model itself
        meta = namespace.pop("Meta", None)
        m2m = {k: v for k, v in namespace.items() if isinstance(v, ManyToMany)}
        for k in m2m:
            namespace.pop(k)
        cls: Any = super().__new__(mcs, name, bases, namespace, **kwargs)  # a model class: _meta and objects are set below
        inherited = parents[0]._meta if parents else None
        if inherited is not None and not inherited.abstract:
            raise TypeError(f"{name}: only abstract models can be inherited from (set Meta.abstract = True on {parents[0].__name__})")
        fields = []
        for f in inherited.fields if inherited else []:
            if f.primary_key and f.auto and f.name == "id":
                continue  # the implicit key is made afresh below
            copied = type(f)(**f.options)
            copied.null, copied.name = f.null, f.name
            fields.append(copied)
        # Annotations may be strings (``from __future__ import annotations``): they are
        # evaluated where the class statement ran, which also covers exec() and functions.
        caller = sys._getframe(1)
        own = _own_fields(cls, namespace, caller.f_globals, caller.f_locals)
        names = {f.name for f in own}
        fields = [f for f in fields if f.name not in names] + own
        if not any(f.primary_key for f in fields):
            if "id" in {f.name for f in fields}:
                raise TypeError(f"{name}.id must be the primary key (add primary_key=True) or be renamed")
            key = IntegerField(primary_key=True, auto=True)
            key.null, key.name = False, "id"
            fields.insert(0, key)
        for f in fields:
            f.bind(cls, f.name)
            setattr(cls, f.name, f)
        cls._meta = Options(cls, meta, fields, inherited)
        _add_exceptions(cls, parents)
        if cls._meta.abstract:
            # Kept for the concrete subclass, with those of abstract ancestors.
            cls._meta.pending_m2m = {**getattr(inherited, "pending_m2m", {}), **m2m}
            return cls
        for f in fields:
            if f.foreign_key is not None:
                contribute_foreign_key(cls, f)
        for attr, declaration in {**getattr(inherited, "pending_m2m", {}), **m2m}.items():
            if attr not in m2m:
                declaration = ManyToMany(declaration.to, related_name=declaration.related_name, related_query_name=declaration.related_query_name,
                                         through=declaration.through, symmetrical=declaration.symmetrical)
            declaration.contribute(cls, attr)
        manager = namespace.get("objects")
        if not isinstance(manager, Manager):
            inherited_manager = next((getattr(p, "objects", None) for p in parents), None)
            manager = inherited_manager if isinstance(inherited_manager, Manager) else Manager()
        cls.objects = manager.bind(cls)
        model_defined(cls)
        return cls


def _add_exceptions(cls: Any, parents: list[Any]) -> None:
    """``Book.DoesNotExist`` and ``Book.MultipleObjectsReturned``, as Django gives every model:
    subclasses of the generic exceptions (and of the parent model's), so either can be caught."""
    for name, base in (("DoesNotExist", DoesNotExist), ("MultipleObjectsReturned", MultipleObjectsReturned)):
        bases = tuple(getattr(p, name) for p in parents) or (base,)
        setattr(cls, name, type(name, bases, {"__module__": cls.__module__, "__qualname__": f"{cls.__qualname__}.{name}"}))


def _own_fields(cls: type, namespace: dict[str, Any], globalns: dict[str, Any], localns: dict[str, Any]) -> list[Field]:
    raw = namespace.get("__annotations__", {})
    # The defining scope's names win; the usual types are a fallback for scripts. The class
    # body is left out: a field called ``date`` must not hide the type ``date``.
    scope = {**_typing_names(), **globalns, **(localns if localns is not globalns else {})}
    fields = []
    for name, annotation in raw.items():
        if name.startswith("_"):
            continue
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, scope)  # noqa: S307 - the class's own annotation
            except NameError as e:
                raise TypeError(f"{cls.__name__}.{name}: cannot resolve the annotation {annotation!r} ({e})") from None
        if typing.get_origin(annotation) is ClassVar or annotation is ClassVar:
            continue
        field = field_from_annotation(cls.__name__, name, annotation, namespace.get(name, MISSING))
        field.name = name
        fields.append(field)
    return fields


def _typing_names() -> dict[str, Any]:
    import datetime as dt
    import decimal
    import uuid

    return {"Decimal": decimal.Decimal, "datetime": dt.datetime, "date": dt.date, "time": dt.time, "UUID": uuid.UUID,
            "ClassVar": ClassVar, "Optional": typing.Optional}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Model(metaclass=ModelMeta):
    """Base class of models: annotated attributes are columns; ``objects`` runs queries.

    ``Product(name="Tea", price="4.50")`` builds an instance (defaults filled
    in, nothing validated yet); ``await p.save()`` validates, converts and
    INSERTs it, later saves UPDATE it. Instances are equal when they are the
    same model with the same primary key.
    """

    _meta: ClassVar[Options]
    objects: ClassVar[Manager[Self]]
    #: The implicit primary key (an auto-incremented integer) for type checkers; a model that
    #: names its key otherwise has no ``id`` (use ``pk``), one that declares ``id`` types it.
    id: Any
    _persisted = False  # True once the row exists (loaded or saved)
    DoesNotExist = DoesNotExist  # each model has its own subclass (``Book.DoesNotExist``)
    MultipleObjectsReturned = MultipleObjectsReturned

    def __init__(self, **kwargs: Any) -> None:
        meta = self._meta
        if meta.abstract:
            raise TypeError(f"{type(self).__name__} is abstract: subclass it")
        d = self.__dict__
        for field in meta.fields:
            if field.name in kwargs:
                d[field.name] = kwargs.pop(field.name)
            else:
                d[field.name] = field.get_default()
        for name, value in kwargs.items():
            relation = meta.relations.get(name)
            if relation is None or relation.multi:
                valid = ", ".join([f.name for f in meta.fields] + [n for n, r in meta.relations.items() if not r.multi])
                raise TypeError(f"{type(self).__name__}() got an unexpected argument {name!r}; valid: {valid}")
            setattr(self, name, value)

    # -- identity -----------------------------------------------------------------

    @property
    def pk(self) -> Any:
        """The primary key's value (``id`` unless a field says ``primary_key=True``)."""
        return self.__dict__.get(self._meta.pk.name)

    @pk.setter
    def pk(self, value: Any) -> None:
        self.__dict__[self._meta.pk.name] = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model) or type(other)._meta is not self._meta:
            return NotImplemented
        return self.pk is not None and self.pk == other.pk or self is other

    def __hash__(self) -> int:
        if self.pk is None:
            raise TypeError("an unsaved model instance has no primary key to hash")
        return hash((type(self), self.pk))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.pk if self.pk is not None else 'unsaved'}>"

    def to_dict(self) -> dict[str, Any]:
        """The loaded field values by name (what JSON responses encode), less
        ``Meta.serialize_exclude``."""
        d = self.__dict__
        return {f.name: d[f.name] for f in self._meta.public_fields if f.name in d}

    def _state_db(self) -> Any:
        return self.__dict__.get("_db") or self._meta.database

    # -- saving ---------------------------------------------------------------------

    def clean(self, fields: list[Field]) -> list[Any]:
        """Converts and validates ``fields``; returns their values or raises one ValidationError naming them all."""
        errors: dict[str, list[str]] = {}
        values = []
        d = self.__dict__
        for field in fields:
            try:
                value = field.convert(d.get(field.name))
            except ValidationError as e:
                errors.update(e.errors)
                continue
            messages = field.validate(value)
            if messages:
                errors[field.name] = messages
            d[field.name] = value
            values.append(value)
        if errors:
            raise ValidationError(errors)
        return values

    def _stamp(self, inserting: bool) -> None:
        now = None
        for field in self._meta.fields:
            if field.auto_now or (inserting and field.auto_now_add and self.__dict__.get(field.name) is None):
                now = now or _now()
                self.__dict__[field.name] = now

    async def save(self, update_fields: list[str] | None = None, using: Any = None) -> None:
        """INSERTs a new instance (filling an automatic key), UPDATEs a saved one.

        ``update_fields=["stock"]`` writes only those columns. Every written
        field is converted (``"4.50"`` → ``Decimal("4.50")``) and validated
        first; a ``ValidationError`` names every field that failed.
        """
        check_related_saved(self, "save")
        db = using or self._state_db()
        sender = type(self)
        fields = frozenset(update_fields) if update_fields is not None else None
        if pre_save.has_listeners(sender):
            await pre_save.asend(sender, instance=self, raw=False, using=db, update_fields=fields)
        created = await self._save_row(update_fields, using, db)
        if post_save.has_listeners(sender):
            await post_save.asend(sender, instance=self, created=created, raw=False, using=db, update_fields=fields)

    async def _save_row(self, update_fields: list[str] | None, using: Any, db: Any) -> bool:
        """The INSERT or UPDATE of ``save()``; whether it inserted."""
        meta = self._meta
        ops = operations_for(db.vendor)
        inserting = not self._persisted and update_fields is None
        self._stamp(inserting)
        if inserting:
            fields = [f for f in meta.fields if not (f.auto and f.primary_key and self.pk is None)]
            values = self.clean(fields)
            sql = insert_sql(ops, meta, tuple(f.column for f in fields), 1, returning=True)
            key = await db.query_val(sql, *values)
            self.__dict__[meta.pk.name] = key
            self.__dict__["_persisted"] = True
            if using is not None:
                self.__dict__["_db"] = using
            return True
        if update_fields is not None:
            fields = [meta.column_field(n) for n in update_fields]
            fields += [f for f in meta.fields if f.auto_now and f not in fields]
        else:
            fields = [f for f in meta.fields if not f.primary_key and f.name in self.__dict__]
        if not fields:
            return False
        values = self.clean(fields)
        sql = update_by_pk_sql(ops, meta, tuple(f.column for f in fields))
        changed = await db.execute(sql, *values, self.pk)
        if changed == 0:
            if update_fields is not None:
                raise type(self).DoesNotExist(f"{self!r} has no row to update (was it deleted?)")
            self.__dict__["_persisted"] = False
            return await self._save_row(None, using, db)
        return False

    async def delete(self, using: Any = None) -> int:
        """Deletes the row (and, per ``on_delete``, rows pointing at it); returns rows deleted."""
        if self.pk is None:
            raise ValueError(f"{self!r} cannot be deleted: it was never saved")
        db = using or self._state_db()
        deleted = await type(self).objects.using(db).filter(pk=self.pk).delete()
        self.__dict__["_persisted"] = False
        return deleted

    async def asave(self, *args: Any, **kwargs: Any) -> None:
        """Django's async name for ``save()``, so ported code runs unchanged."""
        await self.save(*args, **kwargs)

    async def adelete(self, *args: Any, **kwargs: Any) -> int:
        """Django's async name for ``delete()``."""
        return await self.delete(*args, **kwargs)

    async def arefresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        """Django's async name for ``refresh_from_db()``."""
        await self.refresh_from_db(*args, **kwargs)

    async def refresh_from_db(self, fields: list[str] | None = None, using: Any = None) -> None:
        """Reloads the fields (all, or ``fields``) from the database; DoesNotExist when the row is gone."""
        db = using or self._state_db()
        qs = type(self).objects.using(db).filter(pk=self.pk)
        if fields:
            qs = qs.only(*fields)
        fresh = await qs.first()
        if fresh is None:
            raise type(self).DoesNotExist(f"{self!r} no longer exists")
        for field in self._meta.fields:
            if field.name in fresh.__dict__:
                self.__dict__[field.name] = fresh.__dict__[field.name]
        self.__dict__["_persisted"] = True

    async def fetch_related(self, *names: Any, using: Any = None) -> Model:
        """Loads relations now (one query per level): ``await product.fetch_related("category")``.

        Forward foreign keys become readable as attributes; reverse and
        many-to-many relations are cached for ``await obj.<name>.all()``. Names
        nest and ``Prefetch`` objects work as in ``prefetch_related``
        (``await category.fetch_related("products__tags")``).
        """
        from .prefetch import Prefetch, check_lookups, prefetch_all

        lookups = tuple(n if isinstance(n, Prefetch) else Prefetch(n) for n in names)
        check_lookups(type(self), lookups)
        await prefetch_all([self], lookups, using or self._state_db())
        return self
