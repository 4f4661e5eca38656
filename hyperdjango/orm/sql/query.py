"""The query tree a QuerySet builds: tables joined, conditions, ordering, what is selected.

Names are resolved here, when the QuerySet is built: an unknown field or lookup
raises ``FieldError`` at ``filter()``, not when the query runs. Values become
numbered parameters (``params``, in the order they were added); everything else
is the query's ``shape``, derived from its attributes: two queries with the same
shape compile to the same SQL, which is why the compiler can cache by it.

>>> from hyperdjango import Model
>>> from hyperdjango.expressions import Q
>>> class Tea(Model):
...     name: str = ""
>>> q = Query(Tea)
>>> q.add_q(Q(name__startswith="Ass"))
>>> q.params
('Ass',)
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import FieldError, NotSupportedError
from ..expressions import ATOMS, Aggregate, Col, Expression, F, OrderBy, OuterCol, OuterName, Param, Q, identity
from ..lookups import LOOKUPS, PATTERNS, Lookup, apply_transforms, build_lookup, transform_class
from ..window import has_window

if TYPE_CHECKING:
    from ..fields import Field
    from ..related import Step
    from .compiler import SQLCompiler

#: Values whose lookups on a plain column can reuse a plan: the lookup's SQL does
#: not depend on the value, only its parameter does.
PLAIN_VALUES = frozenset({int, float, str, bool, bytes, decimal.Decimal, datetime.datetime, datetime.date, datetime.time, uuid.UUID})
#: Lookups whose parameter is the value as text (see lookups._prepare_rhs).
TEXT_LOOKUPS = PATTERNS | {"iexact", "regex", "iregex"}
PLANNED_LOOKUPS = TEXT_LOOKUPS | {"exact", "gt", "gte", "lt", "lte"}
#: Plans kept per model and kind: orderings taken from requests could otherwise grow it.
MAX_PLANS = 512
#: Conditions kept per plan, one per value type and parameter number.
MAX_NODES_PER_PLAN = 32


#: What a query holds beside its shape: values and their bookkeeping, the database's name
#: (the cache key has the vendor), the model's options (the model is in it).
#: ``ordering_names``: what order_by() was given, kept to resolve again once values() selects
#: one of them (the resolved terms are in the shape).
VALUE_ATTRIBUTES = frozenset({"params", "low_value", "high_value", "vendor", "reuse", "meta", "next_alias", "ordering_names"})
#: FilteredRelation declarations change the SQL only once used, through the joins they make
#: (whose conditions are in the shape); their Q objects hold values.
DECLARATIONS = frozenset({"filtered_relations"})
SHAPELESS = VALUE_ATTRIBUTES | DECLARATIONS | {"model"}  # the model leads the shape


def planned_param(plan: tuple[Any, ...], value: Any) -> Any:
    """The parameter a lookup planned in ``Options.lookup_plans`` binds for ``value``: the
    value itself when it is of the plan's unconverted type (``Field.unconverted_type``)."""
    if type(value) is plan[4]:
        return value
    converted = plan[2].convert(value, exact=True)
    return str(converted) if plan[0] in TEXT_LOOKUPS else converted


class Join:
    """``LEFT JOIN table AS alias ON parent.from_column = alias.to_column``, made for ``step``;
    for a ``FilteredRelation`` (``filtered``: its name) ``AND condition`` too."""

    __slots__ = ("alias", "parent", "step", "table", "from_column", "to_column", "filtered", "condition")

    def __init__(self, alias: int, parent: int, step: Step, filtered: str | None = None) -> None:
        self.alias, self.parent, self.step = alias, parent, step
        self.table = step.model._meta.table
        self.from_column, self.to_column = step.from_field.column, step.to_field.column
        self.filtered = filtered
        self.condition: Expression | None = None

    def __identity__(self) -> tuple[Any, ...]:
        if self.filtered is None:  # most joins: the shape is built for every query
            return (self.alias, self.parent, self.table, self.from_column, self.to_column)
        condition = self.condition.key if self.condition is not None else None
        return (self.alias, self.parent, self.table, self.from_column, self.to_column, self.filtered, condition)


