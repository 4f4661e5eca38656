"""Templates: Jinja2 syntax, rendered in Rust by minijinja (``crates/templates``).

>>> import tempfile, pathlib
>>> folder = tempfile.mkdtemp()
>>> _ = (pathlib.Path(folder) / "hello.html").write_text("<p>Hello {{ name }}</p>")
>>> Templates(folder).render_to_string("hello.html", {"name": "<Tea>"})
'<p>Hello &lt;Tea&gt;</p>'

In a view, ``await render(request, "shop/list.html", {"products": products})``
(or ``Response.template(request, ...)``) renders with the app's ``app.templates``
and what the context processors add: ``request``, ``url_for``, ``static`` and,
with the CSRF middleware, ``csrf_token``/``csrf_input``. See docs/templates.md.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from markupsafe import Markup

from .. import _core
from ..exceptions import HTTPException
from ..middleware.csrf import note_rendered
from ..responses import Response, StreamingResponse, with_charset
from .context import Lazy, default_context_processors

if TYPE_CHECKING:
    from ..requests import Request

__all__ = ["Lazy", "Markup", "TemplateError", "Templates", "load_choices", "render"]

#: A template failed to compile or render. ``template``, ``line``, ``column``,
#: ``kind``, ``message`` and ``source_lines`` (``[(number, text), ...]``) say where.
TemplateError = _core.TemplateError

#: hyperdjango's own templates (form widgets, error pages), searched last so an
#: app's folder can override any of them.
BUILTIN_DIR = Path(__file__).parent / "builtin"

F = TypeVar("F", bound=Callable[..., Any])

ContextProcessor = Callable[["Request"], Mapping[str, Any]]


class Templates:
    """A set of template folders and what every template can use.

    Folders are searched in this order: ``directory``, then ``extra_dirs``, then the
    ``templates/`` folder of each package in ``app_packages`` (Django's per-app
    folders), then hyperdjango's built-in templates. ``reload=True`` re-reads a
    template whose file changed; otherwise compiled templates are kept. The default,
    None, reloads under ``hyper run --reload`` (which sets ``HYPERDJANGO_RELOAD=1``). ``strict_undefined=True`` makes an undefined variable an error.

    ``context_processors`` are callables ``(request) -> dict`` whose results are
    added to the context of every render that has a request (by default:
    ``request``, ``url_for``, ``static``, ``csrf_token``/``csrf_input``).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = "templates",
        extra_dirs: Iterable[str | os.PathLike[str]] = (),
        *,
        app_packages: Iterable[str] = (),
        reload: bool | None = None,
        strict_undefined: bool = False,
        context_processors: Iterable[ContextProcessor] | None = None,
    ) -> None:
        dirs = [Path(d) for d in ([directory] if directory is not None else [])]
        dirs += [Path(d) for d in extra_dirs]
        dirs += [_package_dir(name) / "templates" for name in app_packages]
        dirs.append(BUILTIN_DIR)
        #: The folders, in search order.
        self.dirs: list[Path] = [d.resolve() for d in dirs]
        if reload is None:
            reload = os.environ.get("HYPERDJANGO_RELOAD") == "1"
        self.reload = reload
        self.strict_undefined = strict_undefined
        self.context_processors: list[ContextProcessor] = list(
            default_context_processors if context_processors is None else context_processors
        )
        self.engine = _core.TemplateEngine([str(d) for d in self.dirs], reload, strict_undefined)

    # -- extending the language ----------------------------------------------------------

    def filter(self, name: str | None = None) -> Callable[[F], F]:
        """``@templates.filter()``: ``{{ value|name(arg) }}`` calls ``func(value, arg)``.
        It runs with the GIL, so keep it small; Rust filters are free."""

        def register(func: F) -> F:
            self.engine.add_filter(name or func.__name__, func)
            return func

        return register

    def test(self, name: str | None = None) -> Callable[[F], F]:
        """``@templates.test()``: ``{% if value is name %}`` calls ``func(value)``."""

        def register(func: F) -> F:
            self.engine.add_test(name or func.__name__, func)
            return func

        return register

    def add_global(self, name: str, value: Any) -> None:
        """Makes ``value`` available in every template (a callable is called with the GIL)."""
        self.engine.add_global(name, value)

    # -- rendering -------------------------------------------------------------------------

    def context(self, request: Request | None, context: Mapping[str, Any] | None) -> dict[str, Any]:
        """The context of a render: the processors' values, then ``context`` over them."""
        merged: dict[str, Any] = {}
        if request is not None:
            for processor in self.context_processors:
                merged.update(processor(request))
        if context:
            merged.update(context)
        return merged

    def render_to_string(self, name: str, context: Mapping[str, Any] | None = None, request: Request | None = None) -> str:
        """The template ``name`` rendered with ``context`` (and the processors, given a request)."""
        text = self.engine.render(name, self.context(request, context))
        if request is not None:
            note_rendered(request, text)  # the CSRF secret goes out only if the page shows a token
        return text

    def from_string(self, source: str, context: Mapping[str, Any] | None = None, name: str = "<string>.html") -> str:
        """A template given as text, rendered; ``name``'s extension decides autoescape."""
        return self.engine.render_string(name, source, self.context(None, context))

    def response(
        self,
        request: Request | None,
        name: str,
        context: Mapping[str, Any] | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str = "text/html",
    ) -> Response:
        """A response whose body is the rendered template (UTF-8)."""
        body = self.engine.render_bytes(name, self.context(request, context))
        if request is not None:
            note_rendered(request, body)  # the CSRF secret goes out only if the page shows a token
        return Response(body, status, headers, with_charset(media_type))

    def stream(
        self,
        request: Request | None,
        name: str,
        context: Mapping[str, Any] | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str = "text/html; charset=utf-8",
        chunk_size: int = 16384,
    ) -> StreamingResponse:
        """The stream form for large pages: rendered on a thread of its own and sent
        chunk by chunk as it is produced (the client reading slowly holds the render).
        An error after the first chunk cuts the connection instead of ending the body.
        At most 256 run at once; beyond, 503 with ``Retry-After`` (counted in
        ``_core.TemplateEngine.stream_stats()``)."""
        try:
            chunks = self.engine.stream(name, self.context(request, context), chunk_size)
        except _core.StreamsFull as e:
            raise HTTPException(503, str(e), headers={"retry-after": "1"}) from None
        if request is not None:
            note_rendered(request, None)  # not seen whole before it is sent: as if it showed a token
        return StreamingResponse(chunks, status, headers, media_type)

    def clear_cache(self) -> None:
        """Forgets the compiled templates."""
        self.engine.clear_cache()

    def __repr__(self) -> str:
        return f"<Templates {[str(d) for d in self.dirs]}>"


async def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``return await render(request, "shop/list.html", {"products": products})``:
    the app's template as an HTML response. The forms and formsets in ``context``
    get their options from the database first (``await form.load_choices()``: a
    template never queries)."""
    if context:
        await load_choices(context)
    return request.app.templates.response(request, name, context, status, headers)


async def load_choices(context: Mapping[str, Any]) -> None:
    """Awaits ``load_choices()`` of each value of ``context`` that has one (forms and
    formsets, whose model choice fields' options are rows)."""
    for value in context.values():
        load = getattr(value, "load_choices", None)
        if load is not None and not isinstance(value, type):
            await load()


def _package_dir(name: str) -> Path:
    module = importlib.import_module(name)
    origin = getattr(module, "__file__", None)
    if origin is None:
        raise ValueError(f"app package {name!r} has no folder")
    return Path(origin).parent
