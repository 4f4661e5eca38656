"""What only the PostgreSQL layer does: its LISTEN connection and its message table."""

from __future__ import annotations

import asyncio

import pytest

from hyperdjango.channels import PgChannelLayer
from hyperdjango.channels.pg_schema import MESSAGES


async def test_one_named_listen_connection_per_layer(pg_url):
    layer = PgChannelLayer(pg_url, notify_channel="hd_test_one_listener")
    await layer.connect()
    try:
        listening = await layer.database.query_val(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
            "AND query = 'LISTEN \"hd_test_one_listener\"'",
            f"hyperdjango_channels:{layer.sender}",
        )
        assert listening == 1
    finally:
        await layer.close()


async def test_old_messages_are_deleted_beyond_the_history(pg_url):
    layer = PgChannelLayer(pg_url, history_size=3, message_ttl=0)
    await layer.connect()
    try:
        for n in range(300):  # a clean-up runs every 256 publishes
            await layer.channel("cleanup:c").publish(n)
        kept = await layer.database.query_val(f"SELECT count(*) FROM {MESSAGES} WHERE channel = 'cleanup:c'")
        assert 3 <= kept < 300 - 250
        assert layer.channel("cleanup:c").history() == [297, 298, 299]
    finally:
        await layer.close()


def test_a_non_postgres_url_is_refused_with_a_clear_error():
    layer = PgChannelLayer("sqlite:///tmp/x.sqlite3")
    with pytest.raises(ValueError, match="needs a PostgreSQL URL"):
        asyncio.run(layer.connect())


async def test_publishes_issued_together_commit_together_and_keep_their_order(pg_url):
    # Two layers (two "processes") publish to overlapping channels at once: each
    # batch is one transaction (rows of one transaction share their xmin), the
    # channel locks are taken in one order (no deadlock), and each channel's
    # history is one order that keeps each publisher's own order.
    first, second = PgChannelLayer(pg_url), PgChannelLayer(pg_url)
    await first.connect()
    await second.connect()
    try:
        channels = ["batch:a", "batch:b", "batch:c"]
        await asyncio.gather(*(
            layer.channel(channels[(n + offset) % 3]).publish({"from": offset, "n": n})
            for n in range(60) for offset, layer in enumerate((first, second))
        ))
        transactions = await first.database.query_val(
            f"SELECT count(DISTINCT xmin::text) FROM {MESSAGES} WHERE channel = ANY($1)", channels)
        assert transactions <= 10, f"120 publishes issued together took {transactions} transactions"
        for _ in range(500):  # each layer also hears the other's, a moment later
            if all(len(layer.channel(name).history(limit=100)) == 40 for name in channels for layer in (first, second)):
                break
            await asyncio.sleep(0.01)
        for name in channels:
            history = first.channel(name).history(limit=100)
            assert history == second.channel(name).history(limit=100)
            for sender in (0, 1):
                mine = [m["n"] for m in history if m["from"] == sender]
                assert mine == sorted(mine) and len(mine) == 20
    finally:
        await first.close()
        await second.close()
