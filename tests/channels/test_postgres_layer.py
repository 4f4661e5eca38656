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
