"""The ``hyper`` command: ``hyper run module:app``, ``hyper routes module:app``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import HyperApp


def load_app(target: str) -> HyperApp:
    """Imports ``module:attribute`` (attribute defaults to ``app``) from the current directory."""
    from .app import HyperApp

    module_name, _, attribute = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app", None)
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

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
