"""SQL from a query tree, compiled once per shape and cached.

``compile_query(query, kind, ops)`` looks up ``(vendor, kind, query.shape)`` (and the
current time zone, which date functions compile in); on
a miss, ``SQLCompiler`` writes the SQL and records its *plan*: for each ``$n``
in the text, which of the query's parameters goes there (and how the backend
adapts it, e.g. into a LIKE pattern). A hit costs a dict lookup and picking the
parameters. The row reader (rows → instances, dicts or tuples) is cached with
the SQL, so reading needs no per-field decisions either.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..._core import InstanceReader, PlannedRead
from ...timezone import current_zone_token
from ..exceptions import NotSupportedError
from ..expressions import Col, Expression, OrderBy, OuterName
from ..window import has_window, split_qualify, window_group_by

if TYPE_CHECKING:
    from ..backends.base.operations import BaseOperations
    from .query import Embedded, Query

#: (vendor, kind, shape, current time zone) → Compiled. Bounded: emptied when it grows past MAX_CACHED.
_cache: dict[Any, Compiled] = {}
MAX_CACHED = 4096


class Compiled:
    """SQL text, where its parameters come from, and how to read its rows."""

    __slots__ = ("sql", "plan", "reader", "in_order", "read")

    def __init__(self, sql: str, plan: list[tuple[int, Any]], reader: Callable[[list[Any]], list[Any]] | None) -> None:
        self.sql, self.plan, self.reader = sql, plan, reader
        #: Where this query starts on a database with its parameters (the driver's awaitable):
        #: the caller's transaction or the pool is the driver's choice, made there.
        self.read = PlannedRead(sql, reader if type(reader) is InstanceReader else None)
        #: How many values a query binds when its parameters are those values as they are, in
        #: order (most queries); -1 when they are not. ``len(values) == in_order`` says both.
        self.in_order = len(plan) if all(i == n and adapt is None for n, (i, adapt) in enumerate(plan)) else -1

    def params(self, values: tuple[Any, ...] | list[Any]) -> list[Any]:
        if len(values) == self.in_order:
            return list(values)
        return [values[i] if adapt is None else adapt(values[i]) for i, adapt in self.plan]

    def fetch(self, db: Any, params: Sequence[Any]) -> Awaitable[list[Any]]:
        """The rows of this query on ``db``, read. Rows of the model's own columns are
        read into instances by the driver (no ``Row`` objects, no coroutine of ours)."""
        if type(self.reader) is InstanceReader:
            return self.read.rows(db, params)
        return self._query_and_read(db, params)

    async def _query_and_read(self, db: Any, params: Sequence[Any]) -> list[Any]:
        assert self.reader is not None  # only queries with rows are fetched
        return self.reader(await db.query(self.sql, *params))

    def fetch_first(self, db: Any, params: Sequence[Any], several: tuple[Any, ...] | None) -> Any:
        """The first row of this query on ``db`` read, or None: for rows of the model's own
        columns the driver's awaitable, finished in Rust with the one instance. With
        ``several``, ``(make_error, *args)``, more than one row fails with ``make_error(*args)``."""
        if type(self.reader) is InstanceReader:
            return self.read.first(db, params, several)
        return self._query_and_read_first(db, params, several)

    async def _query_and_read_first(self, db: Any, params: Sequence[Any], several: tuple[Any, ...] | None) -> Any:
        rows = await self._query_and_read(db, params)
        if several is not None and len(rows) > 1:
            raise several[0](*several[1:])
        return rows[0] if rows else None


def compile_query(query: Query, kind: str, ops: BaseOperations) -> Compiled:
    """The cached compilation of ``query`` for ``kind`` (select, count, exists, update, delete, aggregate)."""
    # The current time zone is part of the SQL of date functions given no tzinfo= (Django
    # resolves it when compiling, so do we): SQL compiled in one zone is not another's.
    key = (ops.vendor, kind, query.shape, current_zone_token())
    compiled = _cache.get(key)
    if compiled is None:
        compiled = SQLCompiler(query, ops).compile(kind)
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        _cache[key] = compiled
    return compiled


class SQLCompiler:
    """Turns one query (and the subqueries inside it) into SQL."""

    def __init__(self, query: Query, ops: BaseOperations, parent: SQLCompiler | None = None, embedded: Embedded | None = None) -> None:
        self.query = query
        self.ops = ops
        self.quote = ops.quote
        self.parent = parent
        self.base = embedded.base if embedded is not None else 0
        self.outer_cols = embedded.outer_cols if embedded is not None else {}
        # Table aliases: t0, t1 ... outside; u0 ... in a subquery; v0 ... below that.
        self.prefix: str = "t" if parent is None else chr(ord(parent.prefix) + 1)
        self.plan: list[tuple[int, Any]] = []
        self._conditions: tuple[list[Expression], Expression | None] | None = None

    # -- pieces nodes ask for --------------------------------------------------------

    def alias(self, number: int) -> str:
        return f'"{self.prefix}{number}"'

    def param(self, index: int, adapt: Any = None) -> str:
        if self.parent is not None:
            return self.parent.param(self.base + index, adapt)
        self.plan.append((index, adapt))
        return f"${len(self.plan)}"

    def outer_col(self, name: OuterName) -> str:
        if self.parent is None:
            raise NotSupportedError(f"OuterRef({name!r}) is only meaningful inside Subquery() or Exists()")
        return self.outer_cols[name].as_sql(self.parent)

    def subquery(self, embedded: Embedded) -> str:
        return SQLCompiler(embedded.inner, self.ops, self, embedded).select(subquery=True, exists=embedded.exists)[0]

    # -- clauses ----------------------------------------------------------------------

    def from_clause(self) -> str:
        q, quote = self.query, self.quote
        sql = f"{quote(q.meta.table)} AS {self.alias(0)}"
        for join in q.joins.values():
            sql += (
                f" LEFT JOIN {quote(join.table)} AS {self.alias(join.alias)} ON "
                f"{self.alias(join.parent)}.{quote(join.from_column)} = {self.alias(join.alias)}.{quote(join.to_column)}"
            )
            if join.condition is not None:  # a FilteredRelation's
                sql += f" AND ({join.condition.as_sql(self)})"
        return sql

    def conditions(self) -> tuple[list[Expression], Expression | None]:
        """The query's own conditions (WHERE and HAVING), and those on window functions, which
        filter its rows from outside (see ``qualified``)."""
        if self._conditions is None:
            where = self.query.where
            self._conditions = split_qualify(where, self.query.has_aggregate) if any(has_window(w) for w in where) else (where, None)
        return self._conditions

    def where_clause(self) -> str:
        conditions = [w for w in self.conditions()[0] if not w.contains_aggregate]
        return " WHERE " + " AND ".join(f"({w.as_sql(self)})" if len(conditions) > 1 else w.as_sql(self) for w in conditions) if conditions else ""

    def having_clause(self) -> str:
        conditions = [w for w in self.conditions()[0] if w.contains_aggregate]
        return " HAVING " + " AND ".join(f"({w.as_sql(self)})" for w in conditions) if conditions else ""

    def limit_clause(self) -> str:
        q = self.query
        limit = str(int(q.limit)) if q.limit is not None else None
        offset = self.param(q.low) if q.low is not None else None
        return self.ops.limit_offset(limit, offset)

    def order_clause(self, ordering: tuple[OrderBy, ...], exprs: list[Expression]) -> str:
        """ORDER BY, a selected expression by its position (see ``selected_positions``)."""
        if not ordering:
            return ""
        positions = selected_positions(exprs)
        terms = []
        for t in ordering:
            position = positions.get(t.expression.key)
            terms.append(t.as_sql(self) if position is None else t.with_sql(position))
        return " ORDER BY " + ", ".join(terms)

    # -- statements -----------------------------------------------------------------

    def compile(self, kind: str) -> Compiled:
        if kind == "select":
            sql, reader = self.select()
        elif kind == "count":
            sql, reader = self.count(), None
        elif kind == "exists":
            if self.query.combined is not None:
                sql, reader = f'SELECT 1 AS "a" FROM ({self.select(subquery=True)[0]}) AS "sub" LIMIT 1', None
            else:
                sql, reader = self.select(exists=True)[0], None
        elif kind == "aggregate":
            sql, reader = self.aggregate()
        elif kind == "update":
            sql, reader = self.update(), None
        elif kind == "delete":
            sql, reader = self.delete(), None
        else:
            raise ValueError(kind)
        return Compiled(sql, self.plan, reader)

    def select_items(self, subquery: bool) -> tuple[list[tuple[str, str | None]], list[Expression], Callable | None]:
        """The selected SQL with its column names (None: unnamed), the expressions (for
        GROUP BY) and the row reader."""
        from . import readers

        q = self.query
        items: list[tuple[str, str | None]]
        if q.values is not None:
            exprs = [e for _, e in q.values]
            items = [(e.as_sql(self), n) for n, e in q.values]
            return items, exprs, None if subquery else readers.values_reader(q, self.ops)
        if subquery:
            pk = Col(0, q.meta.pk)
            return [(pk.as_sql(self), None)], [pk], None
        fields = [f for f in q.meta.fields if q.loaded is None or f.name in q.loaded]
        exprs = [Col(0, f) for f in fields]
        related = []
        for path, alias, model in q.related:
            rfields = model._meta.fields
            related.append((path, len(exprs), model, rfields))
            exprs.extend(Col(alias, f) for f in rfields)
        items = [(e.as_sql(self), None) for e in exprs]
        annotation_start = len(exprs)
        for name, e in q.annotations.items():
            if name not in q.hidden:
                items.append((e.as_sql(self), name))
                exprs.append(e)
        return items, exprs, readers.model_reader(q, self.ops, fields, related, annotation_start)

    def group_by(self, exprs: list[Expression], ordering: tuple[OrderBy, ...]) -> str:
        """What the rows are grouped by: the selected columns that aggregate nothing and, as
        Django's, the ordering's (PostgreSQL refuses an ORDER BY column neither grouped nor
        aggregated: ``annotate(n=Count("tags")).order_by("publisher__name")``)."""
        q = self.query
        if not q.has_aggregate:
            return ""
        plain = [e for e in [*exprs, *(t.expression for t in ordering)] if not e.contains_aggregate and not has_window(e)]
        plain += [term for e in exprs if has_window(e) for term in window_group_by(e)]
        if q.values is not None and q.group_by_values:
            plain = [*q.grouped_by, *plain]
        if not (q.values is not None and q.group_by_values):
            # Grouping by the keys covers every other column of those tables.
            keys = [Col(0, q.meta.pk)] + [Col(alias, model._meta.pk) for _, alias, model in q.related]
            plain = keys + [e for e in plain if not (isinstance(e, Col) and (e.alias == 0 or e.alias in {a for _, a, _ in q.related}))]
        if not plain:
            return ""
        # Each key is written once: a repeated one adds no parameters.
        positions = selected_positions(exprs)
        seen: dict[Any, str] = {}
        for e in plain:
            if e.key not in seen:
                seen[e.key] = positions.get(e.key) or e.as_sql(self)
        return " GROUP BY " + ", ".join(seen.values())

    def select(self, subquery: bool = False, exists: bool = False, columns: tuple[tuple[str, Expression], ...] = ()) -> tuple[str, Callable | None]:
        q = self.query
        items: list[tuple[str, str | None]]
        if exists:
            items, exprs, reader = [("1", "a")], [], None
        elif columns:
            items, exprs, reader = [(e.as_sql(self), n) for n, e in columns], [e for _, e in columns], None
        else:
            items, exprs, reader = self.select_items(subquery)
        if q.combined is not None and not exists:
            return self.combined_select(items, exprs, reader, subquery)
        ordering = q.order_by
        if exists or not q.ordered or ((subquery or columns) and not q.is_sliced):
            ordering = ()
        if not q.standard_ordering:
            ordering = tuple(t.flipped() for t in ordering)
        if q.distinct and ordering and not exists and not subquery:
            # What ORDER BY names must be selected under DISTINCT (PostgreSQL refuses
            # otherwise): as Django does, it is added to the columns, and so takes part in
            # what DISTINCT compares. Readers ignore the extra columns.
            selected = {e.key for e in exprs}
            for term in ordering:
                if term.expression.key not in selected:
                    selected.add(term.expression.key)
                    items.append((term.expression.as_sql(self), f"__order{len(items)}"))
                    exprs.append(term.expression)
        distinct = ""
        if q.distinct and not exists:
            distinct = "DISTINCT "
            if q.distinct_fields:
                distinct = self.ops.distinct_on([e.as_sql(self) for e in q.distinct_fields])
        qualify = self.conditions()[1]
        if qualify is not None:
            sql = self.qualified(items, distinct, exprs, exists, qualify, ordering)
        else:
            sql = f"SELECT {distinct}{', '.join(self.named(items))} FROM {self.from_clause()}"
            sql += self.where_clause()
            sql += self.group_by(exprs, ordering) if not exists else ""
            sql += self.having_clause()
            sql += self.order_clause(ordering, exprs)
        if exists and not q.is_sliced:
            sql += self.ops.limit_offset("1", None)
        else:
            sql += self.limit_clause()
        if q.for_update is not None and not subquery and not exists:
            sql += self.ops.for_update(*q.for_update, of=self.alias(0))
        return sql, reader

    def named(self, items: Sequence[tuple[str, str | None]]) -> list[str]:
        return [sql if name is None else f"{sql} AS {self.quote(name)}" for sql, name in items]

    def qualified(self, items: list[tuple[str, str | None]], distinct: str, exprs: list[Expression], exists: bool,
                  qualify: Expression, ordering: tuple[OrderBy, ...]) -> str:
        """A query filtered on window functions, as Django runs it: the query selects its
        columns, whether each row passes the window conditions and the ordering's values;
        an outer SELECT keeps the rows that pass, ordered (LIMIT follows)."""
        inner = [(sql, f"__col{i}") for i, (sql, _) in enumerate(items)]
        inner.append((qualify.as_sql(self), "__qualify"))
        inner += [(t.expression.as_sql(self), f"__qualify_order{i}") for i, t in enumerate(ordering)]
        sql = f"SELECT {distinct}{', '.join(self.named(inner))} FROM {self.from_clause()}"
        sql += self.where_clause()
        sql += self.group_by([*exprs, qualify], ordering) if not exists else ""
        sql += self.having_clause()
        outer = [(f'"qualify".{self.quote(f"__col{i}")}', name) for i, (_, name) in enumerate(items)]
        sql = f'SELECT {", ".join(self.named(outer))} FROM ({sql}) AS "qualify" WHERE "qualify"."__qualify"'
        terms = [t.with_sql(f'"qualify".{self.quote(f"__qualify_order{i}")}') for i, t in enumerate(ordering)]
        return sql + (" ORDER BY " + ", ".join(terms) if terms else "")

    def combined_select(self, items: list[tuple[str, str | None]], exprs: list[Expression], reader: Callable | None, subquery: bool) -> tuple[str, Callable | None]:
        """``<own part> UNION <other> ...`` then the ORDER BY and LIMIT of the whole,
        ordering by column position (the only name a compound SELECT has)."""
        q = self.query
        assert q.combined is not None  # a compound query
        operator, own, others = q.combined
        parts = [SQLCompiler(own, self.ops, self, None).select(subquery=subquery)[0]]
        parts += [SQLCompiler(e.inner, self.ops, self, e).select(subquery=subquery)[0] for e in others]
        sql = f" {operator} ".join(f"({p})" if self.ops.compound_parentheses else p for p in parts)
        ordering = q.order_by if q.standard_ordering else tuple(t.flipped() for t in q.order_by)
        if ordering:
            positions = {e.key: i + 1 for i, e in enumerate(exprs)}
            terms = []
            for t in ordering:
                position = positions.get(t.expression.key)
                if position is None:
                    raise NotSupportedError("order_by() of a union/intersection/difference takes only selected columns")
                terms.append(t.with_sql(str(position)))
            sql += " ORDER BY " + ", ".join(terms)
        sql += self.limit_clause()
        return sql, reader

    def count(self) -> str:
        q = self.query
        if (q.distinct or q.is_sliced or q.has_aggregate or q.values is not None and q.group_by_values or q.combined is not None
                or self.conditions()[1] is not None):
            inner, _ = self.select(subquery=q.values is None and not q.has_aggregate)
            return f"SELECT COUNT(*) FROM ({inner}) AS \"sub\""
        return f"SELECT COUNT(*) FROM {self.from_clause()}{self.where_clause()}"

    def aggregate(self) -> tuple[str, Callable]:
        from . import readers

        q = self.query
        if q.aggregated_columns:
            inner, _ = self.select(columns=q.aggregated_columns)
            source = f"({inner}) AS \"sub\""
        else:
            source = f"{self.from_clause()}{self.where_clause()}"
        items = [f"{e.as_sql(self)} AS {self.quote(n)}" for n, e in q.aggregates]
        return f"SELECT {', '.join(items)} FROM {source}", readers.aggregate_reader(q, self.ops)

    def filtered_keys(self) -> str:
        """``WHERE`` for UPDATE/DELETE: direct, or ``pk IN (SELECT ...)`` when the filter joins tables."""
        q = self.query
        if not q.joins and self.conditions()[1] is None:
            return self.where_clause()
        pk = f"{self.alias(0)}.{self.quote(q.meta.pk.column)}"
        inner = SQLCompiler(q, self.ops, self)
        if self.conditions()[1] is not None:  # filtered on a window function: the rows that pass
            return f" WHERE {pk} IN ({inner.select(subquery=True)[0]})"
        inner_pk = f"{inner.alias(0)}.{self.quote(q.meta.pk.column)}"
        return f" WHERE {pk} IN (SELECT {inner_pk} FROM {inner.from_clause()}{inner.where_clause()})"

    def update(self) -> str:
        q = self.query
        sets = ", ".join(f"{self.quote(f.column)} = {e.as_sql(self)}" for f, e in q.updates)
        return f"UPDATE {self.quote(q.meta.table)} AS {self.alias(0)} SET {sets}{self.filtered_keys()}"

    def delete(self) -> str:
        q = self.query
        return f"DELETE FROM {self.quote(q.meta.table)} AS {self.alias(0)}{self.filtered_keys()}"


def selected_positions(exprs: list[Expression]) -> dict[Any, str]:
    """Where each selected expression (not a plain column) is in the SELECT, from 1: GROUP BY
    and ORDER BY name it so (Django 4.2+'s ``allows_group_by_select_index``; its ORDER BY
    names the alias). Written again, its parameters would be new ones ($1 in the SELECT,
    $2 there), which PostgreSQL cannot tell are the same value ("must appear in the GROUP BY
    clause", "ORDER BY expressions must appear in select list" under DISTINCT)."""
    return {e.key: str(i + 1) for i, e in reversed(list(enumerate(exprs))) if not isinstance(e, Col)}


# -- statements on rows rather than queries ------------------------------------------------


def on_conflict_sql(ops: BaseOperations, unique_columns: tuple[str, ...], update_columns: tuple[str, ...]) -> str:
    """``ON CONFLICT DO NOTHING`` without ``update_columns``, else ``ON CONFLICT("u") DO UPDATE
    SET "a" = EXCLUDED."a"`` (Django's spelling, the same on PostgreSQL and SQLite)."""
    if not update_columns:
        return "ON CONFLICT DO NOTHING"
    q = ops.quote
    sets = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in update_columns)
    return f"ON CONFLICT({', '.join(map(q, unique_columns))}) DO UPDATE SET {sets}"


