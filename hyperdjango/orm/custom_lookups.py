"""A user's own lookups and transforms, written as Django's "Custom lookups" how-to writes them.

>>> from hyperdjango.expressions import Lookup, Transform
>>> from hyperdjango.orm.fields import Field, IntegerField
>>> @Field.register_lookup
... class NotEqual(Lookup):
...     lookup_name = "ne"
...
...     def as_sql(self, compiler, connection):
...         lhs, lhs_params = self.process_lhs(compiler, connection)
...         rhs, rhs_params = self.process_rhs(compiler, connection)
...         return f"{lhs} <> {rhs}", lhs_params + rhs_params
>>> @IntegerField.register_lookup
... class AbsoluteValue(Transform):
...     lookup_name = "abs"
...     function = "ABS"
>>> Field._unregister_lookup(NotEqual); IntegerField._unregister_lookup(AbsoluteValue)

Then ``filter(price__ne=3)`` and ``filter(delta__abs__lt=27)``. ``as_sql(compiler,
connection)`` has Django's signature and may be ``as_postgresql``/``as_sqlite`` for one
backend; ``connection.vendor`` names the database. One difference: hyperdjango binds
every value when the QuerySet is built, so ``process_lhs``, ``process_rhs`` and
``compiler.compile`` return SQL whose values are already bound and an empty parameter
list; ``as_sql`` must return those lists (empty), and returning values of its own is
a ``NotSupportedError`` (write them as ``Value(...)`` arguments instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .exceptions import NotSupportedError
from .expressions import Expression
from .functions import Transform as FunctionTransform
from .lookups import Lookup as BuiltLookup

if TYPE_CHECKING:
    from .backends.base.operations import BaseOperations
    from .sql.compiler import SQLCompiler


class DjangoCompiler:
    """What a user's ``as_sql`` gets as ``compiler``: ``compile(node)`` gives ``(sql, params)``."""

    def __init__(self, c: SQLCompiler) -> None:
        self.c = c

    def compile(self, node: Expression) -> tuple[str, list[Any]]:
        return node.as_sql(self.c), []


def django_sql(node: Any, c: SQLCompiler) -> str:
    """The SQL of a user's node, from its ``as_<vendor>`` or its ``as_sql`` (Django's signature)."""
    method = getattr(node, f"as_{c.ops.vendor}", None) or node.as_sql
    sql, params = method(DjangoCompiler(c), c.ops)
    if params:
        raise NotSupportedError(
            f"{type(node).__name__}.as_sql returned parameters {params!r}: hyperdjango binds values when the QuerySet is built; "
            "use process_rhs()/compiler.compile() or pass the value as Value(...)"
        )
    return sql


class Lookup(Expression):
    """Base of a user's lookup: ``lookup_name``, ``lhs``, ``rhs`` and ``as_sql(compiler, connection)``
    returning ``(sql, params)``. ``rhs`` is the bound value, converted to the field's type as
    for the built-in lookups unless the class says ``prepare_rhs = False``."""

    lookup_name: str = ""
    prepare_rhs = True
    conditional = True

    def __init__(self, lhs: Expression, rhs: Any) -> None:
        self.lhs = lhs
        self.rhs = rhs

    def children(self) -> tuple[Expression, ...]:
        return (self.lhs, self.rhs) if isinstance(self.rhs, Expression) else (self.lhs,)

    def process_lhs(self, compiler: DjangoCompiler, connection: BaseOperations, lhs: Expression | None = None) -> tuple[str, list[Any]]:
        """The left side's SQL and (always empty) parameters."""
        return compiler.compile(lhs if lhs is not None else self.lhs)

    def process_rhs(self, compiler: DjangoCompiler, connection: BaseOperations) -> tuple[str, list[Any]]:
        """The value's SQL (a bound parameter, or an expression's SQL) and (always empty) parameters."""
        return compiler.compile(self.rhs)

    # Django's signature, which a user's lookup overrides (django_sql calls it), not Expression's
    def as_sql(self, compiler: DjangoCompiler, connection: BaseOperations) -> tuple[str, list[Any]]:  # type: ignore[override]
        raise NotImplementedError(f"{type(self).__name__} must define as_sql(compiler, connection)")


class RegisteredLookup(BuiltLookup):
    """A user's lookup in the WHERE tree: a ``Lookup`` (named, with ``lhs`` and ``rhs``, so
    ``exclude()`` guards NULLs as for any other) whose SQL comes from the user's class."""

    def __init__(self, cls: type[Lookup], lhs: Expression, rhs: Any) -> None:
        super().__init__(cls.lookup_name, lhs, rhs)
        self.custom = cls

    def as_sql(self, c: SQLCompiler) -> str:
        return django_sql(self.custom(self.lhs, self.rhs), c)


class Transform(FunctionTransform):
    """Base of a user's transform: ``lookup_name`` and ``function`` (``ABS``), or ``template``, or
    an ``as_sql(compiler, connection)`` of its own. The result has the argument's type unless
    ``output_field`` says otherwise. Usable in filters once registered, and as a function."""

    lookup_name: str = ""
    template = "%(function)s(%(expressions)s)"

    @property
    def lhs(self) -> Expression:
        return self.source[0]

    def resolved(self, source: list[Expression]) -> Expression:
        node = super().resolved(source)
        assert isinstance(node, Transform)  # Func.resolved returns a copy of self
        return DjangoExpression(node)

    def as_sql(self, compiler: DjangoCompiler, connection: BaseOperations, function: str | None = None, template: str | None = None) -> tuple[str, list[Any]]:  # type: ignore[override]
        """Django's default: the template with the function and the arguments' SQL."""
        arguments = ", ".join(compiler.compile(e)[0] for e in self.source)
        return (template or self.template) % {"function": function or self.function, "expressions": arguments}, []


class DjangoExpression(Expression):
    """A resolved user transform: compiled through the user's ``as_sql``."""

    def __init__(self, node: Transform) -> None:
        self.node = node
        self.output_field = node.output_field
        if node.contains_aggregate:
            self.contains_aggregate = True

    def children(self) -> tuple[Expression, ...]:
        return self.node.children()

    def as_sql(self, c: SQLCompiler) -> str:
        return django_sql(self.node, c)


__all__ = ["Lookup", "Transform"]
