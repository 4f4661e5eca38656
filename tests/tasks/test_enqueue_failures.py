"""An enqueue outside a transaction survives a transient failure of its INSERT;
inside a transaction, the failure fails the transaction."""

from __future__ import annotations

import pytest

from hyperdjango.database import Database, OperationalError, atomic
from hyperdjango.tasks import JobStatus
from hyperdjango.tasks.schema import TABLE

pytestmark = pytest.mark.parametrize("queue_backend", ["postgres"], indirect=True)


@pytest.fixture
async def first_insert_fails(pg_url):
    """The job table's next INSERT fails once, as when the server restarts (a
    sequence, unlike a row, is not rolled back with the failed statement)."""
    db = Database(pg_url)
    await db.execute("CREATE SEQUENCE hd_fail_once")
    await db.execute(
        "CREATE FUNCTION hd_fail_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF nextval('hd_fail_once') = 1 THEN RAISE EXCEPTION 'the server is restarting' USING ERRCODE = '57P03'; END IF; "
        "RETURN NEW; END $$"
    )
    await db.execute(f"CREATE TRIGGER hd_fail_once BEFORE INSERT ON {TABLE} FOR EACH ROW EXECUTE FUNCTION hd_fail_once()")
    yield
    await db.execute(f"DROP TRIGGER hd_fail_once ON {TABLE}")
    await db.execute("DROP FUNCTION hd_fail_once()")
    await db.execute("DROP SEQUENCE hd_fail_once")
    await db.close()


async def test_an_enqueue_outside_a_transaction_is_tried_again_after_a_transient_failure(make_queue, first_insert_fails):
    queue = await make_queue(workers=0)
    queue.task(name="tests.work")(lambda: None)
    await queue.open()
    handle = queue.registry.get("tests.work").delay()
    await handle.enqueued()
    assert await handle.status() is JobStatus.PENDING
    assert len(await queue.jobs()) == 1


async def test_an_enqueue_that_fails_inside_a_transaction_fails_the_transaction(make_queue, first_insert_fails):
    queue = await make_queue(workers=0)
    queue.task(name="tests.work")(lambda: None)
    await queue.open()
    db = queue.database
    await db.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER)")
    with pytest.raises(OperationalError, match="restarting"):
        async with atomic(db):
            await db.execute("INSERT INTO orders VALUES (1)")
            queue.registry.get("tests.work").delay()
    assert await db.query_val("SELECT count(*) FROM orders") == 0  # rolled back with its job
    assert await queue.jobs() == []