def insert_sql(ops: BaseOperations, meta: Any, columns: tuple[str, ...], rows: int, returning: bool, on_conflict: str = "") -> str:
    """``INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) [on_conflict] RETURNING pk`` (cached)."""
    key = (ops.vendor, "insert", meta.table, columns, rows, returning, on_conflict)
    sql = _statements.get(key)
    if sql is None:
        q = ops.quote
        if columns:
            width = len(columns)
            values = ", ".join("(" + ", ".join(f"${r * width + i + 1}" for i in range(width)) + ")" for r in range(rows))
            sql = f"INSERT INTO {q(meta.table)} ({', '.join(map(q, columns))}) VALUES {values}"
        else:
            if rows != 1:
                raise ValueError("a row of defaults is inserted one at a time")
            sql = f"INSERT INTO {q(meta.table)} DEFAULT VALUES"
        if on_conflict:
            sql += " " + on_conflict
        if returning:
            sql += f" RETURNING {q(meta.pk.column)}"
        _statements[key] = sql
    return sql


def update_by_pk_sql(ops: BaseOperations, meta: Any, columns: tuple[str, ...]) -> str:
    """``UPDATE t SET a = $1, b = $2 WHERE pk = $3`` (cached)."""
    key = (ops.vendor, "update_pk", meta.table, columns)
    sql = _statements.get(key)
    if sql is None:
        q = ops.quote
        sets = ", ".join(f"{q(c)} = ${i + 1}" for i, c in enumerate(columns))
        sql = f"UPDATE {q(meta.table)} SET {sets} WHERE {q(meta.pk.column)} = ${len(columns) + 1}"
        _statements[key] = sql
    return sql


