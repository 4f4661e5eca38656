"""HyperApp: routes, middleware, hooks and error handling of one application."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from . import _core
from .cache import close_caches, configure_caches
from .database import Database, set_default_database
from .errorpages import debug_page, template_page, wants_html
from .exceptions import HTTPException
from .orm.exceptions import ValidationError
from .requests import Request
from .responses import Response
from .routing import Route, Router, default_names
from .settings import Settings, database_url, set_current
from .staticfiles import MANIFEST_NAME, StaticFiles, app_static_dirs
from .tasks import TaskBackend, TaskQueue
from .tasks.registry import Task, TaskDecorator
from .validation import RequestValidationError, request_validation_error

if TYPE_CHECKING:
    from .templates import Templates

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("hyperdjango")


def _http_exception(request: Request, exc: HTTPException) -> Response:
    page = template_page(request, exc.status_code, {"status": exc.status_code, "detail": exc.detail})
    if page is not None:
        for name, value in (exc.headers or {}).items():
            page.headers[name] = value
        return page
    return Response.json({"detail": exc.detail}, status=exc.status_code, headers=exc.headers)


def _validation_error(request: Request, exc: ValidationError) -> Response:
    # A value the client sent did not fit a field (on save, or as a lookup such as
    # filter(id="abc")): the client's mistake, so 400 with what was wrong.
    return Response.json({"detail": exc.errors}, status=400)


class HyperApp(Router):
    """An application.

    >>> from hyperdjango import HyperApp
    >>> app = HyperApp(title="Shop")
    >>> @app.get("/api/products/{id:int}")
    ... async def product(request):
    ...     return {"id": request.params["id"]}
    >>> app.url_for("product", id=3)
    '/api/products/3'

    ``app.run()`` serves it; ``hyperdjango.testing.TestClient(app)`` tests it.
    ``database`` is a URL (``postgres://...`` or ``sqlite:///...``; else
    ``$HYPERDJANGO_DATABASE_URL``, else ``sqlite:///db.sqlite3``; logged) that
    becomes ``app.database`` and the process default (the last app created
    wins). ``secret_key`` (else ``$HYPERDJANGO_SECRET_KEY``) signs cookies and
    tokens; ``secret_key_fallbacks`` still verify; ``allowed_hosts`` are the
    Host headers answered (400 for others; None: not checked); see
    docs/settings.md. ``max_body_size`` bounds request
    bodies (413 beyond it). ``task_workers`` (jobs run at a time in the server
    process) and ``task_queue_size`` (pending in-process jobs before
    ``QueueFull``) configure the background-task queue, ``app.task_queue``;
    ``task_backend`` is ``"inprocess"`` (default, in memory) or ``"database"``
    (rows in ``app.database``, durable; see docs/tasks.md). ``caches`` is
    Django's ``CACHES`` setting for :data:`hyperdjango.cache.caches` (see docs/cache.md).
    ``time_zone`` (else ``$HYPERDJANGO_TIME_ZONE``, else ``"UTC"``) is Django's
    ``TIME_ZONE``: the zone the ORM's date functions use by default (:mod:`hyperdjango.timezone`).
    """

    def __init__(
        self,
        title: str = "hyperdjango",
        database: str | None = None,
        debug: bool = False,
        max_body_size: int = 10 * 1024 * 1024,
        task_workers: int = 4,
        task_queue_size: int = 10000,
        *,
        task_backend: str | TaskBackend = "inprocess",
        redirect_slashes: bool = True,
        thread_pool_size: int | None = None,
        secret_key: str | None = None,
        secret_key_fallbacks: list[str] | None = None,
        allowed_hosts: list[str] | None = None,
        caches: Mapping[str, Mapping[str, Any]] | None = None,
        secure_proxy_ssl_header: tuple[str, str] | None = None,
        time_zone: str | None = None,
    ) -> None:
        super().__init__()
        self.title = title
        #: The app's database (see :func:`hyperdjango.settings.database_url`);
        #: models use it by default. It connects when the server starts.
        self.database = Database(database_url(database))
        set_default_database(self.database)
        self.debug = debug
        #: Secret keys and allowed hosts (docs/settings.md); also the process's
        #: current settings, which :mod:`hyperdjango.signing` uses by default.
        self.settings = Settings()
        self.settings.configure(
            secret_key=secret_key, secret_key_fallbacks=secret_key_fallbacks, allowed_hosts=allowed_hosts, debug=debug,
            secure_proxy_ssl_header=secure_proxy_ssl_header, time_zone=time_zone,
        )
        set_current(self.settings)
        self.max_body_size = max_body_size
        self.task_workers = task_workers
        self.task_queue_size = task_queue_size
        #: Background tasks: ``@app.task``, ``.delay()``, ``app.task_queue.stats``.
        self.task_queue = TaskQueue(backend=task_backend, workers=task_workers, max_size=task_queue_size, database=self.database)
        if caches is not None:
            # Like the database, the process's caches are the last app's (see docs/cache.md).
            configure_caches(caches)
        self.redirect_slashes = redirect_slashes
        self.thread_pool_size = thread_pool_size or min(32, (os.cpu_count() or 1) + 4)
        self.middleware: list[Any] = []
        self.startup_hooks: list[Callable[[], Any]] = []
        self.shutdown_hooks: list[Callable[[], Any]] = []
        self.exception_handlers: dict[type[BaseException], Callable[..., Any]] = {
            HTTPException: _http_exception,
            ValidationError: _validation_error,
            RequestValidationError: request_validation_error,
        }
        self.readiness_checks: list[Callable[[], Awaitable[bool]]] = []
        self.started = False
        #: This process's number among ``app.run(workers=N)``'s processes (0 when alone).
        self.worker_index = 0
        self._url_router: tuple[int, _core.Router] | None = None
        self._templates: Templates | None = None
        #: The static files of :meth:`static` (the last call's), or None.
        self.staticfiles: StaticFiles | None = None
        self._asgi: Any = None
        #: Apps requests fall through to (``mount``); see hyperdjango/serving/mount.py.
        self.mounts: list[Any] = []

    # -- registration -------------------------------------------------------------

    def use(self, middleware: Any) -> Any:
        """Adds middleware; the first added is the outermost. See :mod:`hyperdjango.middleware`."""
        self.middleware.append(middleware)
        return middleware

    def on_startup(self, hook: F) -> F:
        """Runs ``hook`` (sync or async) before the server accepts requests."""
        self.startup_hooks.append(hook)
        return hook

    def on_shutdown(self, hook: F) -> F:
        """Runs ``hook`` (sync or async) after the last request has been answered."""
        self.shutdown_hooks.append(hook)
        return hook

    @overload
    def task(self, func: Callable[P, Awaitable[R]], **options: Any) -> Task[P, R]: ...
    @overload
    def task(self, func: Callable[P, R], **options: Any) -> Task[P, R]: ...
    @overload
    def task(self, func: None = None, **options: Any) -> TaskDecorator: ...

    def task(self, func: Callable[..., Any] | None = None, **options: Any) -> Task[..., Any] | TaskDecorator:
        """``@app.task`` / ``@app.task(queue="default", priority=0, max_retries=0,
        retry_backoff=2.0, retry_jitter=True, timeout=None)``: a background task
        (see :meth:`hyperdjango.tasks.TaskQueue.task` and docs/tasks.md)."""
        return self.task_queue.task(func, **options)

    def periodic(self, func: Callable[..., Any] | None = None, **options: Any) -> Any:
        """``@app.periodic(every=timedelta(minutes=5))`` or ``@app.periodic(cron="*/5 * * * *")``:
        a task run once per slot (see :meth:`hyperdjango.tasks.TaskQueue.periodic`)."""
        return self.task_queue.periodic(func, **options)

    def exception_handler(self, exc_type: type[BaseException]) -> Callable[[F], F]:
        """Decorator: ``handler(request, exc)`` answers for ``exc_type`` and its subclasses."""

        def decorate(handler: F) -> F:
            self.exception_handlers[exc_type] = handler
            return handler

        return decorate

    def exception_handler_for(self, exc: BaseException) -> Callable[..., Any] | None:
        """The handler registered for the closest class of ``exc``, if any."""
        for cls in type(exc).__mro__:
            handler = self.exception_handlers.get(cls)
            if handler is not None:
                return handler
        return None

    def mount_health(self, health: str = "/health", ready: str = "/ready") -> None:
        """Adds ``/health`` (the process answers) and ``/ready`` (started, the
        database answers, and every other readiness check passes; 503 otherwise)."""

        async def database(timeout: float = 2.0) -> bool:
            try:
                return await asyncio.wait_for(self.database.query_val("SELECT 1"), timeout) == 1
            except Exception:
                return False

        self.readiness_checks.append(database)

        async def health_view(request: Request) -> Response:
            return Response.json({"status": "ok"})

        async def passes(check: Callable[[], Any]) -> bool:
            try:
                result = check()
                return bool(await result if inspect.isawaitable(result) else result)
            except Exception:  # a check that cannot tell is a failing check: 503, not 500
                log.warning("readiness check %r raised", check, exc_info=True)
                return False

        async def ready_view(request: Request) -> Response:
            failing = [getattr(c, "__name__", repr(c)) for c in self.readiness_checks if not await passes(c)]
            if not self.started or failing:
                return Response.json({"status": "unavailable", "failing": failing}, status=503)
            return Response.json({"status": "ready"})

        self.add_route(health, health_view, ("GET",), "health")
        self.add_route(ready, ready_view, ("GET",), "ready")

    def mount_docs(self, **options: Any) -> None:
        """Serves the OpenAPI document at ``/openapi.json`` with Swagger UI at ``/docs`` and
        ReDoc at ``/redoc`` (off until called; see :func:`hyperdjango.openapi.mount_docs`)."""
        from .openapi import mount_docs

        mount_docs(self, **options)

    def mount(self, prefix: str, app: Any, *, interface: str = "auto") -> None:
        """Serves ``app`` (any ASGI 3 or WSGI app, e.g. a Django project's
        ``application``) for the requests below ``prefix`` this app has no
        route for; each side's middleware applies to its own requests. See
        docs/django.md. ``interface`` is ``"asgi"``/``"wsgi"`` (default: detected)."""
        from .serving.mount import Mount

        self.mounts.append(Mount(prefix, app, interface))

    def openapi(self, **options: Any) -> dict[str, Any]:
        """The app's OpenAPI 3.1 document as a dict (see :func:`hyperdjango.openapi.openapi_document`)."""
        from .openapi import openapi_document

        return openapi_document(self, **options)

    def static(
        self,
        prefix: str = "/static",
        directory: str | os.PathLike[str] | None = "static",
        *,
        extra_dirs: Iterable[str | os.PathLike[str]] = (),
        app_packages: Iterable[str] = (),
        root: str | os.PathLike[str] = "staticfiles",
        name: str = "static",
    ) -> StaticFiles:
        """Serves static files at ``prefix`` (see docs/static.md). The sources are
        ``directory``, then ``extra_dirs``, then each app package's ``static/`` folder;
        ``hyper collectstatic`` copies them into ``root`` with hashed names and a
        manifest, and once that manifest exists (and ``debug`` is off) ``root`` is
        served instead. Files are sent by the Rust server; ``static("app.css")`` in
        templates gives their URL."""
        sources = ([directory] if directory is not None else []) + list(extra_dirs) + app_static_dirs(app_packages)
        collected = os.path.join(root, MANIFEST_NAME)
        serve = [root] if os.path.isfile(collected) and not self.debug else sources
        files = StaticFiles(prefix, serve, sources=sources, root=root)
        self.staticfiles = files
        # Files, not an API operation: left out of the OpenAPI document.
        self.add_route(files.prefix.rstrip("/") + "/{path:path}", files.view, ("GET",), name, include_in_schema=False)
        return files

    def mount_static(self, prefix: str, directory: str | os.PathLike[str], name: str = "static") -> StaticFiles:
        """Serves the files below ``directory`` at ``prefix`` (:meth:`static` with one folder)."""
        return self.static(prefix, directory, name=name)

    def static_url(self, path: str) -> str:
        """The URL of a static file: ``app.static_url("app.css")`` → ``/static/app.3f2a1c9e0b7d.css``
        after ``hyper collectstatic``, ``/static/app.css`` before."""
        if self.staticfiles is None:
            return "/static/" + path.lstrip("/")
        return self.staticfiles.url(path)

    # -- routing ------------------------------------------------------------------

    def compile_routes(self) -> tuple[_core.Router, list[Route]]:
        """A fresh engine route table; raises ValueError naming both routes of a conflict."""
        router = _core.Router(redirect_slashes=self.redirect_slashes)
        for index, (route, name) in enumerate(zip(self.routes, default_names(self.routes))):
            try:
                router.add(route.pattern, list(route.methods), name)
            except ValueError as e:
                raise ValueError(f"{e}; views: {_conflicting_views(self.routes[:index], route, str(e))}") from None
        for mounted in self.mounts:
            mounted.add_websocket_routes(router)  # ids past the app's routes: upgrades for the mounted app
        return router, list(self.routes)

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` (by default a view's function name)."""
        if self._url_router is None or self._url_router[0] != len(self.routes):
            self._url_router = (len(self.routes), self.compile_routes()[0])
        return self._url_router[1].url_for(name, [(k, str(v)) for k, v in params.items()])

    # -- pages ----------------------------------------------------------------------

    @property
    def templates(self) -> Templates:
        """The app's :class:`~hyperdjango.templates.Templates`: ``./templates`` and the
        built-in ones, reloaded on change with ``debug`` or ``hyper run --reload``.
        Assign your own to change it."""
        if self._templates is None:
            from .templates import Templates

            self._templates = Templates("templates", reload=True if self.debug else None)
        return self._templates

    @templates.setter
    def templates(self, templates: Templates) -> None:
        self._templates = templates

    # -- errors ---------------------------------------------------------------------

    def server_error(self, request: Request, exc: BaseException) -> Response:
        """The 500 response for an unhandled exception; always logged. A browser gets
        ``templates/500.html`` when the app has it, and with ``debug`` the debug page."""
        log.error("unhandled exception in %s %s", request.method, request.path, exc_info=exc)
        if self.debug:
            if wants_html(request):
                try:
                    return debug_page(request, exc)
                except Exception:  # the debug page must not hide the original error
                    log.exception("the debug error page failed")
            return Response.text("".join(traceback.format_exception(exc)), status=500)
        page = template_page(request, 500, {"status": 500, "detail": "Internal Server Error"})
        return page or Response.json({"detail": "Internal Server Error"}, status=500)

    # -- lifecycle ------------------------------------------------------------------

    def check_settings(self) -> None:
        """Fails the start-up of a misconfigured app: middleware that signs
        (sessions, CSRF, auth) with no secret key and ``debug=False``."""
        if any(getattr(m, "requires_secret_key", False) for m in self.middleware):
            self.settings.require_secret_key()
        if self.settings.allowed_hosts is None and not self.debug:
            log.info("allowed_hosts is not set: every Host header is answered")
    async def start_services(self) -> None:
        """What a server does before the first request (``serve``, and ASGI
        lifespan startup under another server): connects the database, starts
        mounted apps (their lifespan), runs the startup hooks, then starts the
        task queue (tasks may need what the hooks set up). A misconfigured app
        (:meth:`check_settings`) fails here, on every server alike."""
        self.check_settings()
        await self.database.connect()
        for mounted in self.mounts:
            if mounted.lifespan is not None:
                await mounted.lifespan.startup()
        await self.startup()
        # In-process periodic tasks are scheduled by one server process only; the
        # database backend makes every process agree on one run per slot anyway.
        await self.task_queue.start(periodic=self.worker_index == 0 or self.task_queue.backend.name == "database")

    async def stop_services(self, grace: float = 30.0) -> None:
        """What a server does after the last request: stops the task queue (giving
        running jobs ``grace`` seconds), then runs the shutdown hooks, which may
        close what the jobs use. Connections are closed by the caller
        (:meth:`close_connections`)."""
        await self.task_queue.stop(grace)
        await self.shutdown()
        for mounted in self.mounts:
            if mounted.lifespan is not None:
                await mounted.lifespan.shutdown()

    async def close_connections(self) -> None:
        """Closes what the app holds open: its caches' connections and its database.
        Servers call it last, after :meth:`stop_services` (or a failed start)."""
        await close_caches()
        await self.database.close()

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        """The app as an ASGI 3 application (http, websocket, lifespan), for
        uvicorn, Granian, Hypercorn, Daphne or ``httpx.ASGITransport``; see
        :mod:`hyperdjango.serving.as_asgi` and docs/asgi.md."""
        if self._asgi is None:
            from .serving.as_asgi import AsgiAdapter

            self._asgi = AsgiAdapter(self)
        await self._asgi(scope, receive, send)

    async def startup(self) -> None:
        """Runs the startup hooks in order."""
        for hook in self.startup_hooks:
            await _call(hook)
        self.started = True

    async def shutdown(self) -> None:
        """Runs the shutdown hooks in order; one failing does not stop the others."""
        self.started = False
        for hook in self.shutdown_hooks:
            try:
                await _call(hook)
            except Exception:
                log.exception("shutdown hook %r failed", hook)

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        stop: asyncio.Event | None = None,
        ready: Callable[[str, int], Any] | None = None,
        grace: float = 30.0,
        **server_options: Any,
    ) -> None:
        """Serves on the running loop until ``stop`` is set, then shuts down
        gracefully: no new connections, in-flight requests finish within
        ``grace`` seconds, shutdown hooks run. ``ready(host, port)`` is called
        once the port is bound. ``server_options`` are the engine's limits
        (``header_timeout``, ``keepalive_timeout``, ``max_connections``, ...).
        """
        from .serving.dispatch import Dispatcher

        loop = asyncio.get_running_loop()
        stop = stop or asyncio.Event()
        router, routes = self.compile_routes()
        server_options.setdefault("max_body_size", self.max_body_size)
        # Checked by the engine: a bad Host is a 400 before any Python runs.
        server_options.setdefault("allowed_hosts", self.settings.hosts_answered())
        # With middleware, slash redirects pass through it (CORS headers on them too);
        # without, the engine answers them, a little faster.
        server_options.setdefault("redirects_in_python", bool(self.middleware))
        server = _core.Server(router, host=host, port=port, **server_options)
        executor = ThreadPoolExecutor(self.thread_pool_size, thread_name_prefix="hyperdjango-sync")
        # The loop may outlive the server (an async TestClient runs on the test's loop):
        # its own default executor is put back at the end. asyncio keeps it here.
        previous_executor = getattr(loop, "_default_executor", None)
        loop.set_default_executor(executor)
        try:
            await self.start_services()
            bound_host, bound_port = server.start()
            dispatcher = Dispatcher(self, server, routes, loop)
            fd = server.fileno()
            loop.add_reader(fd, dispatcher.on_readable)
            # A loop callback, not this task: requests start eagerly, with their own task as the current one.
            loop.call_soon(dispatcher.on_readable)
            try:
                if ready is not None:
                    ready(bound_host, bound_port)
                await stop.wait()
            finally:
                self.started = False  # /ready answers 503 while in-flight requests drain
                finished = await loop.run_in_executor(None, server.shutdown, grace)
                if not finished:
                    log.warning("requests still running after the %ss grace period were dropped", grace)
                loop.remove_reader(fd)
                await dispatcher.wait_idle(timeout=1.0)
                await self.stop_services(grace)
        finally:
            await self.close_connections()
            executor.shutdown(wait=False, cancel_futures=True)
            if previous_executor is not None:
                loop.set_default_executor(previous_executor)
            elif hasattr(loop, "_default_executor"):
                loop._default_executor = None  # asyncio makes a fresh one on next use
            else:
                loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio"))

    def run(self, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **options: Any) -> None:
        """Serves until SIGTERM or SIGINT, with ``workers`` processes sharing the port.

        A dead worker is restarted. Options are those of :meth:`serve`.
        """
        from .serving.workers import run

        run(self, host, port, workers, options)


def _view_name(route: Route) -> str:
    endpoint = route.endpoint
    return f"{getattr(endpoint, '__module__', '?')}.{getattr(endpoint, '__qualname__', repr(endpoint))}"


def _conflicting_views(earlier: list[Route], route: Route, message: str) -> str:
    """Names the views behind a route conflict the engine reported (it knows patterns only)."""
    for other in earlier:
        same_method = other.pattern == route.pattern and set(other.methods) & set(route.methods)
        if same_method or (other.pattern != route.pattern and f'"{other.pattern}"' in message):
            return f"{_view_name(other)} and {_view_name(route)}"
    return _view_name(route)


async def _call(hook: Callable[[], Any]) -> None:
    result = hook()
    if inspect.isawaitable(result):
        await result
