"""LISTEN/NOTIFY: ``Database.listen`` / ``Database.notify`` (PostgreSQL), refused on SQLite."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from hyperdjango.database import DataError, Database, InterfaceError, Listener, Notification, atomic

LIMIT = 10.0


def channel(prefix: str = "hdj") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def wait_for(predicate, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + LIMIT
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def pg(pg_url):
    db = Database(pg_url + "?max_size=2")
    await db.connect()
    yield db
    await db.close()


async def test_sync_callback_gets_notifications_in_order(pg):
    ch, other = channel(), channel("Other Ch")
    got: list[Notification] = []
    listener = await pg.listen(ch, got.append)
    assert isinstance(listener, Listener)
    await listener.listen(other)
    assert listener.channels == sorted([ch, other])
    for i in range(300):
        await pg.notify(other if i % 4 == 0 else ch, f"m{i}")
    await pg.notify(ch)  # no payload
    await wait_for(lambda: len(got) == 301, "301 notifications")
    assert [n.payload for n in got[:300]] == [f"m{i}" for i in range(300)]
    assert [n.channel for n in got[:8]] == [other, ch, ch, ch, other, ch, ch, ch]
    assert got[300] == Notification(ch, "", got[300].process_id)
    assert got[0].process_id > 0
    stats = listener.stats()
    assert stats["delivered"] == 301 and stats["reconnects"] == 0
    await listener.close()
    assert listener.closed


async def test_async_callbacks_run_one_at_a_time_in_order(pg):
    ch = channel()
    seen: list[str] = []
    running = 0
    overlapped = False

    async def callback(n: Notification) -> None:
        nonlocal running, overlapped
        running += 1
        overlapped = overlapped or running > 1
        await asyncio.sleep(0.001 if int(n.payload) % 7 else 0.01)
        seen.append(n.payload)
        running -= 1

    listener = await pg.listen(ch, callback)
    await asyncio.gather(*(pg.notify(ch, str(i)) for i in range(1)))
    for i in range(1, 60):
        await pg.notify(ch, str(i))
    await wait_for(lambda: len(seen) == 60, "60 async callbacks")
    assert seen == [str(i) for i in range(60)]
    assert not overlapped
    await listener.close()


async def test_callback_errors_are_reported_and_delivery_goes_on(pg):
    ch = channel()
    got: list[str] = []
    reported: list[dict] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))

    def callback(n: Notification) -> None:
        if n.payload == "boom":
            raise ValueError("boom")
        got.append(n.payload)

    try:
        listener = await pg.listen(ch, callback)
        for payload in ("a", "boom", "b"):
            await pg.notify(ch, payload)
        await wait_for(lambda: got == ["a", "b"], "the notifications around the failing one")
        assert isinstance(reported[0]["exception"], ValueError)
        await listener.close()
    finally:
        loop.set_exception_handler(None)


async def test_notify_in_a_transaction_is_delivered_at_commit(pg):
    ch = channel()
    got: list[str] = []
    listener = await pg.listen(ch, lambda n: got.append(n.payload))
    async with atomic(pg):
        await pg.notify(ch, "committed")
        await asyncio.sleep(0.2)
        assert got == []
    with pytest.raises(RuntimeError):
        async with atomic(pg):
            await pg.notify(ch, "rolled back")
            raise RuntimeError
    await pg.notify(ch, "after")
    await wait_for(lambda: got == ["committed", "after"], "committed notifications only")
    await listener.close()


async def test_payload_limit_and_bad_channels(pg):
    ch = channel()
    got: list[str] = []
    listener = await pg.listen(ch, lambda n: got.append(n.payload))
    biggest = "x" * 7999
    await pg.notify(ch, biggest)
    with pytest.raises(DataError, match="8000"):
        await pg.notify(ch, "x" * 8000)
    with pytest.raises(InterfaceError):
        await pg.notify("", "x")
    with pytest.raises(InterfaceError):
        await listener.listen("c" * 64)
    await wait_for(lambda: got == [biggest], "the 7999-byte payload")
    await listener.close()


async def test_close_stops_delivery(pg):
    ch = channel()
    got: list[str] = []
    async with await pg.listen(ch, lambda n: got.append(n.payload)) as listener:
        await pg.notify(ch, "1")
        await wait_for(lambda: got == ["1"], "the first notification")
    assert listener.closed and not listener.connected
    await pg.notify(ch, "2")
    await asyncio.sleep(0.3)
    assert got == ["1"]
    await listener.close()  # idempotent


async def test_unlisten_stops_delivery(pg):
    a, b = channel(), channel()
    got: list[tuple[str, str]] = []
    listener = await pg.listen(a, lambda n: got.append((n.channel, n.payload)))
    await listener.listen(b)
    await listener.unlisten(a)
    await pg.notify(a, "no")
    await pg.notify(b, "yes")
    await wait_for(lambda: got == [(b, "yes")], "the notification on b")
    await asyncio.sleep(0.1)
    assert got == [(b, "yes")]
    await listener.close()


async def test_reconnect_after_pg_terminate_backend(pg_url):
    app = channel("hdj_app")
    db = Database(f"{pg_url}?application_name={app}")
    admin = Database(pg_url)
    ch = channel()
    events: list[str] = []
    listener = await db.listen(ch, lambda n: events.append(n.payload))

    @listener.on_reconnect
    async def reloaded() -> None:
        await asyncio.sleep(0)
        events.append("<reconnected>")

    await db.notify(ch, "before")
    await wait_for(lambda: events == ["before"], "the first notification")
    killed = await admin.query_val(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app
    )
    assert killed >= 1
    await wait_for(lambda: "<reconnected>" in events, "on_reconnect")
    assert listener.connected and listener.reconnects == 1
    # The pool notices its own killed connection on first use; retry once.
    for _ in range(3):
        try:
            await admin.notify(ch, "after")
            break
        except Exception:  # noqa: BLE001
            await asyncio.sleep(0.1)
    await wait_for(lambda: events[-1:] == ["after"], "a notification after the reconnect")
    assert events == ["before", "<reconnected>", "after"]
    assert listener.stats()["reconnects"] == 1
    await listener.close()
    await db.close()
    await admin.close()


async def test_sqlite_refuses_listen_and_notify(sqlite_url):
    db = Database(sqlite_url)
    with pytest.raises(InterfaceError, match="LISTEN/NOTIFY is a PostgreSQL feature"):
        await db.listen("c", print)
    with pytest.raises(InterfaceError, match="PostgreSQL"):
        await db.notify("c", "x")
    # The core refuses as well, for callers that bypass the Python check.
    from hyperdjango.runtime import loop_bridge

    with pytest.raises(InterfaceError, match="PostgreSQL"):
        await db._core.notify(loop_bridge(), "c", "x")
    await db.close()


async def test_a_slow_consumer_holds_the_connection_back_and_loses_nothing(pg):
    ch = channel()
    seen: list[int] = []
    caught_up = asyncio.Event()

    async def slow(n: Notification) -> None:
        # Behind until the test says otherwise: whether a consumer that merely yields falls
        # behind depended on how fast the server sent (on a loaded machine it kept up).
        await caught_up.wait()
        seen.append(int(n.payload))

    listener = await pg.listen(ch, slow, capacity=4)
    total = 3000
    await pg.pipeline([("SELECT pg_notify($1, $2)", (ch, str(i))) for i in range(total)])
    # Python's backlog (1024), then the loop queue (1024), then the engine's queue (4) fill
    # up: the reader waits for room instead of reading on (or dropping).
    await wait_for(lambda: listener.stats()["stalls"] > 0, "the reader to stall")
    assert seen == [] and listener.stats()["delivered"] < total, listener.stats()
    caught_up.set()
    await wait_for(lambda: len(seen) == total, f"{total} notifications")
    assert seen == list(range(total))
    stats = listener.stats()
    assert stats["stalls"] > 0, stats
    assert stats["delivered"] == total and stats["backlog"] == 0
    await listener.close()