def bulk_update_sql(ops: BaseOperations, meta: Any, columns: tuple[str, ...], rows: int) -> str:
    """``UPDATE t SET a = CASE WHEN pk = $1 THEN $2 WHEN pk = $4 THEN $5 ELSE a END, b = ...
    WHERE pk IN ($1, $4)`` for ``rows`` rows of (key, *values) parameters (cached; see
    ``orm/bulk_update.py`` for why ELSE names the column)."""
    key = (ops.vendor, "bulk_update", meta.table, columns, rows)
    sql = _statements.get(key)
    if sql is None:
        q = ops.quote
        pk = q(meta.pk.column)
        width = len(columns) + 1
        keys = [f"${r * width + 1}" for r in range(rows)]
        sets = ", ".join(
            f"{q(c)} = CASE" + "".join(f" WHEN {pk} = {k} THEN ${r * width + i + 2}" for r, k in enumerate(keys)) + f" ELSE {q(c)} END"
            for i, c in enumerate(columns)
        )
        sql = f"UPDATE {q(meta.table)} SET {sets} WHERE {pk} IN ({', '.join(keys)})"
        _statements[key] = sql
    return sql


_statements: dict[Any, str] = {}


_PLACEHOLDER = re.compile(r"\$(\d+)")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (bool, int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def render(sql: str, params: list[Any]) -> str:
    """SQL with its parameters written in, for reading only (``str(qs.query)``); never executed."""
    return _PLACEHOLDER.sub(lambda m: _literal(params[int(m.group(1)) - 1]), sql)
