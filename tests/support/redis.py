"""A Redis server for the tests.

Where it comes from, in order:
1. ``$REDIS_URL``,
2. a server on 127.0.0.1:6379 that answers PING,
3. a throwaway ``redis-server --port <free> --save ''`` (no persistence) in a
   temporary directory, stopped and removed at the end.

Tests share the server; each keeps to its own key prefix. Without a server
and without ``redis-server`` the Redis tests skip, unless
``HYPERDJANGO_REQUIRE_REDIS`` is set (``dev.sh test`` sets it): then they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass


@dataclass
class RedisServer:
    url: str
    #: The temporary directory of a throwaway server (its pid file is in it).
    directory: str | None = None

    def pid(self) -> int | None:
        if not self.directory:
            return None
        try:
            with open(os.path.join(self.directory, "redis.pid")) as f:
                return int(f.read().strip())
        except FileNotFoundError:
            return None

    def stop(self) -> None:
        if not self.directory:
            return
        pid = self.pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.directory, ignore_errors=True)


def answers(host: str, port: int) -> bool:
    """Whether a Redis server answers PING at host:port."""
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_throwaway(host: str = "127.0.0.1") -> RedisServer:
    """Starts ``redis-server`` on a free port of ``host``, without persistence, daemonized."""
    return _launch(tempfile.mkdtemp(prefix="hyperdjango-redis-"), _free_port(), host)


def restart(server: RedisServer, down_for: float = 0.0) -> None:
    """Kills a throwaway server (SIGKILL: no goodbye to its clients), waits
    ``down_for`` seconds and starts it again on the same port, empty."""
    kill(server)
    time.sleep(down_for)
    start_again(server)


def _address(server: RedisServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("redis://").split("/")[0].rsplit(":", 1)
    return host, int(port)


def kill(server: RedisServer) -> None:
    """Kills a throwaway server (SIGKILL) and waits until its port no longer answers."""
    assert server.directory, "only a throwaway server may be killed"
    host, port = _address(server)
    pid = server.pid()
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while answers(host, port) and time.monotonic() < deadline:
            time.sleep(0.01)


def start_again(server: RedisServer) -> None:
    """Starts a killed throwaway server again on the same port, empty."""
    assert server.directory, "only a throwaway server may be started again"
    host, port = _address(server)
    _launch(server.directory, port, host)


def _launch(directory: str, port: int, host: str = "127.0.0.1") -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: apt-get install redis-server")
    subprocess.run(
        # Protected mode refuses clients from other addresses: off only for a private network's address.
        [binary, "--port", str(port), "--bind", host, "--protected-mode", "yes" if host == "127.0.0.1" else "no",
         "--save", "", "--appendonly", "no",
         "--dir", directory, "--daemonize", "yes", "--pidfile", os.path.join(directory, "redis.pid"),
         "--logfile", os.path.join(directory, "redis.log")],
        check=True, capture_output=True, timeout=30,
    )
    server = RedisServer(f"redis://{host}:{port}/0", directory)
    deadline = time.monotonic() + 30
    while not answers(host, port):
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("the throwaway redis-server did not start")
        time.sleep(0.05)
    return server


def find_or_start_server() -> RedisServer:
    """The server the tests use (see the module docs)."""
    url = os.environ.get("REDIS_URL")
    if url:
        return RedisServer(url)
    if answers("127.0.0.1", 6379):
        return RedisServer("redis://127.0.0.1:6379/0")
    return start_throwaway()


def main(argv: list[str]) -> None:
    """Shell helpers for ``dev.sh test``: ``redis.py env`` prints ``REDIS_URL``
    and ``HYPERDJANGO_REDIS_DIR`` (the throwaway server's directory, if one was
    started); ``redis.py cleanup``, with them set, stops that server."""
    import shlex

    if argv[:1] == ["cleanup"]:
        directory = os.environ.get("HYPERDJANGO_REDIS_DIR")
        if directory:
            RedisServer(os.environ.get("REDIS_URL", ""), directory).stop()
        return
    server = find_or_start_server()
    print(f"export REDIS_URL={shlex.quote(server.url)}")
    print(f"export HYPERDJANGO_REDIS_DIR={shlex.quote(server.directory or '')}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