class WhereNode(Expression):
    """Conditions joined by AND, OR or XOR, possibly negated."""

    connector = "AND"
    negated = False

    def __init__(self, children: list[Expression], connector: str = "AND", negated: bool = False) -> None:
        self.children_nodes = children
        if connector != "AND":
            self.connector = connector
        if negated:
            self.negated = negated
        if any(c.contains_aggregate for c in children):
            self.contains_aggregate = True

    def children(self) -> tuple[Expression, ...]:
        return tuple(self.children_nodes)

    def as_sql(self, c: SQLCompiler) -> str:
        parts = [child.as_sql(c) for child in self.children_nodes]
        if self.connector == "XOR":
            # As Django where the database has no XOR: one of them, and an odd number of them
            # (a NULL condition counts as false).
            odd = " + ".join(f"CASE WHEN {p} THEN 1 ELSE 0 END" for p in parts)
            sql = f"({' OR '.join(f'({p})' for p in parts)}) AND ({odd}) % 2 = 1"
            return f"NOT ({sql})" if self.negated else sql
        sql = f" {self.connector} ".join(f"({p})" if len(parts) > 1 else p for p in parts) if parts else "1 = 1"
        return f"NOT ({sql})" if self.negated else sql


class Embedded(Expression):
    """Another query used inside this one (``__in=qs``, ``Subquery``, ``Exists``).

    Its parameters were appended to the outer query's at ``base``; its
    ``OuterRef`` names were resolved against the outer query into ``outer_cols``.
    """

    def __init__(self, inner: Query, base: int, outer_cols: dict[OuterName, Expression], exists: bool) -> None:
        self.inner, self.base, self.outer_cols, self.exists = inner, base, outer_cols, exists

    def as_sql(self, c: SQLCompiler) -> str:
        return c.subquery(self)


class SubqueryColumn(Expression):
    """A column of the subquery ``aggregate()`` wraps a query in: ``"sub"."name"``."""

    def __init__(self, name: str, output_field: Field | None) -> None:
        self.name, self.output_field = name, output_field

    def resolve(self, query: Query) -> Expression:
        return self

    def as_sql(self, c: SQLCompiler) -> str:
        return f'"sub".{c.quote(self.name)}'


