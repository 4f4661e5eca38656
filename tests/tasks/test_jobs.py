"""What a job goes through, on every backend: results, sync tasks, arguments,
retries and the dead-letter list, delays, priorities, cancellation, timeouts."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import threading
import time
import uuid

import pytest

from hyperdjango.tasks import JobStatus, QueueFull, SerializationError, TaskCancelled, TaskFailed


async def test_delay_returns_a_handle_whose_result_is_the_tasks_return_value(make_queue):
    queue = await make_queue()

    @queue.task
    async def add(a, b):
        return {"sum": a + b}

    await queue.start()
    handle = add.delay(2, b=3)
    assert isinstance(handle.id, str)
    assert await handle.result(timeout=10) == {"sum": 5}
    assert await handle.status() is JobStatus.SUCCEEDED


async def test_a_plain_def_task_runs_in_a_thread_not_on_the_loop(make_queue):
    queue = await make_queue()
    loop_thread = threading.get_ident()

    @queue.task
    def where():
        return threading.get_ident() != loop_thread

    await queue.start()
    assert await where.delay().result(timeout=10) is True
    assert await where() is True  # called directly, it is awaited the same way


async def test_arguments_arrive_as_the_types_they_were(make_queue):
    queue = await make_queue()

    @queue.task
    async def echo(**values):
        return values

    values = {
        "at": datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC),
        "day": datetime.date(2024, 5, 1),
        "price": decimal.Decimal("19.99"),
        "id": uuid.UUID(int=42),
        "nested": {"list": [1, 2.5, None, True, "x"]},
    }
    await queue.start()
    assert await echo.delay(**values).result(timeout=10) == values


async def test_a_non_serialisable_argument_fails_at_delay_naming_it(make_queue):
    queue = await make_queue()

    @queue.task
    async def store(value):
        pass

    with pytest.raises(SerializationError, match=r"object at \$.args\[0\]"):
        store.delay(object())
    with pytest.raises(SerializationError, match=r"key 1"):
        store.delay({1: "json would make this key a string"})
    with pytest.raises(SerializationError):
        store.delay(float("nan"))
    assert (await queue.fetch_stats())["pending"] == 0


async def test_a_failing_task_is_retried_with_backoff_until_it_succeeds(make_queue):
    queue = await make_queue()
    attempts: list[float] = []

    @queue.task(max_retries=3, retry_backoff=0.05, retry_jitter=False)
    async def flaky():
        attempts.append(time.time())
        if len(attempts) < 3:
            raise ConnectionError("the mail server hung up")
        return "sent"

    await queue.start()
    assert await flaky.delay().result(timeout=20) == "sent"
    assert len(attempts) == 3
    # The backoff doubles: at least 0.05 s before the first retry, 0.1 s before the second.
    assert attempts[1] - attempts[0] >= 0.05 - 0.005
    assert attempts[2] - attempts[1] >= 0.1 - 0.005
    stats = queue.stats
    assert (stats["retried"], stats["succeeded"], stats["failed"]) == (2, 1, 0)


async def test_a_task_failing_past_max_retries_lands_in_the_dead_letter_list_and_can_be_retried(make_queue):
    queue = await make_queue()
    calls = []

    @queue.task(max_retries=1, retry_backoff=0.01)
    async def charge(order_id):
        calls.append(order_id)
        if len(calls) <= 2:
            raise ValueError(f"card declined for order {order_id}")
        return "charged"

    await queue.start()
    handle = charge.delay(7)
    with pytest.raises(TaskFailed) as failure:
        await handle.result(timeout=20)
    assert failure.value.error_type == "ValueError"
    assert failure.value.message == "card declined for order 7"
    assert "raise ValueError" in failure.value.traceback
    assert calls == [7, 7]  # the first run and one retry

    dead = await queue.dead_letters()
    assert [(d.id, d.task, d.args, d.attempts, d.error_type) for d in dead] == [(handle.id, charge.name, [7], 2, "ValueError")]
    assert (await queue.fetch_stats())["dead"] == 1

    assert await queue.retry(handle.id) is True
    assert await queue.retry(handle.id) is False  # no longer dead
    assert await handle.result(timeout=20) == "charged"
    assert await queue.dead_letters() == []


async def test_countdown_and_eta_hold_a_job_back_until_its_time(make_queue):
    queue = await make_queue()
    ran_at = {}

    @queue.task
    async def remind(name):
        ran_at[name] = time.time()

    await queue.start()
    enqueued = time.time()
    later = remind.apply_async(args=["countdown"], countdown=0.3)
    at = remind.apply_async(kwargs={"name": "eta"}, eta=datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=0.3))
    await later.enqueued()
    await at.enqueued()
    assert await later.status() is JobStatus.PENDING
    assert (await queue.fetch_stats())["scheduled"] == 2
    await later.result(timeout=10)
    await at.result(timeout=10)
    assert ran_at["countdown"] >= enqueued + 0.3 and ran_at["eta"] >= enqueued + 0.3
    with pytest.raises(ValueError):
        remind.apply_async(args=["x"], countdown=1, eta=datetime.datetime.now())


async def test_higher_priority_jobs_run_first(make_queue):
    queue = await make_queue(workers=1)
    order = []

    @queue.task
    async def record(name):
        order.append(name)

    await queue.open()
    handles = [record.apply_async(args=[name], priority=p) for name, p in [("low", 0), ("high", 9), ("mid", 5)]]
    for handle in handles:
        await handle.enqueued()
    await queue.start()
    for handle in handles:
        await handle.result(timeout=10)
    assert order == ["high", "mid", "low"]


async def test_apply_async_can_choose_another_queue_and_workers_take_only_theirs(make_queue):
    queue = await make_queue()

    @queue.task(queue="emails")
    async def send(to):
        return to

    await queue.start(queues=["reports"])
    handle = send.apply_async(args=["a@example.com"])
    other = send.apply_async(args=["b@example.com"], queue="reports")
    assert await other.result(timeout=10) == "b@example.com"
    assert await handle.status() is JobStatus.PENDING
    await queue.stop()
    await queue.start(queues=["emails"])
    assert await handle.result(timeout=10) == "a@example.com"


async def test_cancelling_a_pending_job_means_it_never_runs(make_queue):
    queue = await make_queue()
    ran = []

    @queue.task
    async def work():
        ran.append(1)

    await queue.start()
    handle = work.apply_async(countdown=0.3)
    assert await handle.cancel() is True
    assert await handle.status() is JobStatus.CANCELLED
    with pytest.raises(TaskCancelled):
        await handle.result(timeout=5)
    await asyncio.sleep(0.5)
    assert ran == []
    assert await handle.cancel() is False  # finished already


async def test_cancelling_a_running_job_stops_it(make_queue):
    queue = await make_queue()
    started = asyncio.Event()
    stopped = []

    @queue.task
    async def long_job():
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            stopped.append(True)
            raise

    await queue.start()
    handle = long_job.delay()
    await asyncio.wait_for(started.wait(), 10)
    assert await handle.cancel() is True
    with pytest.raises(TaskCancelled):
        await handle.result(timeout=10)
    assert stopped == [True]
    assert queue.stats["cancelled"] == 1


async def test_a_task_past_its_timeout_fails_with_timeout_error(make_queue):
    queue = await make_queue()

    @queue.task(timeout=0.05)
    async def slow():
        await asyncio.sleep(30)

    await queue.start()
    with pytest.raises(TaskFailed) as failure:
        await slow.delay().result(timeout=10)
    assert failure.value.error_type == "TimeoutError"
    assert "0.05" in failure.value.message


async def test_a_full_queue_raises_queue_full_from_delay_and_drops_nothing(make_queue):
    queue = await make_queue(max_size=3)
    done = []

    @queue.task
    async def work(n):
        done.append(n)

    handles = [work.delay(n) for n in range(3)]  # not started: nothing is taken off the queue
    with pytest.raises(QueueFull):
        work.delay(3)
    await queue.start()
    for handle in handles:
        await handle.result(timeout=10)
    assert sorted(done) == [0, 1, 2]


async def test_stats_count_what_the_workers_did(make_queue):
    queue = await make_queue(workers=3)

    @queue.task
    async def ok():
        return 1

    @queue.task
    async def broken():
        raise RuntimeError("no")

    await queue.start()
    await asyncio.gather(*(ok.delay().result(timeout=10) for _ in range(5)))
    with pytest.raises(TaskFailed):
        await broken.delay().result(timeout=10)
    stats = await queue.fetch_stats()
    assert {k: stats[k] for k in ("pending", "processed", "succeeded", "failed", "workers", "running", "dead")} == {
        "pending": 0, "processed": 6, "succeeded": 5, "failed": 1, "workers": 3, "running": 0, "dead": 1,
    }


async def test_a_job_for_an_unknown_task_fails_with_a_clear_error(make_queue, queue_backend):
    # A database worker leaves it for another worker first (tests/tasks/test_unknown_tasks.py).
    durable = queue_backend != "inprocess"
    queue = await make_queue(**({"unknown_task_timeout": 0.3, "lease": 0.3} if durable else {}))

    @queue.task
    async def gone():
        pass

    handle = gone.delay()
    await handle.enqueued()
    del queue.registry._tasks[gone.name]  # as if a worker ran an older deployment
    await queue.start()
    with pytest.raises(TaskFailed, match="no worker knew this task" if durable else "no task named"):
        await handle.result(timeout=10)


async def test_delay_from_a_thread_hands_the_job_to_the_queues_loop(make_queue):
    queue = await make_queue()

    @queue.task
    async def double(n):
        return 2 * n

    await queue.start()
    handle = await asyncio.to_thread(double.delay, 21)  # as a plain def view would
    assert await handle.result(timeout=10) == 42


async def test_cancelling_a_job_claimed_ahead_by_a_busy_worker_means_it_never_runs(make_queue):
    queue = await make_queue(workers=1)
    started, release = asyncio.Event(), asyncio.Event()
    ran = []

    @queue.task
    async def block():
        started.set()
        await release.wait()

    @queue.task
    async def later():
        ran.append(1)

    await queue.start()
    first = block.delay()
    await asyncio.wait_for(started.wait(), 10)
    second = later.delay()
    await second.enqueued()
    await asyncio.sleep(0.2)  # a database worker claims it ahead meanwhile (prefetch)
    assert await second.cancel() is True
    release.set()
    await first.result(timeout=10)
    with pytest.raises(TaskCancelled):
        await second.result(timeout=10)
    assert ran == []
