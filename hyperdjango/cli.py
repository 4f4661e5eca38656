"""The ``hyper`` command: ``hyper startproject NAME [DIR]``, ``hyper run``, ``hyper routes``, ``hyper worker`` and ``hyper tasks`` (each takes ``module:app``);
``hyper makemigrations``, ``hyper migrate`` and ``hyper showmigrations`` (see hyperdjango/migrations/commands.py)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import HyperApp


def import_target(target: str) -> tuple[str, object]:
    """Imports ``module:attribute`` (attribute defaults to ``app``) from the current directory;
    returns the module's name and the attribute (None when the module has none)."""
    module_name, _, attribute = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    return module_name, getattr(module, attribute or "app", None)


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
        argv += ["--workers", str(args.workers)]
        run_with_reload(argv, [os.getcwd()])
        return
    app = load_app(args.app)
    app.run(host=args.host, port=args.port, workers=args.workers)


def _routes(args: argparse.Namespace) -> None:
    app = load_app(args.app)
    router, _ = app.compile_routes()
    rows = [(",".join(methods), pattern, name or "") for pattern, methods, name in router.routes()]
    width = max((len(r[0]) for r in rows), default=7)
    pwidth = max((len(r[1]) for r in rows), default=7)
    print(f"{'METHODS':<{width}}  {'PATTERN':<{pwidth}}  NAME")
    for methods, pattern, name in rows:
        print(f"{methods:<{width}}  {pattern:<{pwidth}}  {name}")


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hyper", description="hyperdjango command line")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="serve an app")
    run.add_argument("app", help="module:attribute, e.g. examples.shop:app")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--reload", action="store_true", help="restart when a .py file changes")
    run.set_defaults(func=_run)

    routes = commands.add_parser("routes", help="list the routes of an app")
    routes.add_argument("app")
    routes.set_defaults(func=_routes)

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

    from .migrations.commands import add_commands as add_migration_commands

    add_migration_commands(commands)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
