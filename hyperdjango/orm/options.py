"""``Model._meta``: a model's table, fields and relations, from its annotations and ``Meta``.

>>> from hyperdjango import Model
>>> class OrderItem(Model):
...     quantity: int = 1
>>> OrderItem._meta.table, [f.name for f in OrderItem._meta.fields]
('order_item', ['id', 'quantity'])
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..database import Database, default_database
from .exceptions import FieldDoesNotExist, FieldError
from .fields import Field

if TYPE_CHECKING:
    from .related import Relation

#: Models by class name, then module: foreign keys may name a model by a string.
registry: dict[str, dict[str, Any]] = {}
#: Work waiting for a model that is not defined yet: (module or app label, class name) → callbacks.
_pending: dict[tuple[str, str], list[Callable[[Any], None]]] = {}

META_OPTIONS = {"table", "db_table", "ordering", "indexes", "unique_together", "abstract", "database", "serialize_exclude", "get_latest_by"}


def snake_case(name: str) -> str:
    """``OrderItem`` → ``order_item``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def app_label_of_module(module_name: str) -> str:
    """The app a module's models belong to, as in Django where an app is a package:
    ``shop.models`` → ``shop``; a package is its own app; a top-level module too."""
    module = sys.modules.get(module_name)
    if module is not None and hasattr(module, "__path__"):
        return module_name
    package, _, _ = module_name.rpartition(".")
    return package or module_name


def app_label(model: Any) -> str:
    """Django's ``_meta.app_label`` of ``model``: the last part of its app's name (``shop``)."""
    return app_label_of_module(model.__module__).rpartition(".")[2]


def _scope(target: str, owner: Any) -> tuple[str, str]:
    """``(where, class name)`` a string reference means: ``"Tag"`` → the owner's module;
    ``"shop.Tag"`` → the app ``shop`` (or the module ``shop``)."""
    where, _, name = target.rpartition(".")
    return (where or owner.__module__), name


def _lookup(target: str, owner: Any) -> Any:
    where, name = _scope(target, owner)
    candidates = registry.get(name, {})
    if where in candidates:
        return candidates[where]
    if "." not in target:
        return None  # a bare name means the owner's module only
    in_app = [m for module, m in candidates.items() if app_label_of_module(module) == where]
    if len(in_app) > 1:
        raise FieldError(f"{owner.__name__}: {target!r} is ambiguous: {', '.join(f'{m.__module__}.{name}' for m in in_app)}; "
                         "name the module instead of the app")
    return in_app[0] if in_app else None


def resolve_model(target: Any, owner: Any) -> Any:
    """The model class meant by ``target``: a class, ``"self"``, the name of a class of the
    owner's module, or ``"app_label.ClassName"`` (``"shop.Category"``; a module path works too)."""
    if target == "self":
        return owner
    if isinstance(target, str):
        model = _lookup(target, owner)
        if model is None:
            where, name = _scope(target, owner)
            raise FieldError(f"{owner.__name__} refers to the model {target!r}, which is not defined: no class {name} "
                             f"among the models of {where!r} imported so far (import the module defining it before "
                             f"using {owner.__name__}; a model of another app is named \"app_label.ClassName\")")
        return model
    return target


def when_defined(target: Any, owner: Any, callback: Callable[[Any], None]) -> None:
    """Calls ``callback(model)`` now if ``target`` is defined, else when a module defines it."""
    if not isinstance(target, str) or target == "self" or _lookup(target, owner) is not None:
        callback(resolve_model(target, owner))
    else:
        _pending.setdefault(_scope(target, owner), []).append(callback)


def model_defined(model: Any) -> None:
    registry.setdefault(model.__name__, {})[model.__module__] = model
    module, name = model.__module__, model.__name__
    for where in dict.fromkeys((module, app_label_of_module(module))):
        for callback in _pending.pop((where, name), []):
            callback(model)


