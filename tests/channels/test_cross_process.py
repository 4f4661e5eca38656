"""Two server processes sharing one channel layer, serving the spec's chat handler.

A ``websockets`` client on each joins the same room: messages, presence and
history agree on both sides, also after the layers' subscription connections
were killed (``pg_terminate_backend`` / ``CLIENT KILL``) and came back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from support.processes import free_port, wait_for

APPS = Path(__file__).parent / "apps"


@pytest.fixture
def chat_servers():
    procs = []

    def start(env: dict[str, str]) -> str:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "hyperdjango", "run", "chat_app:app", "--port", str(port)],
            cwd=APPS, env={**os.environ, **env},
        )
        procs.append(proc)
        base = f"127.0.0.1:{port}"

        def serving():
            assert proc.poll() is None, f"the chat server exited with {proc.returncode}"
            try:
                return httpx.get(f"http://{base}/", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(serving, what="the chat server answering")
        return base

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        assert proc.wait(timeout=30) == 0


def room(server: str) -> dict:
    return httpx.get(f"http://{server}/rooms/lobby", timeout=5).json()


def chat_across_processes(one: str, two: str, kill_subscriptions) -> None:
    with connect(f"ws://{one}/ws/chat/lobby?name=Alice") as alice, connect(f"ws://{two}/ws/chat/lobby?name=Bob") as bob:
        both = [{"user_id": "alice", "name": "Alice"}, {"user_id": "bob", "name": "Bob"}]
        for server in (one, two):
            wait_for(lambda: sorted(room(server)["presence"], key=lambda p: p["user_id"]) == both, what="presence")

        alice.send(json.dumps({"text": "hi Bob"}))
        assert json.loads(bob.recv(timeout=10)) == {"type": "message", "user": "Alice", "text": "hi Bob"}
        assert json.loads(alice.recv(timeout=10))["text"] == "hi Bob"
        bob.send(json.dumps({"text": "hi Alice"}))
        assert json.loads(alice.recv(timeout=10))["text"] == "hi Alice"
        assert json.loads(bob.recv(timeout=10))["text"] == "hi Alice"  # once: no double delivery
        texts = ["hi Bob", "hi Alice"]
        for server in (one, two):
            wait_for(lambda: [m["text"] for m in room(server)["history"]] == texts, what="history")

        assert kill_subscriptions() == 2
        # Sent while (or just after) the other side reconnects: delivered either by
        # the notification or by the reload that follows the reconnect.
        alice.send(json.dumps({"text": "during the outage"}))
        assert json.loads(bob.recv(timeout=20))["text"] == "during the outage"
        assert json.loads(alice.recv(timeout=10))["text"] == "during the outage"
        for server in (one, two):
            wait_for(lambda: room(server)["stats"]["reconnects"] >= 1, what="the reconnect")

        bob.send(json.dumps({"text": "back again"}))
        assert json.loads(alice.recv(timeout=10))["text"] == "back again"
        assert json.loads(bob.recv(timeout=10))["text"] == "back again"
        texts += ["during the outage", "back again"]
        for server in (one, two):
            wait_for(lambda: [m["text"] for m in room(server)["history"]] == texts, what="history after the reconnect")
            assert sorted(room(server)["presence"], key=lambda p: p["user_id"]) == both
    for server in (one, two):
        wait_for(lambda: room(server)["presence"] == [], what="presence after both left")


def test_postgres_layer_chat_across_two_processes_survives_killed_listen_connections(chat_servers, pg_server, pg_url):
    database = pg_url.rsplit("/", 1)[1]
    one = chat_servers({"CHANNELS_URL": pg_url})
    two = chat_servers({"CHANNELS_URL": pg_url})

    def kill():
        out = pg_server.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            # This test's database only: other runs may share the server.
            "WHERE datname = current_database() AND application_name LIKE 'hyperdjango_channels:%' "
            "AND query ILIKE 'LISTEN%'", database,
        )
        return out.split().count("t")

    chat_across_processes(one, two, kill)


def test_redis_layer_chat_across_two_processes_survives_killed_pubsub_connections(chat_servers, redis_url):
    import redis

    env = {"CHANNELS_URL": redis_url, "CHANNELS_PREFIX": f"hd-test:{uuid.uuid4().hex[:8]}"}
    one = chat_servers(env)
    two = chat_servers(env)
    client = redis.Redis.from_url(redis_url)

    names = {f"hyperdjango_channels:{room(server)['sender']}" for server in (one, two)}

    def kill():
        # This test's subscriptions only: other pub/sub clients may share the server.
        subscribed = [c for c in client.client_list() if c["name"] in names and int(c["sub"]) > 0]
        return sum(client.client_kill_filter(_id=c["id"]) for c in subscribed)

    try:
        chat_across_processes(one, two, kill)
    finally:
        client.close()
