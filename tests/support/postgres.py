"""A PostgreSQL server for the tests, and fresh databases on it.

Where the server comes from, in order:
1. ``$DATABASE_URL`` (its host, port and credentials; the database part is ignored),
2. a server on 127.0.0.1:5432 that accepts us (trust auth, as on the dev machines),
3. a throwaway cluster made with ``initdb`` and started with ``pg_ctl`` on a free
   port, owned by the ``postgres`` user when we are root (PostgreSQL refuses root),
   and removed at the end.

Databases are created with ``CREATE DATABASE`` through ``psql`` and dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class PgServer:
    host: str
    port: int
    user: str
    password: str | None = None
    cluster_dir: str | None = None

    def url(self, database: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        env = {**os.environ, "PGCONNECT_TIMEOUT": "5"}
        if self.password:
            env["PGPASSWORD"] = self.password
        result = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port),
             "-U", self.user, "-d", database, "-c", sql],
            capture_output=True, text=True, env=env, timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, prefix: str = "hd_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def halt(self) -> None:
        """Stops a throwaway cluster at once (``-m immediate``: no goodbye to its clients),
        keeping its data, and waits until its port refuses connections."""
        assert self.cluster_dir, "only a throwaway cluster may be halted"
        _as_postgres([_bin("pg_ctl"), "-D", self.cluster_dir, "-m", "immediate", "-w", "stop"])
        _wait_for(lambda: not _reachable(self.host, self.port), "the throwaway PostgreSQL cluster to stop")

    def start_again(self) -> None:
        """Starts a halted throwaway cluster again, on the same port, with its data."""
        assert self.cluster_dir, "only a throwaway cluster may be started again"
        _pg_ctl_start(self.cluster_dir, self.host, self.port)
        _wait_for(lambda: _reachable(self.host, self.port), "the throwaway PostgreSQL cluster to start")

    def stop(self) -> None:
        if self.cluster_dir:
            _as_postgres([_bin("pg_ctl"), "-D", self.cluster_dir, "-m", "immediate", "stop"])
            shutil.rmtree(os.path.dirname(self.cluster_dir), ignore_errors=True)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"{name} not found: apt-get install postgresql")
    return found


def _as_postgres(cmd: list[str]) -> None:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(listen: str = "127.0.0.1", clients: str | None = None) -> PgServer:
    """A throwaway cluster listening on ``listen``; ``clients`` (a network such as
    ``10.1.2.0/24``) may connect too, without a password. ``stop()`` removes it."""
    base = tempfile.mkdtemp(prefix="hyperdjango-pg-")
    data = os.path.join(base, "data")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        os.chmod(base, 0o755)
    _as_postgres([_bin("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
    if clients is not None:
        with open(os.path.join(data, "pg_hba.conf"), "a") as hba:
            hba.write(f"host all all {clients} trust\n")
    port = _free_port()
    _pg_ctl_start(data, listen, port)
    _wait_for(lambda: _reachable(listen, port), "the throwaway PostgreSQL cluster to start")
    return PgServer(listen, port, "postgres", cluster_dir=data)


def _pg_ctl_start(data: str, listen: str, port: int) -> None:
    base = os.path.dirname(data)
    _as_postgres([_bin("pg_ctl"), "-D", data, "-w", "-l", os.path.join(base, "log"),
                  "-o", f"-p {port} -k {base} -c listen_addresses={listen} -c fsync=off", "start"])


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def find_or_start_server() -> PgServer:
    """The server the tests use (see the module docs)."""
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        return PgServer(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres", parts.password)
    if _reachable("127.0.0.1", 5432):
        for user in ("postgres", os.environ.get("USER") or "root"):
            server = PgServer("127.0.0.1", 5432, user)
            try:
                server.psql("SELECT 1")
                return server
            except RuntimeError:
                continue
    return start_cluster()


def main(argv: list[str]) -> None:
    """Shell helpers for ``dev.sh test``.

    ``postgres.py env`` prints exports: ``DATABASE_URL`` (a server the tests may
    create databases on), ``HYPERDJANGO_PG_URL`` (a fresh database for the
    engine's cargo tests), ``HYPERDJANGO_PG_CARGO_DB`` (its name) and
    ``HYPERDJANGO_PG_CLUSTER`` (the throwaway cluster, if one was started).
    ``postgres.py cleanup``, with those variables set, drops the cargo
    database and stops the cluster.
    """
    import shlex

    if argv[:1] == ["cleanup"]:
        cluster = os.environ.get("HYPERDJANGO_PG_CLUSTER")
        if cluster:
            PgServer("127.0.0.1", 0, "postgres", cluster_dir=cluster).stop()
        elif os.environ.get("HYPERDJANGO_PG_CARGO_DB"):
            find_or_start_server().drop_database(os.environ["HYPERDJANGO_PG_CARGO_DB"])
        return
    server = find_or_start_server()
    cargo_db = server.create_database("hd_cargo")
    exports = {
        "DATABASE_URL": server.url("postgres"),
        "HYPERDJANGO_PG_URL": server.url(cargo_db),
        "HYPERDJANGO_PG_CARGO_DB": cargo_db,
        "HYPERDJANGO_PG_CLUSTER": server.cluster_dir or "",
    }
    for key, value in exports.items():
        print(f"export {key}={shlex.quote(value)}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
