"""The test harness itself: it can run PostgreSQL without a server on the machine."""

from __future__ import annotations

import os

from support.postgres import _start_cluster


def test_a_throwaway_cluster_starts_serves_a_fresh_database_and_goes_away():
    server = _start_cluster()
    try:
        name = server.create_database()
        assert server.psql("SELECT current_database()", name).strip() == name
        server.drop_database(name)
    finally:
        server.stop()
    assert not os.path.exists(server.cluster_dir)
