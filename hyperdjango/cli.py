"""The ``hyper`` command: ``hyper startproject NAME [DIR]``, ``hyper run`` (a HyperApp, or any ASGI 3 / WSGI app), ``hyper routes``, ``hyper check``, ``hyper worker`` and ``hyper tasks`` (each takes ``module:app``);
``hyper makemigrations``, ``hyper migrate`` and ``hyper showmigrations`` (see hyperdjango/migrations/commands.py);
``hyper createsuperuser``, ``changepassword``, ``createtoken`` and ``clearsessions`` (hyperdjango/auth/commands.py)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from .importing import import_target

if TYPE_CHECKING:
    from .app import HyperApp


def load_app(target: str) -> HyperApp:
    """The HyperApp named by ``module:attribute``."""
    from .app import HyperApp

    _, app = import_target(target)
    if not isinstance(app, HyperApp):
        raise SystemExit(f"hyper: {target!r} is not a HyperApp (expected module:attribute)")
    return app


def _run(args: argparse.Namespace) -> None:
    if args.reload:
        from .serving.reload import run_with_reload

        argv = [sys.executable, "-m", "hyperdjango", "run", args.app, "--host", args.host, "--port", str(args.port)]
        argv += ["--workers", str(args.workers), "--interface", args.interface, "--threads", str(args.threads)]
        argv += ["--root-path", args.root_path]
        if args.max_body_size is not None:
            argv += ["--max-body-size", str(args.max_body_size)]
        if args.access_log:
            argv += ["--access-log", args.access_log]
        os.environ["HYPERDJANGO_RELOAD"] = "1"  # the child re-reads changed templates too
        run_with_reload(argv, [os.getcwd()])
        return
    from .app import HyperApp
    from .serving.interface import servable

    _, target = import_target(args.app)
    app = servable(target, args.interface, name=args.app, threads=args.threads, root_path=args.root_path)
    if isinstance(app, HyperApp):
        from .migrations.pending import warn_unapplied_at_startup

        warn_unapplied_at_startup(app, args.app.partition(":")[0], args.app)
        if args.access_log:
            from .middleware.access_log import enable_access_log

            enable_access_log(app, args.access_log)
    elif args.access_log:
        raise SystemExit("hyper: --access-log is for HyperApps (ASGI and WSGI apps log through their own framework)")
    options = {} if args.max_body_size is None else {"max_body_size": args.max_body_size}
    app.run(host=args.host, port=args.port, workers=args.workers, **options)


def _routes(args: argparse.Namespace) -> None:
    app = load_app(args.app)
    router, _ = app.compile_routes()
    rows = [(",".join(methods), pattern, name or "") for pattern, methods, name in router.routes()]
    width = max((len(r[0]) for r in rows), default=7)
    pwidth = max((len(r[1]) for r in rows), default=7)
    print(f"{'METHODS':<{width}}  {'PATTERN':<{pwidth}}  NAME")
    for methods, pattern, name in rows:
        print(f"{methods:<{width}}  {pattern:<{pwidth}}  {name}")


def _check(args: argparse.Namespace) -> None:
    import asyncio

    from .checks import check_app, check_database

    app = load_app(args.app)
    issues = check_app(app)
    if not args.no_database:

        async def database() -> list:
            try:
                return await check_database(app, args.app.partition(":")[0])
            finally:
                await app.database.close()

        issues += asyncio.run(database())
    for issue in issues:
        print(issue)
    errors = sum(issue.error for issue in issues)
    print(f"System check identified {len(issues) or 'no'} issue(s) ({errors} error(s)).")
    sys.exit(1 if errors else 0)


def _worker(args: argparse.Namespace) -> None:
    from .tasks.process import run_worker

    app = load_app(args.app)
    queues = [q.strip() for q in args.queues.split(",") if q.strip()] if args.queues else None
    run_worker(app, concurrency=args.concurrency, queues=queues, grace=args.grace, periodic=not args.no_periodic)


def _tasks(args: argparse.Namespace) -> None:
    from .tasks.process import run_tasks_command

    app = load_app(args.app)
    statuses = [s.strip() for s in args.status.split(",") if s.strip()]
    sys.exit(run_tasks_command(app, statuses=statuses, limit=args.limit, retry=args.retry or []))


def _startproject(args: argparse.Namespace) -> None:
    from .startproject import StartProjectError, start_project

    try:
        start_project(args.name, args.directory)
    except StartProjectError as e:
        raise SystemExit(f"hyper startproject: {e}") from None
    print(f"Wrote project {args.name} in {args.directory or args.name}: cd there, then")
    print(f"  hyper migrate {args.name}.main && hyper run {args.name}.main:app")


def _collectstatic(args: argparse.Namespace) -> None:
    from .static_css import CSSReferenceError
    from .staticfiles import collect

    app = load_app(args.app)
    if app.staticfiles is None:
        sys.exit(f"{args.app} serves no static files (call app.static(...))")
    output = args.output or app.staticfiles.root or "staticfiles"
    try:
        paths = collect(app.staticfiles.sources, output, static_url=app.staticfiles.prefix)
    except CSSReferenceError as e:
        sys.exit(f"hyper collectstatic: {e}")
    print(f"{len(paths)} static files collected into {os.path.abspath(output)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hyper", description="hyperdjango command line")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="serve an app")
    run.add_argument("app", help="module:attribute, e.g. examples.shop:app")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--reload", action="store_true", help="restart when a .py file changes")
    from .middleware.access_log import FORMATS

    run.add_argument("--access-log", nargs="?", const="common", choices=FORMATS,
                     help="log every request on stdout (common when no format is given), with a request id")
    run.add_argument(
        "--interface", choices=["auto", "hyper", "asgi", "wsgi"], default="auto",
        help="what the target is (default: detected; a HyperApp, an ASGI 3 app or a WSGI app)",
    )
    run.add_argument("--threads", type=int, default=32, help="WSGI: requests run at once per worker (thread pool size)")
    run.add_argument("--root-path", default="", help="ASGI/WSGI: the prefix a proxy strips (root_path / SCRIPT_NAME)")
    run.add_argument("--max-body-size", type=int, help="largest request body in bytes, 413 beyond (default: the app's, 10 MiB)")
    run.set_defaults(func=_run)

    routes = commands.add_parser("routes", help="list the routes of an app")
    routes.add_argument("app")
    routes.set_defaults(func=_routes)

    check = commands.add_parser("check", help="check an app's models, routes, settings and database")
    check.add_argument("app")
    check.add_argument("--no-database", action="store_true", help="skip the checks that connect to the database")
    check.set_defaults(func=_check)

    worker = commands.add_parser("worker", help="run background-task workers (task_backend='database')")
    worker.add_argument("app")
    worker.add_argument("--queues", default="", help="comma-separated queues to take jobs from (default: all)")
    worker.add_argument("--concurrency", type=int, default=8, help="jobs run at a time")
    worker.add_argument("--grace", type=float, default=30.0, help="seconds running jobs get after SIGTERM")
    worker.add_argument("--no-periodic", action="store_true", help="do not enqueue periodic tasks from this process")
    worker.set_defaults(func=_worker)

    tasks = commands.add_parser("tasks", help="list background jobs; retry dead ones")
    tasks.add_argument("app")
    tasks.add_argument("--status", default="pending,running,failed", help="comma-separated statuses to list")
    tasks.add_argument("--limit", type=int, default=100)
    tasks.add_argument("--retry", action="append", metavar="JOB_ID", help="put a failed job back in the queue")
    tasks.set_defaults(func=_tasks)

    start = commands.add_parser("startproject", help="write a new project's skeleton")
    start.add_argument("name", help="the project's Python package, e.g. shop")
    start.add_argument("directory", nargs="?", help="where to write it (default: ./NAME)")
    start.set_defaults(func=_startproject)

    collectstatic = commands.add_parser("collectstatic", help="gather static files with hashed names and a manifest")
    collectstatic.add_argument("app")
    collectstatic.add_argument("--output", help="the folder to fill (default: the root given to app.static)")
    collectstatic.set_defaults(func=_collectstatic)

    from .migrations.commands import add_commands as add_migration_commands

    add_migration_commands(commands)

    from .auth.commands import add_commands as add_auth_commands

    add_auth_commands(commands)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
