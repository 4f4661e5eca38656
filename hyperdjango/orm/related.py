"""Relations: foreign keys both ways, many-to-many, and their managers.

A foreign key field ``category_id`` gives the relation ``category`` (forward) on
its model and ``products`` (its ``related_name``) on the target. The other side of
a relation has two names, as in Django: its accessor on instances (``related_name``,
else ``<model>_set``: ``category.product_set``) and its query name in lookup paths
(``related_query_name``, else ``related_name``, else ``<model>``:
``Category.objects.filter(product__price__gt=5)``). Reading a
forward relation never queries: it is loaded by ``select_related``,
``prefetch_related`` or ``await obj.fetch_related("category")``, and otherwise
raises ``RelatedNotLoaded`` saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from .exceptions import RelatedNotLoaded
from .fields import MISSING, Field
from .manager import Manager
from .signals import m2m_changed
from .options import app_label, snake_case, when_defined

if TYPE_CHECKING:
    from .query import QuerySet


@dataclass(frozen=True)
class Step:
    """One join: from ``from_field`` (on the previous table) to ``to_field`` of ``model``."""

    model: Any
    from_field: Field
    to_field: Field
    multi: bool  # may match several rows (reverse foreign key, many-to-many)


class Relation:
    """A named way from one model to another, as lookups and ``select_related`` walk it.

    ``name`` is its query name (what lookup paths say), ``accessor_name`` the attribute of
    instances that reads it (None when hidden, Django's ``related_name="+"``); the two
    differ only on the other side of a relation.

    What ``Model._meta.get_field()`` returns for a reverse foreign key or a many-to-many
    name, with the attributes ported code reads on Django's ``ForeignObjectRel`` and
    ``ManyToManyField``: ``model``, ``related_model``, ``is_relation``, ``concrete``,
    ``auto_created``, ``many_to_many``, ``one_to_many``, ``many_to_one``, ``one_to_one``.
    """

    multi = False
    name = ""
    accessor_name: str | None = None
    is_relation = True
    concrete = False  # no column of this model's table
    auto_created = True  # made by the declaration on the other side
    one_to_one = False
    many_to_one = False
    one_to_many = False
    many_to_many = False

    @property
    def target(self) -> Any:
        raise NotImplementedError

    @property
    def related_model(self) -> Any:
        """The model at the other end (Django's name)."""
        return self.target

    def get_accessor_name(self) -> str | None:
        """The attribute of instances that reads this relation (Django's name); a hidden
        relation answers its ``related_name`` as Django keeps it (ending in ``+``)."""
        return self.accessor_name

    def steps(self) -> tuple[Step, ...]:
        raise NotImplementedError


class ForwardRelation(Relation):
    """``product.category``: the row a foreign key points to."""

    many_to_one = True
    concrete = True
    auto_created = False

    def __init__(self, field: Field) -> None:
        self.field = field
        self.name = self.accessor_name = field.relation_name or ""

    @property
    def target(self) -> Any:
        return self.field.related_model

    @property
    def model(self) -> Any:
        return self.field.model

    def steps(self) -> tuple[Step, ...]:
        return (Step(self.target, self.field, self.target._meta.pk, False),)


class ReverseRelation(Relation):
    """``category.products``: the rows whose foreign key points here."""

    multi = True
    one_to_many = True

    def __init__(self, field: Field, name: str, accessor_name: str | None) -> None:
        self.field = field  # the foreign key on the other model
        self.name = name
        self.accessor_name = accessor_name

    @property
    def target(self) -> Any:
        return self.field.model

    @property
    def model(self) -> Any:
        return self.field.related_model

    @property
    def remote_field(self) -> Field:
        """The foreign key on the other model (Django's ``ManyToOneRel.remote_field``)."""
        return self.field

    def get_accessor_name(self) -> str | None:
        return self.accessor_name or self.field.related_name

    def steps(self) -> tuple[Step, ...]:
        return (Step(self.field.model, self.field.related_model._meta.pk, self.field, True),)


class ManyToManyRelation(Relation):
    """``product.tags`` / ``tag.products``: rows linked through a through table."""

    multi = True
    many_to_many = True

    def __init__(self, declaration: ManyToMany, forward: bool, name: str, accessor_name: str | None) -> None:
        self.declaration = declaration
        self.forward = forward
        self.name = name
        self.accessor_name = accessor_name
        # The declaring side is Django's ManyToManyField (concrete, declared), the other its ManyToManyRel.
        self.concrete = forward
        self.auto_created = not forward

    def get_accessor_name(self) -> str | None:
        d = self.declaration
        if self.accessor_name is not None or d.symmetrical:  # a symmetrical one has none, as in Django
            return self.accessor_name
        # Django renames a hidden many-to-many's related_name so that two never clash.
        return f"_{app_label(d.model)}_{d.model.__name__.lower()}_{d.name}_+"

    @property
    def source_fk(self) -> Field:
        d = self.declaration
        return d.source_fk if self.forward else d.target_fk

    @property
    def target_fk(self) -> Field:
        d = self.declaration
        return d.target_fk if self.forward else d.source_fk

    @property
    def target(self) -> Any:
        return self.target_fk.related_model

    @property
    def model(self) -> Any:
        return self.source_fk.related_model

    @property
    def remote_field(self) -> Relation:
        """The same relation seen from the other side."""
        return self.target._meta.relations[self.counterpart]

    @property
    def through(self) -> Any:
        return self.declaration.through

    @property
    def counterpart(self) -> str:
        """The query name of the same relation seen from the other side."""
        d = self.declaration
        return d.reverse_query_name if self.forward else d.name

    def steps(self) -> tuple[Step, ...]:
        source = self.source_fk.related_model
        return (
            Step(self.through, source._meta.pk, self.source_fk, True),
            Step(self.target, self.target_fk, self.target._meta.pk, False),
        )


# -- declarations ------------------------------------------------------------------


def reverse_names(model: Any, related_name: str | None, related_query_name: str | None) -> tuple[str | None, str | None]:
    """``(accessor, query name)`` of the other side of a relation declared on ``model``, as
    Django names them; None for a hidden one (a ``related_name`` ending in ``+``: no
    accessor, and no query name unless ``related_query_name`` gives one).

    >>> class BlogPost: ...
    >>> reverse_names(BlogPost, None, None), reverse_names(BlogPost, "posts", None)
    (('blogpost_set', 'blogpost'), ('posts', 'posts'))
    >>> reverse_names(BlogPost, "+", None), reverse_names(BlogPost, "+", "post")
    ((None, None), (None, 'post'))
    """
    model_name = model.__name__.lower()  # Django's _meta.model_name
    if related_name and related_name.endswith("+"):
        return None, related_query_name
    return related_name or f"{model_name}_set", related_query_name or related_name or model_name


def add_relation(model: Any, relation: Relation, descriptor: Any) -> None:
    """Makes ``relation`` known to ``model``: lookups find it by its query name,
    instances and ``prefetch_related`` by its accessor."""
    meta = model._meta
    meta.relations[relation.name] = relation
    if relation.accessor_name is not None:
        meta.accessors[relation.accessor_name] = relation
        setattr(model, relation.accessor_name, descriptor)


def contribute_foreign_key(model: Any, field: Field) -> None:
    """Adds the forward relation and, once the target exists, the reverse one."""
    relation = ForwardRelation(field)
    add_relation(model, relation, ForwardDescriptor(field))

    def add_reverse(target: Any) -> None:
        accessor, query_name = reverse_names(model, field.related_name, field.related_query_name)
        # A hidden one without a query name (through tables' keys) is still walked by deletions.
        reverse = ReverseRelation(field, query_name or "", accessor)
        target._meta.reverse_relations.append(reverse)
        if query_name is not None:
            add_relation(target, reverse, ReverseDescriptor(reverse))

    when_defined(field.foreign_key, model, add_reverse)


class ManyToMany:
    """A many-to-many relation: ``tags = ManyToMany("Tag", related_name="products")``.

    Without ``through`` a link table ``<table>_<name>`` is made (a model, so
    ``create_tables`` creates it with the model); ``through=Model`` uses a
    model with a foreign key to each side. ``await product.tags.add(tag)``,
    ``remove``, ``set``, ``clear``, ``await product.tags.all()``.

    ``ManyToMany("self")`` is symmetrical, as in Django: ``await ann.friends.add(bob)``
    makes Bob Ann's friend and Ann Bob's (and there is no reverse accessor);
    ``symmetrical=False`` makes it one-way (followers) with a reverse accessor.

    The other side is named as in Django: ``related_name`` (else ``<model>_set``) on its
    instances, ``related_query_name`` (else ``related_name``, else ``<model>``) in lookups.
    """

    def __init__(self, to: Any, *, related_name: str | None = None, related_query_name: str | None = None, through: Any = None,
                 symmetrical: bool | None = None) -> None:
        self.to = to
        self.related_name = related_name
        self.related_query_name = related_query_name
        #: The other side's query name (named once the target is defined).
        self.reverse_query_name = ""
        self.through = through
        self.symmetrical = to == "self" if symmetrical is None else symmetrical
        self.model: Any = None
        self.name = ""
        self.source_fk: Any = None
        self.target_fk: Any = None
        self.reverse: ManyToManyRelation | None = None  # the other side, once linked

    if TYPE_CHECKING:
        # The model class replaces the declaration by a ManyToManyDescriptor: reading the
        # attribute gives the descriptor on the class and a manager on an instance.
        @overload
        def __get__(self, instance: None, owner: type[Any]) -> ManyToManyDescriptor: ...
        @overload
        def __get__(self, instance: object, owner: type[Any]) -> ManyToManyManager: ...
        def __get__(self, instance: object, owner: type[Any]) -> ManyToManyDescriptor | ManyToManyManager:
            raise NotImplementedError  # read by the type checker only

    def contribute(self, model: Any, name: str) -> None:
        self.model, self.name = model, name
        if self.symmetrical and self.to not in ("self", model):
            raise TypeError(f"{model.__name__}.{name}: symmetrical=True is for a relation of a model to itself")
        when_defined(self.to, model, self._target_defined)

    def _target_defined(self, target: Any) -> None:
        if self.through is None:
            self.through = self._make_through(target)
            self._link(target, self.through)
        else:
            when_defined(self.through, self.model, lambda through: self._link(target, through))

    def _make_through(self, target: Any) -> Any:
        from .models import Model

        source_name, target_name = snake_case(self.model.__name__), snake_case(target.__name__)
        if source_name == target_name:
            source_name, target_name = f"from_{source_name}", f"to_{target_name}"
        src, dst = f"{source_name}_id", f"{target_name}_id"
        pk_type = lambda m: m._meta.pk.python_type  # noqa: E731
        attrs = {
            "__module__": self.model.__module__,
            "__annotations__": {src: pk_type(self.model), dst: pk_type(target)},
            src: Field(foreign_key=self.model, on_delete="CASCADE", related_name="+"),
            dst: Field(foreign_key=target, on_delete="CASCADE", related_name="+"),
            "Meta": type("Meta", (), {"table": f"{self.model._meta.table}_{self.name}", "unique_together": [(src, dst)],
                                      "database": self.model._meta._database}),
        }
        name = f"{self.model.__name__}{''.join(p.title() for p in self.name.split('_'))}Through"
        model_class: Any = type(Model)  # ModelMeta, which builds a model from these attributes
        return model_class(name, (Model,), attrs)

    def _link(self, target: Any, through: Any) -> None:
        self.through = through
        fks = [f for f in through._meta.fields if f.foreign_key is not None]
        self.source_fk = next(f for f in fks if f.related_model is self.model)
        self.target_fk = next(f for f in fks if f.related_model is target and f is not self.source_fk)
        forward = ManyToManyRelation(self, True, self.name, self.name)
        add_relation(self.model, forward, ManyToManyDescriptor(forward))
        # A symmetrical relation is its own reverse: Django gives it no accessor on the other side.
        hidden = "+" if self.symmetrical else self.related_name
        accessor, query_name = reverse_names(self.model, hidden, self.related_query_name)
        # A hidden side still needs a query name for the managers' lookups: one starting with
        # "_", which get_field() and error messages leave out.
        self.reverse_query_name = query_name or f"_{snake_case(self.model.__name__)}_{self.name}"
        self.reverse = reverse = ManyToManyRelation(self, False, self.reverse_query_name, accessor)
        add_relation(target, reverse, ManyToManyDescriptor(reverse))
        self.model._meta.many_to_many.append(self)


def check_related_saved(obj: Any, operation: str, fields: Any = None) -> None:
    """Refuses to write ``obj`` while a foreign key (of ``fields``, else any) holds an unsaved
    instance, whose missing key would be written as NULL: Django's ``ValueError`` "save()
    prohibited to prevent data loss due to unsaved related object 'x'.". A related object
    saved after it was assigned gives its key now, as in Django."""
    d = obj.__dict__
    for field, cache_key in obj._meta.related_caches:
        related = d.get(cache_key)
        if related is None or fields is not None and field not in fields:
            continue
        key = related.pk
        if key is None:
            raise ValueError(f"{operation}() prohibited to prevent data loss due to unsaved related object '{field.relation_name}'.")
        if d.get(field.name) is None:
            d[field.name] = key
        elif key != d[field.name]:  # the key was changed since: the object is no longer the one related
            del d[cache_key]


# -- descriptors --------------------------------------------------------------------


class ForwardDescriptor:
    """``product.category``: the loaded object, None for a NULL key, or a RelatedNotLoaded error."""

    def __init__(self, field: Field) -> None:
        self.field = field
        self.name = field.relation_name or ""
        self.cache_key = "_rel_" + self.name

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        d = instance.__dict__
        key = d.get(self.field.name)
        cached = d.get(self.cache_key, MISSING)
        if cached is not MISSING and (cached.pk == key if cached is not None else key is None):
            return cached
        if key is None:
            return None
        raise RelatedNotLoaded(
            f"{type(instance).__name__}.{self.name} is not loaded (reading it would query the database): "
            f"use .select_related({self.name!r}) or await obj.fetch_related({self.name!r})"
        )

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.name] = None if value is None else value.pk
        instance.__dict__[self.cache_key] = value


class ReverseDescriptor:
    """``category.products``: a manager of the rows pointing at this one."""

    def __init__(self, relation: ReverseRelation) -> None:
        self.relation = relation

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return ReverseManager(instance, self.relation)


class ManyToManyDescriptor:
    """``product.tags``: a manager of the linked rows, with add/remove/set/clear."""

    def __init__(self, relation: ManyToManyRelation) -> None:
        self.relation = relation

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return ManyToManyManager(instance, self.relation)


def _key_of(obj: Any) -> Any:
    key = obj.pk if hasattr(obj, "_meta") else obj
    if key is None:
        raise ValueError(f"{obj!r} has no primary key yet: save it first")
    return key


class RelatedManagerBase(Manager):
    """A manager whose QuerySet is limited to the rows related to one instance."""

    def __init__(self, instance: Any, relation: Relation) -> None:
        super().__init__()
        self.instance = instance
        self.relation = relation
        self.model = relation.target

    def _database(self) -> Any:
        return self.instance._state_db()

    def base_filter(self) -> dict[str, Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        qs = super().get_queryset().using(self._database()).filter(**self.base_filter())
        prefetched = self.instance.__dict__.get(f"_pf_{self.relation.accessor_name}")
        if prefetched is not None:
            qs._prefetched = prefetched
        return qs


class ReverseManager(RelatedManagerBase):
    """``category.products``: ``all()``, ``filter()``, ``create()``, ``add()`` ... of the rows pointing here."""

    relation: ReverseRelation

    def base_filter(self) -> dict[str, Any]:
        return {self.relation.field.name: _key_of(self.instance)}

    async def create(self, **kwargs: Any) -> Any:
        """Creates a row pointing at this instance."""
        kwargs[self.relation.field.name] = _key_of(self.instance)
        return await self.model.objects.using(self._database()).create(**kwargs)

    async def add(self, *objs: Any) -> None:
        """Points ``objs`` (saved instances) at this instance."""
        key = _key_of(self.instance)
        fk = self.relation.field.name
        await self.model.objects.using(self._database()).filter(pk__in=[_key_of(o) for o in objs]).update(**{fk: key})
        for obj in objs:
            obj.__dict__[fk] = key

    async def remove(self, *objs: Any) -> None:
        """Sets the key of ``objs`` to NULL (the foreign key must allow it)."""
        self._require_null()
        fk = self.relation.field.name
        await self.get_queryset().filter(pk__in=[_key_of(o) for o in objs]).update(**{fk: None})
        for obj in objs:
            obj.__dict__[fk] = None

    async def clear(self) -> None:
        """Sets the key of every related row to NULL (the foreign key must allow it)."""
        self._require_null()
        await self.get_queryset().update(**{self.relation.field.name: None})

    def _require_null(self) -> None:
        if not self.relation.field.null:
            raise ValueError(f"{self.relation.field!r} is not nullable: delete the rows instead")


class ManyToManyManager(RelatedManagerBase):
    """``product.tags``: the linked rows; ``add``, ``remove``, ``set``, ``clear`` change the links."""

    relation: ManyToManyRelation

    def base_filter(self) -> dict[str, Any]:
        return {self.relation.counterpart: _key_of(self.instance)}

    def _links(self) -> Any:
        return self.relation.through.objects.using(self._database())

    @property
    def _symmetrical(self) -> bool:
        return self.relation.declaration.symmetrical

    async def _changed(self, action: str, pk_set: set[Any] | None) -> None:
        if m2m_changed.has_listeners(self.relation.through):
            await m2m_changed.asend(self.relation.through, instance=self.instance, action=action, reverse=not self.relation.forward,
                                    model=self.relation.target, pk_set=pk_set, using=self._database())

    async def add(self, *objs: Any) -> None:
        """Links ``objs`` (instances or keys); links that exist already are kept as they are.
        On a symmetrical relation each link is made both ways."""
        key = _key_of(self.instance)
        src, dst = self.relation.source_fk.name, self.relation.target_fk.name
        through = self.relation.through
        keys = {_key_of(o) for o in objs}
        pairs = {(key, k) for k in keys}
        if self._symmetrical:
            pairs |= {(b, a) for a, b in pairs}
        rows = [through(**{src: a, dst: b}) for a, b in sorted(pairs, key=repr)]
        await self._changed("pre_add", keys)
        await self._links().bulk_create(rows, ignore_conflicts=True)
        await self._changed("post_add", keys)

    async def remove(self, *objs: Any) -> None:
        """Unlinks ``objs`` (instances or keys), both ways on a symmetrical relation."""
        src, dst = self.relation.source_fk.name, self.relation.target_fk.name
        key, others = _key_of(self.instance), [_key_of(o) for o in objs]
        await self._changed("pre_remove", set(others))
        await self._links().filter(**{src: key, f"{dst}__in": others}).delete()
        if self._symmetrical:
            await self._links().filter(**{dst: key, f"{src}__in": others}).delete()
        await self._changed("post_remove", set(others))

    async def clear(self) -> None:
        """Removes every link of this instance (both ways on a symmetrical relation)."""
        key = _key_of(self.instance)
        await self._changed("pre_clear", None)
        await self._links().filter(**{self.relation.source_fk.name: key}).delete()
        if self._symmetrical:
            await self._links().filter(**{self.relation.target_fk.name: key}).delete()
        await self._changed("post_clear", None)

    async def set(self, objs: Any) -> None:
        """Makes ``objs`` exactly the linked rows (one transaction)."""
        from ..database import atomic

        wanted = {_key_of(o) for o in objs}
        src, dst = self.relation.source_fk.name, self.relation.target_fk.name
        async with atomic(self._database()):
            current = set(await self._links().filter(**{src: _key_of(self.instance)}).values_list(dst, flat=True))
            if current - wanted:
                await self.remove(*(current - wanted))
            if wanted - current:
                await self.add(*(wanted - current))