class Options:
    """The metadata of one model class (``Model._meta``)."""

    def __init__(self, model: Any, meta: Any, fields: list[Field], inherited: Options | None) -> None:
        given = {k: v for k, v in vars(meta).items() if not k.startswith("_")} if meta else {}
        unknown = set(given) - META_OPTIONS
        if unknown:
            raise TypeError(f"{model.__name__}.Meta: unknown option(s) {sorted(unknown)}; valid: {sorted(META_OPTIONS)}")
        self.model = model
        self.abstract = given.get("abstract", False)
        self.table: str = given.get("table") or given.get("db_table") or snake_case(model.__name__)
        self.ordering: tuple[str, ...] = tuple(given.get("ordering", inherited.ordering if inherited else ()))
        latest = given.get("get_latest_by", inherited.get_latest_by if inherited else ())
        #: What latest()/earliest() order by when given no fields.
        self.get_latest_by: tuple[str, ...] = (latest,) if isinstance(latest, str) else tuple(latest)
        self.indexes: list[tuple[str, ...]] = [tuple(i) if not isinstance(i, str) else (i,) for i in given.get("indexes", ())]
        self.unique_together: list[tuple[str, ...]] = [tuple(u) for u in given.get("unique_together", ())]
        self._database: Database | str | None = given.get("database", inherited._database if inherited else None)
        self.fields = fields
        self.field_map: dict[str, Field] = {f.name: f for f in fields}
        #: Fields never serialised (``to_dict()``, JSON responses, response schemas): the
        #: model's public shape leaves them out, so a password hash cannot leak by accident.
        self.serialize_exclude: frozenset[str] = frozenset(given.get("serialize_exclude", inherited.serialize_exclude if inherited else ()))
        #: The fields of that public shape.
        self.public_fields: list[Field] = [f for f in fields if f.name not in self.serialize_exclude]
        self.pk: Field = next(f for f in fields if f.primary_key)
        #: Each foreign key with the instance attribute caching its related object (see ForwardDescriptor).
        self.related_caches: list[tuple[Field, str]] = [(f, f"_rel_{f.relation_name}") for f in fields if f.foreign_key is not None]
        #: Relations by the name lookups use (the query name): forward foreign keys,
        #: reverse ones and many-to-many.
        self.relations: dict[str, Relation] = {}
        #: The same by the name of their attribute on instances (``prefetch_related``).
        self.accessors: dict[str, Relation] = {}
        self.reverse_relations: list[Relation] = []  # foreign keys of other models pointing here
        self.many_to_many: list[Any] = []
        #: Query-building plans for this model's plain-field lookups and orderings
        #: (see sql/query.py): resolved once, reused by every QuerySet.
        self.lookup_plans: dict[str, tuple[Any, ...]] = {}
        self.ordering_plans: dict[tuple[str, ...], tuple[Any, ...]] = {}
        #: QuerySets recorded as a chain of planned steps from ``Model.objects`` (see
        #: "Planned chains" in query.py): (chain key, last step, database, time zone) → the
        #: compiled SQL, found without building or compiling a query.
        self.chain_plans: dict[tuple[Any, ...], Any] = {}
        #: ``filter(**lookups)`` of several planned lookups: their shared condition nodes →
        #: the shared WhereNode that ANDs them (see Query.add_planned_filter).
        self.where_plans: dict[tuple[Any, ...], Any] = {}
        for names in (*self.indexes, *self.unique_together, *(o.lstrip("-") for o in self.ordering), *self.serialize_exclude):
            for name in (names,) if isinstance(names, str) else names:
                if name.split("__")[0] not in self.field_map and name not in ("pk", "?"):
                    raise TypeError(f"{model.__name__}.Meta names an unknown field {name!r}")

    @property
    def database(self) -> Database:
        """``Meta.database`` (a Database or a URL) or the process default."""
        if self._database is None:
            return default_database()
        if isinstance(self._database, str):
            self._database = Database(self._database)
        return self._database

    @property
    def concrete_fields(self) -> list[Field]:
        return self.fields

    def get_field(self, name: str) -> Field | Relation:
        """What Django's ``get_field(name)`` finds: the field called ``name`` (a foreign key
        also by its relation's name: ``category`` as ``category_id``); for a many-to-many or a
        reverse foreign key, its :class:`~hyperdjango.orm.related.Relation` (Django's
        ``ManyToManyField``/``ForeignObjectRel``, with their attributes). Anything else,
        ``pk`` included (as in Django), raises :class:`~hyperdjango.orm.FieldDoesNotExist`
        (a ``FieldError``) with Django's message.

        >>> from hyperdjango import Model
        >>> class Tag(Model):
        ...     name: str = ""
        >>> Tag._meta.get_field("name").name
        'name'
        >>> Tag._meta.get_field("colour")
        Traceback (most recent call last):
        hyperdjango.orm.exceptions.FieldDoesNotExist: Tag has no field named 'colour'
        """
        field = self.field_map.get(name)
        if field is not None:
            return field
        relation = self.relations.get(name)
        # A name starting with "_" is the hidden other side of a relation without an accessor
        # (Django's related_name="+"): it has no name to find it by.
        if relation is None or name.startswith("_"):
            raise FieldDoesNotExist(f"{self.model.__name__} has no field named '{name}'")
        from .related import ForwardRelation

        # A forward foreign key's relation holds the field of this model.
        return relation.field if isinstance(relation, ForwardRelation) else relation

    def column_field(self, name: str) -> Field:
        """``get_field(name)`` where a column is meant (``save(update_fields=...)``,
        ``bulk_update()``...): a relation without a column of this table raises
        :class:`~hyperdjango.orm.FieldDoesNotExist` too."""
        field = self.get_field(name)
        if not isinstance(field, Field):
            raise FieldDoesNotExist(f"{self.model.__name__}.{name} is a relation without a column of its table ({type(field).__name__})")
        return field

    def choices(self, *more: str) -> str:
        """The names a lookup may start with, as Django's "Cannot resolve keyword" error lists
        them: fields, foreign keys by both names, relations by their query names (those without
        an accessor left out, as Django's ``get_fields()`` leaves hidden ones), and ``more``
        (a query's annotations)."""
        return ", ".join(sorted({*self.field_map, *(n for n, r in self.relations.items() if r.accessor_name is not None), *more}))

    def __repr__(self) -> str:
        return f"<Options {self.model.__name__} table={self.table!r}>"
