"""More text functions with Django's names and results: padding, reversing, repeating,
code points and hashes.

>>> from hyperdjango.expressions import LPad, Value
>>> LPad("name", 8, Value("*"))
LPad(F('name'), Value(8), Value('*'))

SQLite has no ``LPAD``, ``RPAD``, ``REVERSE``, ``REPEAT`` or hash functions: the engine
registers them on every SQLite connection, in Rust (as Django's SQLite backend registers
them in Python), with PostgreSQL's answers. PostgreSQL has ``SHA224`` ... ``SHA512`` built
in, of bytes: the text's UTF-8. It has no ``SHA1``: as in Django, ``SHA1`` there needs
the ``pgcrypto`` extension (``CREATE EXTENSION pgcrypto``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .expressions import Expression, Func
from .fields import Field, TextField
from .functions import IntegerResult, Transform, _text, integer_argument

if TYPE_CHECKING:
    from .sql.compiler import SQLCompiler


def _count(name: str, value: Any) -> Expression:
    if not isinstance(value, Expression) and value is not None and value < 0:
        raise ValueError(f"{name}: the length must be greater or equal to 0")
    return _text(value)


class LPad(Func):
    """The text filled on the left with ``fill_text`` (a space by default) to ``length``
    characters, or cut to ``length`` when longer."""

    function = "LPAD"

    def __init__(self, expression: Any, length: Any, fill_text: Any = " ", output_field: Field | None = None) -> None:
        super().__init__(expression, _count(type(self).__name__, length), _text(fill_text), output_field=output_field)

    def infer_output(self, source: list[Expression]) -> Field | None:
        return source[0].output_field

    def as_sql(self, c: SQLCompiler) -> str:
        text, length, fill = self.source
        return f"{self.function}({text.as_sql(c)}, {integer_argument(c, length)}, {fill.as_sql(c)})"


class RPad(LPad):
    """The text filled on the right with ``fill_text`` to ``length`` characters (or cut)."""

    function = "RPAD"


class Reverse(Transform):
    """The characters in reverse order."""

    function = "REVERSE"


class Repeat(Func):
    """The text repeated ``number`` times (empty for 0)."""

    function = "REPEAT"

    def __init__(self, expression: Any, number: Any, output_field: Field | None = None) -> None:
        super().__init__(expression, _count("Repeat", number), output_field=output_field)

    def infer_output(self, source: list[Expression]) -> Field | None:
        return source[0].output_field

    def as_sql(self, c: SQLCompiler) -> str:
        return f"REPEAT({self.source[0].as_sql(c)}, {integer_argument(c, self.source[1])})"


class Ord(IntegerResult):
    """The code point of the first character (0 for empty text on PostgreSQL, NULL on
    SQLite: each database's answer, as in Django)."""

    def __init__(self, expression: Any) -> None:
        super().__init__(expression)

    def as_sql(self, c: SQLCompiler) -> str:
        return f"{c.ops.ord_function}({self.source[0].as_sql(c)})"


class Chr(Func):
    """The character of a code point: ``Chr(Value(77))`` is ``"M"``."""

    def __init__(self, expression: Any) -> None:
        super().__init__(expression, output_field=TextField())

    def as_sql(self, c: SQLCompiler) -> str:
        return f"{c.ops.chr_function}({integer_argument(c, self.source[0])})"


class MD5(Transform):
    """The MD5 digest of the text's UTF-8, as 32 lowercase hex digits."""

    function = "MD5"

    def infer_output(self, source: list[Expression]) -> Field:
        return TextField()


class SHA1(MD5):
    """The SHA-1 digest, as hex (PostgreSQL: needs the ``pgcrypto`` extension, as in Django)."""

    function = "SHA1"

    def as_sql(self, c: SQLCompiler) -> str:
        return c.ops.hex_digest(self.function, self.source[0].as_sql(c))


class SHA224(SHA1):
    """The SHA-224 digest, as hex."""

    function = "SHA224"


class SHA256(SHA1):
    """The SHA-256 digest, as hex."""

    function = "SHA256"


class SHA384(SHA1):
    """The SHA-384 digest, as hex."""

    function = "SHA384"


class SHA512(SHA1):
    """The SHA-512 digest, as hex."""

    function = "SHA512"


__all__ = ["Chr", "LPad", "MD5", "Ord", "Repeat", "Reverse", "RPad", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512"]
