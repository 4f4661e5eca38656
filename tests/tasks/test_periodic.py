"""Periodic tasks: due on every slot, run once per slot however many workers schedule them."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from hyperdjango.tasks import Schedule


def test_every_slots_are_aligned_on_the_epoch_so_every_process_agrees():
    schedule = Schedule(every=datetime.timedelta(seconds=10))
    assert schedule.next_slot(after=1000.0) == 1010.0
    assert schedule.next_slot(after=1003.5) == 1010.0


def test_cron_slots_follow_the_expression_in_utc():
    utc = datetime.UTC
    schedule = Schedule(cron="0 9 * * 1")  # Mondays at 09:00
    slot = schedule.next_slot(datetime.datetime(2024, 5, 1, tzinfo=utc).timestamp())  # a Wednesday
    assert datetime.datetime.fromtimestamp(slot, utc) == datetime.datetime(2024, 5, 6, 9, 0, tzinfo=utc)


def test_a_schedule_needs_exactly_one_of_every_and_cron():
    with pytest.raises(ValueError):
        Schedule()
    with pytest.raises(ValueError):
        Schedule(every=datetime.timedelta(seconds=1), cron="* * * * *")
    with pytest.raises(ValueError, match="not a cron expression"):
        Schedule(cron="every monday")


async def test_a_periodic_task_runs_on_each_slot(make_queue):
    queue = await make_queue()
    runs = []

    @queue.periodic(every=datetime.timedelta(seconds=0.2))
    async def tick():
        runs.append(1)

    await queue.start()
    for _ in range(100):
        if len(runs) >= 3:
            break
        await asyncio.sleep(0.05)
    assert len(runs) >= 3


@pytest.mark.parametrize("queue_backend", ["sqlite", "postgres"], indirect=True)
async def test_two_workers_scheduling_the_same_periodic_task_run_each_slot_once(make_queue):
    runs: list[str] = []

    async def tick():
        runs.append("ran")

    first, second = await make_queue(), await make_queue()  # two workers, one database
    for queue in (first, second):
        queue.periodic(every=datetime.timedelta(seconds=0.2), name="tests.tick")(tick)
    await first.start()
    await second.start()
    await asyncio.sleep(1.3)
    await first.stop()
    await second.stop()
    slots = [job for job in await first.jobs() if job.id.startswith("periodic:tests.tick:")]
    assert len(slots) >= 4
    assert all(job.status.value == "succeeded" for job in slots[:-1])
    assert len(runs) == sum(job.status.value == "succeeded" for job in slots)
