"""Instructions the session middleware spends per request, counted, not timed.

Runs ``SessionMiddleware`` (signed-cookie store, so no server is involved) around a view
that reads and writes its session, N times in one event loop, and nothing else. Run it
under ``perf stat -e instructions:u`` with N and with 0 and divide the difference by N:

    perf stat -x, -e instructions:u .venv/bin/python benchmarks/session_cost.py 20000
    perf stat -x, -e instructions:u .venv/bin/python benchmarks/session_cost.py 0
"""

from __future__ import annotations

import asyncio
import sys

from hyperdjango import HyperApp
from hyperdjango.responses import Response
from hyperdjango.sessions import SessionMiddleware
from hyperdjango.sessions.backends.signed_cookies import SALT
from hyperdjango import signing


class BenchRequest:
    """What the middleware reads of a request: its cookies."""

    def __init__(self, cookies: dict[str, str]) -> None:
        self.cookies = cookies


async def view(request: BenchRequest) -> Response:
    request.session["visits"] = request.session.get("visits", 0) + 1
    return Response(str(request.session["visits"]))


async def main(requests: int) -> None:
    HyperApp(secret_key="session cost")  # the secret key signing uses
    middleware = SessionMiddleware(engine="signed_cookies")
    cookie = signing.dumps({"visits": 1}, salt=SALT, compress=True)
    for _ in range(requests):
        await middleware(BenchRequest({"sessionid": cookie}), view)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000))
