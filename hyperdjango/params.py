"""Markers a typed handler puts on its parameters: where a value comes from and its limits.

>>> from typing import Annotated
>>> from hyperdjango.params import Query, Header
>>> async def search(request, q: str | None = None, page: Annotated[int, Query(ge=1)] = 1,
...                  user_agent: Annotated[str | None, Header()] = None): ...

A parameter without a marker is a path parameter when the route pattern names
it, the body when its type is a structure (``msgspec.Struct``, dataclass,
``TypedDict``, pydantic ``BaseModel``), and a query parameter otherwise. The
marker may also be the default (``page: int = Query(1, ge=1)``), as in FastAPI.
Constraints (``ge``, ``gt``, ``le``, ``lt``, ``min_length``, ``max_length``,
``pattern``, ``multiple_of``) are checked by msgspec and appear in the OpenAPI
document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The default of a parameter that has none (it is required).
REQUIRED: Any = type("REQUIRED", (), {"__repr__": lambda self: "REQUIRED"})()

class Param:
    """Base of the parameter markers; ``source`` says where the value is read."""

    source = ""

    def __init__(
        self,
        default: Any = REQUIRED,
        *,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        examples: list[Any] | None = None,
        deprecated: bool = False,
        include_in_schema: bool = True,
        gt: Any = None,
        ge: Any = None,
        lt: Any = None,
        le: Any = None,
        multiple_of: Any = None,
        pattern: str | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
    ) -> None:
        self.default = default
        self.alias = alias
        self.title = title
        self.description = description
        self.examples = examples
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.constraints = {
            k: v
            for k, v in dict(
                gt=gt, ge=ge, lt=lt, le=le, multiple_of=multiple_of,
                pattern=pattern, min_length=min_length, max_length=max_length,
            ).items()
            if v is not None
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(default={self.default!r})"


class Path(Param):
    """A path parameter (``{id}`` in the pattern); the marker only adds limits or docs."""

    source = "path"


class Query(Param):
    """A query-string parameter; a ``list[...]`` type collects every repetition (``?tag=a&tag=b``)."""

    source = "query"


class Header(Param):
    """A request header; ``user_agent`` reads ``user-agent`` unless ``convert_underscores=False``."""

    source = "header"

    def __init__(self, default: Any = REQUIRED, *, convert_underscores: bool = True, **options: Any) -> None:
        super().__init__(default, **options)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    """A cookie of the request."""

    source = "cookie"


class Body(Param):
    """The JSON body, or with several body parameters (or ``embed=True``) one key of it."""

    source = "body"

    def __init__(self, default: Any = REQUIRED, *, embed: bool = False, media_type: str = "application/json", **options: Any) -> None:
        super().__init__(default, **options)
        self.embed = embed
        self.media_type = media_type


class Form(Param):
    """A field of an urlencoded or multipart form (read through ``await request.form()``)."""

    source = "form"


class File(Form):
    """A file of a multipart form: typed ``UploadFile``, ``bytes`` or ``list[UploadFile]``."""

    source = "file"


class Depends:
    """A dependency: ``user = Depends(current_user)`` calls ``current_user`` first.

    The provider may be ``async def`` or ``def`` (run in the thread pool), may
    itself declare typed parameters and dependencies, and may ``yield`` its value:
    the code after ``yield`` runs once the response is made, also when the
    handler raised (the exception is thrown in at the ``yield``). Within one
    request a provider runs once, whoever asks for it, unless ``use_cache=False``.
    """

    __slots__ = ("dependency", "use_cache")

    def __init__(self, dependency: Callable[..., Any], *, use_cache: bool = True) -> None:
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        return f"Depends({getattr(self.dependency, '__qualname__', self.dependency)!r})"
