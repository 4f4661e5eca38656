"""A process killed without ``close()`` does not stay present: the others
notice it is gone within ``presence_check_interval`` (PostgreSQL: no session
left in ``pg_stat_activity``; Redis: its heartbeat key expired)."""

from __future__ import annotations

import pytest

from support.waiting import until

cross_process = pytest.mark.parametrize("kind", ["postgres", "redis"], indirect=True)

#: Small so that the test is short, not so small that a loaded machine's pauses
#: look like death (a Redis heartbeat lives three intervals).
INTERVAL = 0.5


@cross_process
async def test_the_presence_of_a_killed_process_is_removed_and_announced(layer_process, layers, name, kind):
    watcher, = await layers(1, presence_check_interval=INTERVAL)
    channel = name()
    watcher.channel(channel).join(user_id="alive", metadata={"name": "Alive"})
    doomed = await layer_process(presence_check_interval=INTERVAL)
    assert await doomed.send(f"join {channel} doomed Doomed") == "joined"
    both = [{"user_id": "alive", "name": "Alive"}, {"user_id": "doomed", "name": "Doomed"}]
    await until(lambda: sorted(watcher.channel(channel).presence(), key=lambda p: p["user_id"]) == both)

    doomed.kill()
    await until(lambda: watcher.channel(channel).presence() == both[:1], timeout=30, what="the dead user leaving")
    # The announced leave may arrive before the sweep's own answer: wait for the count too.
    await until(lambda: watcher.stats()["presence_swept"] >= 1, what="the sweep counted")
    later, = await layers(1)  # the rows are gone from the backend too
    assert later.channel(channel).presence() == both[:1]


@cross_process
async def test_a_live_process_keeps_its_presence_through_liveness_checks(layer_process, layers, name, kind):
    watcher, = await layers(1, presence_check_interval=2 * INTERVAL)
    channel = name()
    other = await layer_process(presence_check_interval=2 * INTERVAL)
    assert await other.send(f"join {channel} u1 Ann") == "joined"
    await until(lambda: watcher.channel(channel).presence() == [{"user_id": "u1", "name": "Ann"}])
    # Several checks pass in both processes; the living stay.
    await until(lambda: watcher.stats()["liveness_checks"] >= 3, timeout=30)
    assert watcher.channel(channel).presence() == [{"user_id": "u1", "name": "Ann"}]
    assert watcher.stats()["presence_swept"] == 0 and watcher.stats()["sweep_failures"] == 0


@cross_process
async def test_a_live_process_taken_for_dead_writes_its_presence_again(layers, name, kind):
    a, b = await layers()
    channel = name()
    a.channel(channel).join(user_id="u1", metadata={"name": "Ann"})
    await until(lambda: b.channel(channel).presence() == [{"user_id": "u1", "name": "Ann"}])
    if kind == "redis":
        # a stalled past its heartbeat: b takes it for dead; a's next check finds its key gone.
        await a._client.delete(a._key("alive", a.sender))
        await b._sweep()
        assert b.stats()["presence_swept"] == 1
        await until(lambda: b.channel(channel).presence() == [], what="the leave b announced")
        await a._check_liveness()
    else:
        # a was cut off (its rows removed meanwhile); its LISTEN connection comes back.
        await b.database.execute("DELETE FROM hyperdjango_channel_presence WHERE sender = $1", a.sender)
        await b.database.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
            f"hyperdjango_channels:{a.sender}",
        )
        await until(lambda: a.stats()["reconnects"] == 1, what="a's reconnect")

        async def stored_again():
            count = "SELECT count(*) FROM hyperdjango_channel_presence WHERE sender = $1"
            return await b.database.query_val(count, a.sender) == 1

        await until(stored_again, what="a's row written again")
    await until(lambda: b.channel(channel).presence() == [{"user_id": "u1", "name": "Ann"}], what="a's presence again")
    assert a.channel(channel).presence() == [{"user_id": "u1", "name": "Ann"}]