class Query:
    """What a QuerySet will run. Mutated only right after ``clone()``, by the QuerySet.

    The attributes below are class-level defaults: an instance holds in its ``__dict__``
    only what was set on it, so ``shape`` (built from that ``__dict__``) walks the few
    attributes a query changed, not all of them. Any attribute set is in the shape.
    """

    # While one filter() call is built: the joins it used, the only multi-valued ones
    # it may reuse (Django's rule). None elsewhere: any join is reused.
    reuse: set[int] | None = None
    next_alias = 1  # of the next join; 0 is the model's own table
    order_by: tuple[OrderBy, ...] = ()
    ordering_names: tuple[Any, ...] = ()
    default_ordering = True
    low: int | None = None  # the parameter number of OFFSET
    # LIMIT's value, written into the SQL: PostgreSQL plans a LIMIT it knows much
    # better than a bound one (a generic plan for "LIMIT $n" was measured 20 % slower).
    limit: int | None = None
    low_value = 0
    high_value: int | None = None
    distinct = False
    distinct_fields: tuple[Expression, ...] = ()  # DISTINCT ON (PostgreSQL)
    standard_ordering = True  # False after reverse()
    hidden: frozenset[str] = frozenset()  # alias(): annotations not selected
    # union()/intersection()/difference(): (operator, this query's own part, the others embedded)
    combined: tuple[str, Query, tuple[Embedded, ...]] | None = None
    loaded: frozenset[str] | None = None  # only()/defer(): the field names read
    values: tuple[tuple[str, Expression], ...] | None = None
    values_kind = "dict"  # or "tuple", "flat"
    group_by_values = False
    # An aggregate annotated: the rows are groups, and Meta.ordering is set aside (Django 3.1+).
    grouped = False
    # values() after values(...).annotate(<aggregate>): the columns it grouped by, kept (as Django)
    grouped_by: tuple[Expression, ...] = ()
    related: tuple[tuple[tuple[str, ...], int, Any], ...] = ()  # select_related: path, alias, model
    for_update: tuple[bool, bool] | None = None
    outer_names: tuple[OuterName, ...] = ()
    updates: tuple[tuple[Field, Expression], ...] = ()
    aggregates: tuple[tuple[str, Expression], ...] = ()
    aggregated_columns: tuple[tuple[str, Expression], ...] = ()  # the subquery's, when wrapped
    vendor: str | None = None  # the database's, once known (for str())
    filtered_relations: dict[str, Any] = {}  # annotate(name=FilteredRelation(...)), by name (never mutated: replaced)

    def __init__(self, model: Any) -> None:
        self.model = model
        self.meta = model._meta
        self.where: list[Expression] = []
        self.params: tuple[Any, ...] = ()
        self.joins: dict[int, Join] = {}  # by alias
        self.annotations: dict[str, Expression] = {}
        if self.meta.ordering:
            self.order_by = self.ordering_terms(self.meta.ordering)

    @classmethod
    def for_model(cls, model: Any) -> Query:
        """The query of ``Model.objects``: one built once per model and shared, so that
        ``Model.objects.filter(...)`` neither resolves ``Meta.ordering`` nor copies a query
        that ``filter()`` copies again. Shared safely because every QuerySet method clones
        the query before changing it."""
        proto = model._meta.__dict__.get("_query_prototype")
        if proto is None:
            proto = model._meta._query_prototype = cls(model)
        return proto

    def clone(self) -> Query:
        new = object.__new__(Query)  # not copy.copy: this runs for every QuerySet method call
        new.__dict__.update(self.__dict__)
        new.where = list(self.where)
        new.joins = dict(self.joins)
        new.annotations = dict(self.annotations)
        return new

    @property
    def shape(self) -> tuple[Any, ...]:
        """The compiled-SQL cache key: every attribute but the values (structural, see
        ``Expression.key``), so that no change to the query can be left out of it."""
        # Atoms and empty containers inline: most attributes are, and this runs for every query.
        return (self.model, *[(n, v if type(v) in ATOMS else identity(v) if v else ()) for n, v in self.__dict__.items() if n not in SHAPELESS])

    def __identity__(self) -> tuple[Any, ...]:
        return self.shape

    def add_param(self, value: Any) -> int:
        self.params += (value,)
        return len(self.params) - 1

    # -- names ------------------------------------------------------------------

    def join(self, parent: int, step: Step, filtered: str | None = None, condition: Q | None = None) -> int:
        """The alias of ``step`` from ``parent``: an existing join when Django would reuse it.

        A single-valued join is always reused. A multi-valued one (reverse foreign key,
        many-to-many) only within the filter() call that made it: ``filter(tags__name="a")
        .filter(tags__name="z")`` joins the tags twice (a book tagged both), while
        ``filter(tags__name="a", tags__id=2)`` means one tag with both properties.
        """
        reuse = self.reuse
        found = None
        for candidate in self.joins.values():  # the most recent match, as Django (a relation joined twice)
            if (candidate.parent == parent and candidate.step == step and candidate.filtered == filtered
                    and (reuse is None or not step.multi or candidate.alias in reuse)):
                found = candidate
        join = found
        if reuse is not None and join is not None:
            reuse.add(join.alias)
        if join is None:
            join = Join(self.next_alias, parent, step, filtered)
            self.joins[join.alias] = join
            self.next_alias += 1
            if reuse is not None:
                reuse.add(join.alias)  # before the condition, whose lookups come back to this join
            if condition is not None:
                join.condition = self.build_condition(condition, split=False)
        return join.alias

    def add_filtered_relation(self, name: str, relation: Any) -> None:
        """``annotate(name=FilteredRelation(...))``: the name, joined when first used."""
        from ..filtered_relation import renamed_condition

        if "." in name:
            raise ValueError(f"FilteredRelation doesn't support aliases with periods (got {name!r}).")
        self.filtered_relations = {**self.filtered_relations, name: (relation.relation_name, renamed_condition(relation, name))}

    def filtered_join(self, name: str, label: str) -> tuple[int, Any]:
        """The alias and model of the FilteredRelation ``name``: its relation's joins, the
        last of them (the related table) with the condition in its ON clause."""
        relation_name, condition = self.filtered_relations[name]
        alias, model = 0, self.model
        parts = relation_name.split("__")
        for i, part in enumerate(parts):
            relation = model._meta.relations.get(part)
            if relation is None:
                raise FieldError(f"{label}: FilteredRelation {name!r}: cannot resolve {part!r} into a relation of "
                                 f"{model.__name__}; choices: {model._meta.choices()}")
            steps = relation.steps()
            for j, step in enumerate(steps):
                last = i == len(parts) - 1 and j == len(steps) - 1
                alias = self.join(alias, step, filtered=name if i == len(parts) - 1 else None, condition=condition if last else None)
            model = relation.target
        return alias, model

    def walk(self, parts: list[str], label: str, forward_only: bool = False) -> tuple[Col | None, int, Any, list[str]]:
        """Follows ``parts`` through relations: (column, alias, model, the parts left over).

        The column is None when the path ends on a relation that could not be
        trimmed (the caller compares the related table's key).
        """
        alias, model = 0, self.model
        i = 0
        if parts[0] in self.filtered_relations:
            alias, model = self.filtered_join(parts[0], label)
            i = 1
            if len(parts) == 1 or parts[1] in LOOKUPS:  # good__isnull=True: a lookup on the related key
                return None, alias, model, parts[1:]
        while i < len(parts):
            meta = model._meta
            name = meta.pk.name if parts[i] == "pk" else parts[i]
            field = meta.field_map.get(name)
            if field is not None:
                return Col(alias, field), alias, model, parts[i + 1 :]
            relation = meta.relations.get(name)
            if relation is None:
                # Django's message, word for word: ported code and tests match it.
                raise FieldError(f"Cannot resolve keyword {parts[i]!r} into field. Choices are: "
                                 f"{meta.choices(*self.annotations, *self.filtered_relations)}")
            if forward_only and relation.multi:
                raise FieldError(f"{label}: {name!r} is not a foreign key of {model.__name__}")
            steps = relation.steps()
            target = relation.target
            following = parts[i + 1] if i + 1 < len(parts) else None
            last = steps[-1]
            ends_at_key = following is None or following == "pk" or following == target._meta.pk.name or (
                following not in target._meta.field_map and following not in target._meta.relations
            )
            if ends_at_key and not last.multi and last.to_field.primary_key and not forward_only:
                # Comparing the related key needs no join: the column on this side holds it.
                for step in steps[:-1]:
                    alias = self.join(alias, step)
                skip = 2 if following in ("pk", target._meta.pk.name) else 1
                return Col(alias, last.from_field), alias, target, parts[i + skip :]
            for step in steps:
                alias = self.join(alias, step)
            model = target
            i += 1
            if ends_at_key and following in LOOKUPS:  # products__isnull=True: a lookup on the related key
                return None, alias, model, parts[i:]
        return None, alias, model, []

    def resolve_ref(self, name: str, label: str | None = None) -> Expression:
        """``F(name)``: an annotation, or a column reached through relations."""
        if name in self.annotations:
            return self.annotations[name]
        col, alias, model, rest = self.walk(name.split("__"), label or name)
        if rest and col is not None and transform_class(col.output_field, rest[0]):  # F("published__year")
            transformed = apply_transforms(col, rest, label or name)
            if not rest:
                return transformed
        if rest:
            raise FieldError(f"{label or name}: {'__'.join(rest)!r} is not a field of {model.__name__}; choices: {model._meta.choices()}")
        return col if col is not None else Col(alias, model._meta.pk)

    def outer_ref(self, name: OuterName) -> Expression:
        """``OuterRef``: a name of the enclosing query (``("outer", name)``: of the one around it)."""
        if name not in self.outer_names:
            self.outer_names += (name,)
        return OuterCol(name)

    def embed(self, inner: Query, exists: bool = False) -> Embedded:
        """``inner`` as a subquery of this query (its parameters appended to ours; its
        ``OuterRef`` names resolved here, or passed on out for ``OuterRef(OuterRef(...))``)."""
        base = len(self.params)
        self.params += inner.params
        outer_cols = {name: self.outer_ref(name[1]) if isinstance(name, tuple) else self.resolve_ref(name) for name in inner.outer_names}
        return Embedded(inner, base, outer_cols, exists)

    def single_output_field(self) -> Field | None:
        if self.values:
            return self.values[0][1].output_field
        return self.meta.pk

    # -- conditions -------------------------------------------------------------

    def build_filter(self, key: str, value: Any, negated: bool = False, branch_negated: bool = False, split: bool = True) -> Expression:
        """The condition ``key=value``. ``negated``: an odd number of ``~`` (or exclude) apply to
        it; ``branch_negated``: any does. Both change the SQL as they change Django's.
        ``split``: whether a negated many-valued lookup is a subquery (see ``build_condition``)."""
        plan = self.meta.lookup_plans.get(key) if type(value) in PLAIN_VALUES else None
        if plan is not None and not (self.annotations and key.split("__", 1)[0] in self.annotations):
            # A lookup on a column of this model's own table, seen before: only the value
            # is new. Same result as the full path below, without resolving the name again.
            lookup = self.planned_lookup(plan, value)
            return self.null_guarded(lookup, plan[1]) if negated and plan[2].null else lookup
        label = f"{self.model.__name__}.objects.filter({key}=...)"
        parts = key.split("__")
        if split and branch_negated and parts[0] not in self.annotations and self.crosses_many(parts):
            return self.split_exclude(key, value)
        if parts[0] in self.annotations:
            return build_lookup(self, self.annotations[parts[0]], parts[1:], value, label)
        col, alias, model, rest = self.walk(parts, label)
        lhs = col if col is not None else Col(alias, model._meta.pk)
        lookup = build_lookup(self, lhs, rest, value, label)
        if (
            type(value) in PLAIN_VALUES
            and len(self.meta.lookup_plans) < MAX_PLANS
            and col is not None
            and col.alias == 0
            and len(rest) <= 1
            and lookup.name in PLANNED_LOOKUPS
            and (not rest or rest[0] == lookup.name)
        ):
            # (lookup, column, field, shared nodes, the type bound as it is: see planned_param)
            unconverted = col.field.unconverted_type if lookup.name not in TEXT_LOOKUPS else None
            self.meta.lookup_plans[key] = (lookup.name, col, col.field, {}, unconverted)
        if negated and lookup.name != "isnull":
            return self.null_guarded(lookup, lhs)
        return lookup

    def planned_lookup(self, plan: tuple[Any, ...], value: Any) -> Lookup:
        """The condition of a planned lookup (``Options.lookup_plans``) for ``value``, its
        parameter added. The condition depends on the value's type and parameter number
        only, so it is built once for each and shared: nodes are not changed once built,
        and a shared one brings its cache key (``Expression.key``) already computed."""
        name, col, field, nodes, _ = plan
        converted = planned_param(plan, value)
        node_key = (type(converted), len(self.params))
        lookup = nodes.get(node_key)
        if lookup is None:
            lookup = Lookup(name, col, Param(node_key[1], node_key[0], field))
            if len(nodes) < MAX_NODES_PER_PLAN:
                nodes[node_key] = lookup
        self.add_param(converted)
        return lookup

    def add_filter(self, lookups: dict[str, Any]) -> None:
        """``filter(**lookups)``: from planned nodes when every lookup is planned, else by the
        full path (the same condition either way)."""
        if not self.add_planned_filter(lookups):
            self.add_q(Q(**lookups))

    def add_planned_filter(self, lookups: dict[str, Any]) -> bool:
        """``filter(**lookups)`` when every lookup is planned and no annotation is named:
        the condition ``add_q(Q(**lookups))`` builds, from shared nodes, and for several
        lookups one shared ``WhereNode`` (``Options.where_plans``), so a filter seen before
        builds nothing and its cache key is already computed. False, with nothing changed,
        when a lookup is not planned."""
        if self.annotations:
            return False
        plans = self.meta.lookup_plans
        items = sorted(lookups.items()) if len(lookups) > 1 else lookups.items()  # Q's order
        for name, value in items:
            if type(value) not in PLAIN_VALUES or name not in plans:
                return False
        nodes = tuple([self.planned_lookup(plans[name], value) for name, value in items])
        if len(nodes) == 1:
            self.where.append(nodes[0])
            return True
        where_plans = self.meta.where_plans
        node = where_plans.get(nodes)
        if node is None:
            node = WhereNode(list(nodes), Q.AND, False)  # as build_condition makes it
            if len(where_plans) < MAX_PLANS:
                where_plans[nodes] = node
        self.where.append(node)
        return True

    @staticmethod
    def null_guarded(lookup: Lookup, column: Col) -> Expression:
        """``lookup AND column IS NOT NULL`` (and the same for a nullable column compared
        with), for use under NOT: so that ``exclude(x)`` keeps the rows where the column is
        NULL, the exact complement of ``filter(x)``, as Django makes it."""
        guards = []
        if column.field.null or column.alias != 0:  # a joined table's column is NULL when no row joins
            guards.append(Lookup("isnull", column, False))
        rhs = lookup.rhs
        if isinstance(rhs, Col) and rhs.field.null:
            guards.append(Lookup("isnull", rhs, False))
        return WhereNode([lookup, *guards]) if guards else lookup

    def crosses_many(self, parts: list[str]) -> bool:
        """Whether the lookup path goes through a reverse foreign key or a many-to-many."""
        model = self.model
        if parts[0] in self.filtered_relations:
            parts = [*self.filtered_relations[parts[0]][0].split("__"), *parts[1:]]
        for part in parts:
            relation = model._meta.relations.get(part)
            if relation is None:
                return False
            if relation.multi:
                return True
            model = relation.target
        return False

    def split_exclude(self, key: str, value: Any) -> Expression:
        """A negated lookup across a many-valued relation, as Django runs it:
        ``pk IN (SELECT pk ... JOIN ... WHERE lookup)``, which the enclosing NOT turns
        into "no related row matches" (a join-then-negate would test each related row).

        When this filter() call already joined the relation the path starts with
        (``filter(Q(books__pages=1) | ~Q(books__tags__name="a"))``), the subquery asks about
        that joined row instead, as Django's (its ``can_reuse`` test in ``split_exclude``):
        an author with a book of one page, or a book without the tag (which row: see
        joined_in_this_call). Not for a test of NULL (``reviews__note=None``): Django's subquery then LEFT JOINs from this model and
        asks about this row.
        """
        parts = key.split("__")
        null_test = value is None or (parts[-1] == "isnull" and bool(value))
        joined = None if null_test else self.joined_in_this_call(parts[0])
        if joined is not None:
            alias, target = joined
            inner = Query(target)
            # The path after the relation, asked of the related row: its key when the path
            # ends on the relation (books=3, books__isnull=False).
            rest = parts[1:]
            key = "__".join(["pk", *rest] if not rest or rest[0] in LOOKUPS else rest)
            row = Col(alias, target._meta.pk)
        else:
            inner = Query(self.model)
            inner.filtered_relations = self.filtered_relations
            row = Col(0, self.meta.pk)
        inner.default_ordering = False
        inner.order_by = ()
        inner.add_q(Q(**{key: value}))
        contains = Lookup("in", row, self.embed(inner))
        # A LEFT JOIN that found no row: no related row, so nothing of it matches.
        return contains if joined is None else WhereNode([Lookup("isnull", row, False), contains])

    def joined_in_this_call(self, name: str) -> tuple[int, Any] | None:
        """The alias and model of the many-valued relation ``name``'s rows to ask about, when the
        current filter() call has joined them already (None otherwise: no join is made here).

        Django's test is by alias name: its subquery names the relation's first table by the
        table's name, and asks about the outer row of that name when this call joined it. That
        is the first join of the table in the query, whichever relation made it
        (``filter(Q(liked__title="x") | ~Q(books__pages=1))`` asks about the liked book).
        """
        relation = self.model._meta.relations.get(name)
        if self.reuse is None or relation is None or not relation.multi or name in self.filtered_relations:
            return None
        first, *rest = relation.steps()
        table = first.model._meta.table
        alias = next((a for a, j in self.joins.items() if j.table == table), None)
        if alias is None or alias not in self.reuse or table == self.meta.table:
            return None
        for step in rest:  # a many-to-many's target, from its link row
            found = [j.alias for j in self.joins.values() if j.parent == alias and j.step == step and j.filtered is None]
            if not found:
                return None
            alias = found[-1]
        return alias, relation.target

    def build_condition(self, q: Q, negated: bool = False, branch_negated: bool = False, split: bool = True) -> Expression:
        """The WHERE tree of ``q``; ``negated`` says whether an odd number of enclosing ``~``
        apply, ``branch_negated`` whether any does (a multi-valued lookup under any NOT is
        a subquery, see ``split_exclude``). ``split=False`` for a Q inside an expression (an
        aggregate's ``filter=``, ``When``, a ``FilteredRelation``'s condition): as Django's
        ``Q.resolve_expression`` (``split_subq=False``), the NOT then tests the joined row."""
        negated ^= q.negated
        branch_negated = branch_negated or q.negated
        children: list[Expression] = []
        for child in q.children:
            if isinstance(child, Q):
                children.append(self.build_condition(child, negated, branch_negated, split))
            elif isinstance(child, Expression):
                resolved = child.resolve(self)  # Exists(...) and boolean expressions
                children.append(resolved)
            else:
                key, value = child  # a (lookup, value) pair
                children.append(self.build_filter(key, value, negated=negated, branch_negated=branch_negated, split=split))
        if len(children) == 1 and not q.negated and q.connector != Q.XOR:
            return children[0]  # the same SQL as a node of one, one node fewer in the cache key
        return WhereNode(children, q.connector, q.negated)

    def add_q(self, q: Q) -> None:
        """One filter()/exclude() call: its conditions, ANDed to the WHERE."""
        self.reuse = set()
        try:
            node = self.build_condition(q)
        finally:
            del self.reuse  # back to the class's None
        self.where.append(node)

    # -- aggregate() -------------------------------------------------------------

    def add_aggregates(self, named: Mapping[str, Expression]) -> None:
        """The aggregates of ``aggregate()``. Over a sliced, distinct or grouped query they
        aggregate its rows as a subquery, as Django does: ``SELECT SUM("sub"."x") FROM (<query>) AS "sub"``;
        so too over window functions, which an aggregate cannot contain."""
        windows = any(has_window(e) for e in (*self.where, *self.annotations.values()))
        if not (self.distinct or self.is_sliced or self.has_aggregate or windows):
            self.aggregates = tuple((name, expr.resolve(self)) for name, expr in named.items())
            for name, expr in self.aggregates:
                if not expr.contains_aggregate:
                    raise TypeError(f"aggregate(): {name} is not an aggregate (Sum, Avg, Count, Min, Max)")
            return
        columns = list(self.selected_columns())
        by_key = {e.key: n for n, e in columns}
        aggregates = []
        for name, aggregate in named.items():
            if not isinstance(aggregate, Aggregate):
                raise NotSupportedError(f"aggregate({name}=...): over a sliced, distinct or grouped QuerySet, "
                                        "each value must be one aggregate (Sum, Avg, Count, Min, Max), not a combination")
            outer = aggregate._copy()
            if not getattr(aggregate, "star", False):
                outer.source = []
                for source in aggregate.source:
                    joined = set(self.joins)
                    resolved = source.resolve(self)
                    column = by_key.get(resolved.key)
                    if column is None:
                        # A new column must not change the rows being aggregated: not the ones
                        # DISTINCT or GROUP BY compare, and no join that repeats a row per related row.
                        if self.distinct or self.group_by_values or any(self.joins[a].step.multi for a in set(self.joins) - joined):
                            raise FieldError(f"aggregate({name}=...): over this QuerySet an aggregate may only use its selected "
                                             f"columns ({', '.join(n for n, _ in columns)}) and single-valued relations, or the "
                                             "rows it aggregates would change; annotate() what you need first")
                        column = by_key[resolved.key] = f"__agg{len(columns)}"
                        columns.append((column, resolved))
                    outer.source.append(SubqueryColumn(column, resolved.output_field))
            aggregates.append((name, outer.resolve(self)))
        self.aggregates = tuple(aggregates)
        self.aggregated_columns = tuple(columns)

    def selected_columns(self) -> tuple[tuple[str, Expression], ...]:
        """What a SELECT of this query returns, by name (the rows that ``distinct()`` compares)."""
        if self.values is not None:
            return self.values
        fields = [f for f in self.meta.fields if self.loaded is None or f.name in self.loaded]
        return (*((f.name, Col(0, f)) for f in fields), *self.annotations.items())

    # -- ordering ---------------------------------------------------------------

    def planned_ordering(self, names: tuple[Any, ...]) -> tuple[OrderBy, ...]:
        """``ordering_terms``, reused for names of this model's own columns (no join, no
        annotation): their resolved terms are the same for every query of the model."""
        if self.values is not None:  # a name values() selects is its column (see related_ordering): not this model's plan
            return self.ordering_terms(names)
        plans = self.meta.ordering_plans
        terms = plans.get(names)  # keys hold str only; expressions hash by identity and never match
        if terms is not None and not (self.annotations and any(name.lstrip("-+") in self.annotations for name in names)):
            return terms
        joins = self.next_alias
        terms = self.ordering_terms(names)
        if (
            self.next_alias == joins
            and len(plans) < MAX_PLANS
            and all(type(name) is str and name != "?" and name.lstrip("-+") not in self.annotations for name in names)
            and all(isinstance(t.expression, Col) and t.expression.alias == 0 for t in terms)
        ):
            plans[names] = terms
        return terms

    def ordering_terms(self, names: Any) -> tuple[OrderBy, ...]:
        terms = []
        for item in names:
            if isinstance(item, OrderBy):
                terms.append(item.resolve(self))
            elif isinstance(item, Expression):
                terms.append(OrderBy(item).resolve(self))
            elif isinstance(item, str):
                if item == "?":
                    terms.append(OrderBy(_Random()).resolve(self))
                    continue
                descending = item.startswith("-")
                name = item.lstrip("-+")
                if not name:
                    raise FieldError(f"order_by({item!r}): empty field name")
                terms.extend(OrderBy(F(n), d).resolve(self) for n, d in self.related_ordering(name, descending))
            else:
                raise FieldError(f"order_by takes field names or expressions, not {item!r}")
        return tuple(terms)

    def related_ordering(self, name: str, descending: bool, seen: frozenset = frozenset()) -> list[tuple[str, bool]]:
        """``order_by("author")`` as Django runs it: by the related model's ``Meta.ordering``
        (each term's direction flipped by the ``-``), or by its key when it has none."""
        if name in self.annotations or self.values is not None and any(name == n for n, _ in self.values):
            # A selected name (an annotation, or a field of values()) is its column (Django 5.2's
            # PositionRef), not the related model's ordering.
            return [(name, descending)]
        model = self.model
        relation = None
        for part in name.split("__"):
            if model is None:
                return [(name, descending)]
            relation = model._meta.relations.get(part)
            model = relation.target if relation is not None else None
        if relation is None or relation.multi or not relation.target._meta.ordering or relation.target in seen:
            return [(name, descending)]
        expanded = []
        for term in relation.target._meta.ordering:
            if not isinstance(term, str) or term == "?":
                return [(name, descending)]
            sub = term.lstrip("-+")
            flipped = descending != term.startswith("-")
            expanded += self.related_ordering(f"{name}__{sub}", flipped, seen | {relation.target})
        return expanded

    def set_ordering(self, names: Any) -> None:
        self.order_by = self.planned_ordering(tuple(names))
        self.ordering_names = tuple(names)
        self.default_ordering = False

    def order_by_selected(self) -> None:
        """values() after order_by(): the ordering's names resolved again, as Django resolves
        them when it compiles: a name values() selects orders by its column
        (``order_by("author").values("author")`` is by ``author_id``), one it no longer
        selects by the related model's ``Meta.ordering`` again."""
        if self.ordering_names:
            self.order_by = self.ordering_terms(self.ordering_names)

    def reverse_ordering(self) -> None:
        terms = self.order_by or (OrderBy(Col(0, self.meta.pk)),)
        self.order_by = tuple(OrderBy(t.expression, not t.descending).resolve(self) for t in terms)
        self.ordering_names = ()
        self.default_ordering = False

    # -- limits -----------------------------------------------------------------

    def set_limits(self, low: int | None, high: int | None) -> None:
        """Applies a slice on top of any earlier one, as Python slicing of a slice would."""
        new_low, new_high, self.limit = slice_limits(self.low_value, self.high_value, low, high)
        self.low_value, self.high_value = new_low, new_high
        self.low = self.add_param(new_low) if new_low else None

    @property
    def ordered(self) -> bool:
        """Whether the rows come in a defined order: an ``order_by()``, or ``Meta.ordering``
        unless a grouping by an annotated aggregate sets it aside (Django 3.1+)."""
        return bool(self.order_by) and not (self.default_ordering and self.grouped)

    def limit_to_first(self) -> None:
        """What ``first()`` runs: the query's order (by key when it has none), one row."""
        if not self.ordered:
            self.set_ordering(("pk",))
        self.set_limits(None, 1)

    def limit_for_get(self) -> None:
        """What ``get()`` runs: no ordering, two rows (enough to tell "several"), unless sliced."""
        if not self.is_sliced:
            self.set_ordering(())
            self.set_limits(0, 2)

    @property
    def is_sliced(self) -> bool:
        return self.low is not None or self.limit is not None

    def __str__(self) -> str:
        """The SELECT with parameters written in (for reading; the database gets them bound)."""
        from ..backends import operations_for
        from .compiler import compile_query, render

        vendor = self.vendor
        if vendor is None:
            try:
                vendor = self.meta.database.vendor
            except RuntimeError:  # no database configured yet: show PostgreSQL's spelling
                vendor = "postgresql"
        compiled = compile_query(self, "select", operations_for(vendor))
        return render(compiled.sql, compiled.params(self.params))

    @property
    def has_aggregate(self) -> bool:
        return any(e.contains_aggregate for e in self.annotations.values()) or any(w.contains_aggregate for w in self.where)


def slice_limits(low_value: int, high_value: int | None, low: int | None, high: int | None) -> tuple[int, int | None, int | None]:
    """``[low:high]`` applied to rows ``[low_value:high_value]``: the new bounds, and the
    LIMIT written into the SQL (None: no LIMIT). OFFSET is bound when the low bound is not 0."""
    new_low = low_value + (low or 0)
    new_high = high_value
    if high is not None:
        new_high = low_value + high if new_high is None else min(new_high, low_value + high)
    if new_high is not None:
        new_high = max(new_high, new_low)
    return new_low, new_high, new_high - new_low if new_high is not None else None


class _Random(Expression):
    def resolve(self, query: Query) -> Expression:
        return self

    def as_sql(self, c: SQLCompiler) -> str:
        return "RANDOM()"
