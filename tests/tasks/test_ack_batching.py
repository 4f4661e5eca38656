"""The database backend writes the outcomes of jobs that end close together in one commit."""

from __future__ import annotations

import pytest

from hyperdjango.database import Database
from hyperdjango.tasks.schema import TABLE


@pytest.mark.parametrize("queue_backend", ["postgres"])
async def test_outcomes_of_jobs_ending_during_a_commit_share_the_next_one(make_queue, pg_url):
    # Two slots: if a slot stayed taken until its outcome was committed, every
    # commit would carry at most two outcomes (30 or more commits for 60 jobs).
    queue = await make_queue(workers=2)

    @queue.task
    async def quick(i):
        return i

    await queue.start()
    handles = [quick.delay(i) for i in range(60)]
    assert [await handle.result(timeout=30) for handle in handles] == list(range(60))
    database = Database(pg_url)
    try:
        # A row's xmin is the transaction that wrote it last: here, its outcome's.
        commits = await database.query_val(f"SELECT count(DISTINCT xmin::text) FROM {TABLE} WHERE status = 'succeeded'")
    finally:
        await database.close()
    assert commits < 30
