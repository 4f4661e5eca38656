"""The Redis layer over TLS (``rediss://``): a redis-server of the test's own listening
with TLS only, its certificate signed by a CA made here. The layer runs in a process of
its own that trusts that CA through ``SSL_CERT_FILE`` (what both the engine's rustls and
redis-py read), and a second one that does not trust it must be refused."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support.processes import free_port, wait_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None or shutil.which("redis-server") is None, reason="needs openssl and redis-server")

LAYER_ROUND_TRIP = textwrap.dedent(
    """
    import asyncio, sys
    from hyperdjango.channels import RedisChannelLayer

    async def main():
        layer = RedisChannelLayer(sys.argv[1], prefix="hd-tls")
        try:
            await asyncio.wait_for(layer.connect(), 20)
            got = []
            layer.channel("room").subscribe(got.append)
            await layer.channel("room").publish("over tls")
            for _ in range(200):
                if got:
                    break
                await asyncio.sleep(0.05)
            print("GOT", got)
        finally:
            await layer.close()

    asyncio.run(main())
    """
)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(directory: Path) -> None:
    """A CA, and a server certificate for 127.0.0.1 signed by it."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=hyperdjango test CA",
             "-keyout", "ca.key", "-out", "ca.pem", cwd=directory)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr", cwd=directory)
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
             "-extfile", "san.ext", "-out", "server.pem", cwd=directory)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=someone else",
             "-keyout", "other.key", "-out", "other.pem", cwd=directory)


@pytest.fixture
def tls_redis(tmp_path):
    _certificates(tmp_path)
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", "server.pem", "--tls-key-file", "server.key", "--tls-ca-cert-file", "ca.pem",
         "--tls-auth-clients", "no", "--save", "", "--appendonly", "no"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _accepts(port), what="the TLS redis-server")
        yield port, tmp_path
    finally:
        server.terminate()
        server.wait(timeout=10)


def _run_layer(url: str, ca_file: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SSL_CERT_FILE": str(ca_file)}
    return subprocess.run([sys.executable, "-c", LAYER_ROUND_TRIP, url], env=env, capture_output=True, text=True, timeout=120)


def test_the_layer_speaks_tls_to_a_server_it_trusts(tls_redis):
    port, directory = tls_redis
    done = _run_layer(f"rediss://127.0.0.1:{port}/0", directory / "ca.pem")
    assert done.returncode == 0, done.stderr
    assert "GOT ['over tls']" in done.stdout


def test_a_server_whose_certificate_is_not_trusted_is_refused(tls_redis):
    port, directory = tls_redis
    done = _run_layer(f"rediss://127.0.0.1:{port}/0", directory / "other.pem")
    assert done.returncode != 0
    assert "GOT" not in done.stdout
    assert "certificate" in done.stderr.lower() or "ssl" in done.stderr.lower(), done.stderr[-2000:]
