"""The test harness itself: it can run PostgreSQL without a server on the machine."""

from __future__ import annotations

import os

from support.postgres import start_cluster


def test_a_throwaway_cluster_starts_serves_a_fresh_database_and_goes_away():
    server = start_cluster()
    try:
        name = server.create_database()
        assert server.psql("SELECT current_database()", name).strip() == name
        server.drop_database(name)
    finally:
        server.stop()
    assert not os.path.exists(server.cluster_dir)


def test_a_throwaway_redis_server_starts_answers_and_goes_away():
    from support.redis import answers, start_throwaway

    server = start_throwaway()
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    try:
        assert answers("127.0.0.1", port)
    finally:
        server.stop()
    assert not answers("127.0.0.1", port)
    assert not os.path.exists(server.directory)
