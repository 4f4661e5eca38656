"""The database backend: jobs are rows in the app's own PostgreSQL or SQLite database.

- **Enqueue** (``.delay()`` is synchronous): jobs are buffered and written by
  one multi-row ``INSERT`` per loop iteration, in a task that inherits the
  caller's context, so inside ``atomic()`` the insert goes to the transaction's
  connection; it is attached to the transaction, which waits for it before
  committing. Rolled back: the job never existed. Committed: it is stored.
- **Claim**: one ``UPDATE ... RETURNING`` marks up to a batch of due jobs as
  running with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers
  never wait on each other's rows; SQLite has one writer at a time, which
  serialises claims by itself). On PostgreSQL a claim does not wait for its
  WAL flush (see ``_CLAIM_WITHOUT_FLUSH``): the worker waits for its claims,
  not for its acknowledgements.
- **Heartbeat**: each worker process extends the lease of all its running jobs
  in one statement every ``lease / 3`` seconds, and learns which of them were
  cancelled. Jobs whose lease expired (their worker died) go back to pending:
  delivery is at least once, so tasks must be idempotent.
- **Acknowledge**: outcomes of jobs that finish together are written in one
  commit (one WAL flush): on PostgreSQL the successes in one statement, so a
  batch of successes is one statement and one round trip; other outcomes join
  it in one pipeline in one transaction.
- **Wake-ups**: on PostgreSQL every enqueue sends ``NOTIFY hyperdjango_tasks``
  (inside the enqueue's transaction, so it is delivered at commit and never
  after a rollback) and idle workers ``LISTEN``: a job enqueued by any process
  starts at once. An idle worker also sleeps no longer than until the next
  delayed job is due, and polls every ``poll_interval`` seconds (5 on
  PostgreSQL, a safety net for notifications lost while its listener
  reconnects; 0.5 on SQLite, which has no notifications). Jobs enqueued in the
  worker's own process wake it directly on both backends.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from ..database import atomic
from ..orm.backends import features_for
from .backend import TaskBackend
from .errors import QueueFull
from .handle import TaskHandle
from .jobs import ErrorInfo, Job, JobInfo, JobStatus, Outcome
from .schema import INSERT_COLUMNS, JOB_COLUMNS, TABLE

#: The PostgreSQL notification channel that wakes idle workers.
NOTIFY_CHANNEL = "hyperdjango_tasks"

if TYPE_CHECKING:
    from ..database import Database, Listener

log = logging.getLogger("hyperdjango.tasks")

#: Seconds between tries of an enqueue outside a transaction (a transaction fails at once instead).
_RETRY_PAUSES = (0.1, 0.5, 2.0)
#: Rows per INSERT statement (PostgreSQL allows 65,535 parameters per statement).
_INSERT_CHUNK = 500
#: A claim on PostgreSQL commits without waiting for its WAL flush (``synchronous_commit``
#: off for this statement's transaction alone). The worker waits for its claims, so a
#: flush per claim (milliseconds) would bound it however few round trips it makes. A claim
#: lost in a server crash only makes its jobs pending again: they run again (at least
#: once), and the first run's outcome is ignored (it applies to running jobs of its
#: worker only). Outcomes still wait for their flush: a result read is never undone.
_CLAIM_WITHOUT_FLUSH = "WITH claim_setting AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)) "


class _Buffer:
    """Jobs enqueued in one loop iteration for one transaction (or none)."""

    __slots__ = ("jobs", "futures")

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.futures: list[asyncio.Future[None]] = []


class DatabaseBackend(TaskBackend):
    """Jobs in ``database`` (default: the app's). See the module docs.

    ``lease``: seconds a claimed job stays owned without a heartbeat (a dead
    worker's jobs run again after it). ``poll_interval``: seconds an idle worker
    waits before asking again (default 5 on PostgreSQL, where notifications wake
    it, and 0.5 on SQLite). ``batch_size``: jobs claimed per statement, at
    most. ``result_ttl``: how long succeeded and cancelled jobs (with results)
    are kept; failed jobs stay in the dead-letter list until retried or deleted.
    ``max_lost``: after this many expired leases, a job (one that kills its
    worker?) fails for good. ``max_buffered``: jobs waiting to be written
    before ``QueueFull``. ``prefetch_multiplier``: a pool of ``n`` slots holds up
    to ``n * prefetch_multiplier`` claimed jobs beyond those it runs (fewer round
    trips; 0 for long jobs, so idle workers elsewhere get them), and up to
    ``batch_size`` while its jobs end faster than a claim comes back.
    ``unknown_task_timeout``: a worker claims only jobs of tasks it knows and
    leaves the others for a worker that knows them (counted in ``stats["unknown"]``
    and logged); a job that no worker has taken this many seconds after it was
    due fails for good as ``UnknownTask``, with that reason.
    """

    name = "database"

    def __init__(
        self,
        database: Database | None = None,
        *,
        lease: float = 30.0,
        poll_interval: float | None = None,
        batch_size: int = 100,
        result_ttl: datetime.timedelta = datetime.timedelta(days=1),
        max_lost: int = 10,
        max_buffered: int = 10000,
        prefetch_multiplier: int = 4,
        unknown_task_timeout: float = 300.0,
    ) -> None:
        self._database = database
        self.lease = lease
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.result_ttl = result_ttl.total_seconds()
        self.max_lost = max_lost
        self.max_buffered = max_buffered
        self.prefetch_multiplier = prefetch_multiplier
        self.unknown_task_timeout = unknown_task_timeout
        self.worker_id: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # where enqueues from threads are written
        self._schema_ready = False
        self._buffers: dict[Any, _Buffer] = {}
        self._buffered = 0
        self._inflight: set[asyncio.Task] = set()
        self._wakeup = asyncio.Event()
        self._acks: list[tuple[Job, Outcome, asyncio.Future[None]]] = []
        self._ack_task: asyncio.Task | None = None
        self._maintenance: asyncio.Task | None = None
        self._listener: Listener | None = None
        self._counts = {"pending": 0, "scheduled": 0, "dead": 0, "unknown": 0}
        self._reported_unknown: set[str] = set()
        self._counts_at = 0.0
        self._counts_task: asyncio.Task | None = None

    @property
    def database(self) -> Database:
        database = self._database or getattr(self, "task_queue", None) and self.task_queue.database
        if database is None:
            raise RuntimeError("the database task backend needs a database: HyperApp(database=...) or DatabaseBackend(db)")
        return database

    # -- schema -------------------------------------------------------------------------

    async def ensure_schema(self) -> None:
        """Applies the built-in app ``hyperdjango.tasks``'s migrations unless done (idempotent).

        Inside the caller's transaction (its first enqueue) they run in that
        transaction, under the migration lock; ``hyper migrate`` applies the same ones.
        """
        if self._schema_ready:
            return
        from ..migrations import migrate

        db = self.database
        await migrate(db, "hyperdjango.tasks")
        if db.in_transaction:
            db.on_commit(self._mark_schema_ready)  # rolled back: applied again next time
        else:
            self._schema_ready = True

    def _mark_schema_ready(self) -> None:
        self._schema_ready = True

    async def open(self) -> None:
        await self.ensure_schema()
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        self._loop = None
        # Buffered enqueues are written before the process lets go of them.
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    # -- enqueue ------------------------------------------------------------------------

    def submit(self, job: Job) -> TaskHandle:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if self._loop is None:
                raise RuntimeError("the database task backend enqueues from async code, or from a thread "
                                   "while the queue runs (it writes on the queue's loop)") from None
            return self.submit_from_thread(job, self._loop)
        if self._buffered >= self.max_buffered:
            raise QueueFull(f"{self._buffered} jobs are waiting to be written (max_buffered={self.max_buffered})")
        db = self.database
        key = db.current_transaction()  # None outside a transaction
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = _Buffer()
            # The flush task copies this context: inside atomic() it runs on the transaction.
            flush = loop.create_task(self._flush(key, buffer), name="hyperdjango-task-enqueue")
            self._inflight.add(flush)
            flush.add_done_callback(self._inflight.discard)
            db.attach_to_transaction(flush)
        stored = loop.create_future()
        buffer.jobs.append(job)
        buffer.futures.append(stored)
        self._buffered += 1
        return TaskHandle(job.id, job.task, self, stored)

    async def _flush(self, key: Any, buffer: _Buffer) -> None:
        # By the time this runs, every .delay() of the caller's current step has joined the buffer.
        del self._buffers[key]
        self._buffered -= len(buffer.jobs)
        try:
            await self._write(buffer.jobs, retries=0 if key is not None else len(_RETRY_PAUSES))
        except BaseException as exc:
            for future in buffer.futures:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
                    future.exception()  # the caller may never look: the log below or the transaction reports it
            if key is None and not isinstance(exc, asyncio.CancelledError):
                log.error("enqueueing %d job(s) failed; they are lost: %r", len(buffer.jobs), exc)
                return
            raise  # attached to the transaction, which fails with it
        for future in buffer.futures:
            if not future.done():
                future.set_result(None)
        db = self.database
        if db.in_transaction:
            db.on_commit(self.wake)
        else:
            self.wake()

    async def _write(self, jobs: list[Job], retries: int) -> None:
        """Inserts ``jobs``; outside a transaction, tries again after a failure
        (a restarting server), ignoring rows that a lost reply had stored."""
        for attempt in range(retries + 1):
            try:
                await self.ensure_schema()
                for start in range(0, len(jobs), _INSERT_CHUNK):
                    await self._insert(jobs[start:start + _INSERT_CHUNK], ignore_existing=attempt > 0)
                return
            except Exception as exc:
                if attempt == retries:
                    raise
                log.warning("enqueueing %d job(s) failed (%r); trying again", len(jobs), exc)
                await asyncio.sleep(_RETRY_PAUSES[attempt])

    async def _insert(self, jobs: list[Job], *, ignore_existing: bool = False) -> int:
        width = len(INSERT_COLUMNS)
        rows = ", ".join(
            "(" + ", ".join(f"${i * width + c + 1}" for c in range(width)) + ")" for i in range(len(jobs))
        )
        params: list[Any] = []
        for job in jobs:
            params += [job.id, job.task, job.queue, job.priority, job.payload, "pending",
                       job.max_retries, job.run_at, job.created_at]
        conflict = " ON CONFLICT (id) DO NOTHING" if ignore_existing else ""
        inserted = await self.database.execute(f"INSERT INTO {TABLE} ({', '.join(INSERT_COLUMNS)}) VALUES {rows}{conflict}", *params)
        if features_for(self.database.vendor).supports_listen_notify:
            # Same context as the insert: inside atomic() it is sent at commit only.
            await self.database.notify(NOTIFY_CHANNEL)
        return inserted

    async def submit_once(self, job: Job) -> bool:
        await self.ensure_schema()
        inserted = await self._insert([job], ignore_existing=True) == 1
        if inserted:
            self.wake()
        return inserted

    # -- claim, heartbeat, acknowledge -----------------------------------------------------

    async def start_workers(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._wakeup = asyncio.Event()  # an app may be served on one loop, then on another
        await self.ensure_schema()
        if features_for(self.database.vendor).supports_listen_notify:
            self._listener = await self.database.listen(NOTIFY_CHANNEL, lambda notification: self.wake())
            # Notifications sent while the listener was reconnecting are lost: look now.
            self._listener.on_reconnect(self.wake)
        self._maintenance = asyncio.get_running_loop().create_task(self._maintain(), name="hyperdjango-task-heartbeat")

    async def stop_workers(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        if self._ack_task is not None:
            await asyncio.gather(self._ack_task, return_exceptions=True)
        if self._maintenance is not None:
            self._maintenance.cancel()
            await asyncio.gather(self._maintenance, return_exceptions=True)
            self._maintenance = None

    def wake(self) -> None:
        self._wakeup.set()

    def prefetch(self, concurrency: int) -> int:
        # Each claim is a round trip and a commit: hold batches in hand so slots
        # refill from memory while the next claim is on its way (Celery's default
        # multiplier, 4). Long jobs: prefetch_multiplier=0, so that one worker does
        # not sit on jobs that an idle one could run.
        return min(self.prefetch_multiplier * concurrency, self.batch_size)

    def max_prefetch(self, concurrency: int) -> int:
        # Jobs shorter than a claim's round trip: a whole batch in hand (the
        # pool holds that many only while its jobs end that fast).
        return self.batch_size if self.prefetch_multiplier > 0 else 0

    async def claim(self, limit: int, queues: Collection[str] | None) -> list[Job]:
        self._wakeup.clear()
        now = time.time()
        params: list[Any] = [self.worker_id, now + self.lease, now]
        # A literal LIMIT, as the ORM writes it: PostgreSQL plans a known LIMIT
        # far better than a bound one. It is an int computed here, never input.
        batch = int(min(limit, self.batch_size))
        where = self._mine(params, queues)
        features = features_for(self.database.vendor)
        lock = " FOR UPDATE SKIP LOCKED" if features.has_select_for_update_skip_locked else ""
        unflushed = features.supports_asynchronous_commit
        rows = await self.database.query(
            f"{_CLAIM_WITHOUT_FLUSH if unflushed else ''}"
            f"UPDATE {TABLE} SET status = 'running', worker = $1, lease_until = $2, started_at = $3, "
            f"attempts = attempts + 1, cancel_requested = FALSE "
            f"{'FROM claim_setting ' if unflushed else ''}"
            f"WHERE id IN (SELECT id FROM {TABLE} WHERE status = 'pending' AND run_at <= $3{where} "
            f"ORDER BY priority DESC, run_at LIMIT {batch}{lock}) "
            f"RETURNING {JOB_COLUMNS}",
            *params,
        )
        if rows:
            jobs = [_job(row) for row in rows]
            jobs.sort(key=lambda j: (-j.priority, j.run_at))  # RETURNING keeps no order
            return jobs
        try:
            await asyncio.wait_for(self._wakeup.wait(), await self._idle_wait(queues))
        except TimeoutError:
            pass
        return []

    @property
    def idle_poll(self) -> float:
        """Seconds between polls of an idle worker (see ``poll_interval``)."""
        if self.poll_interval is not None:
            return self.poll_interval
        return 5.0 if features_for(self.database.vendor).supports_listen_notify else 0.5

    async def _idle_wait(self, queues: Collection[str] | None) -> float:
        """How long an idle worker may sleep: until the next delayed job (a
        countdown, a retry's backoff) is due, and no longer than the poll."""
        params: list[Any] = []
        where = self._mine(params, queues)
        due = await self.database.query_val(f"SELECT min(run_at) FROM {TABLE} WHERE status = 'pending'{where}", *params)
        if due is None:
            return self.idle_poll
        return min(self.idle_poll, max(0.0, float(due) - time.time()))

    async def finish(self, job: Job, outcome: Outcome) -> None:
        # Group commit: outcomes arriving while a write is in flight go in the next one.
        done = asyncio.get_running_loop().create_future()
        self._acks.append((job, outcome, done))
        if self._ack_task is None or self._ack_task.done():
            self._ack_task = asyncio.get_running_loop().create_task(self._write_acks(), name="hyperdjango-task-ack")
        await done

    async def _write_acks(self) -> None:
        failures = 0
        while self._acks:
            batch, self._acks = self._acks, []
            try:
                await self._record(batch)
            except Exception as exc:
                failures += 1
                if failures >= 5:
                    # The lease will expire and the jobs run again: at least once.
                    for _, _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                log.warning("recording %d job outcome(s) failed (%r); retrying", len(batch), exc)
                self._acks = batch + self._acks
                await asyncio.sleep(0.2 * failures)
                continue
            failures = 0
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _record(self, batch: list[tuple[Job, Outcome, asyncio.Future[None]]]) -> None:
        """Writes the outcomes of ``batch`` in one commit: a durable commit costs
        a WAL flush (milliseconds), one per outcome would bound a worker at a few
        hundred jobs/s however fast the round trips are."""
        statements = self._outcome_statements([(job, outcome) for job, outcome, _ in batch])
        if len(statements) == 1:  # a statement alone is its own transaction: no BEGIN, no COMMIT
            sql, params = statements[0]
            await self.database.execute(sql, *params)
            return
        async with atomic(self.database):
            results = await self.database.pipeline(statements)
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]

    def _outcome_statements(self, outcomes: list[tuple[Job, Outcome]]) -> list[tuple[str, list[Any]]]:
        """The statements recording ``outcomes``. On PostgreSQL, every success is
        in one statement (jobs that succeed are most of them); SQLite runs its
        statements in this process, where one per outcome costs no round trip."""
        worker = self.worker_id
        if not features_for(self.database.vendor).supports_array_parameters:
            return [_outcome_statement(job, outcome, worker) for job, outcome in outcomes]
        succeeded = [(job.id, outcome.result) for job, outcome in outcomes if outcome.status is JobStatus.SUCCEEDED]
        statements = [_outcome_statement(job, outcome, worker)
                      for job, outcome in outcomes if outcome.status is not JobStatus.SUCCEEDED]
        if succeeded:
            ids, results = zip(*succeeded, strict=True)
            statements.append((_SUCCEEDED_BATCH, [list(ids), list(results), worker, time.time()]))
        return statements

    async def _maintain(self) -> None:
        """Heartbeats, cancellations, expired leases and purges, every lease/3 seconds."""
        interval = self.lease / 3
        last_purge = 0.0
        while True:
            await asyncio.sleep(interval)
            try:
                await self._heartbeat()
                await self._reap()
                await self._leave_unknown()
                if time.time() - last_purge > max(interval, 60.0):
                    last_purge = time.time()
                    await self.purge()
            except Exception:
                log.exception("task queue maintenance failed; trying again in %.1fs", interval)

    async def _heartbeat(self) -> None:
        rows = await self.database.query(
            f"UPDATE {TABLE} SET lease_until = $1 WHERE worker = $2 AND status = 'running' "
            f"RETURNING id, cancel_requested",
            time.time() + self.lease, self.worker_id,
        )
        pool = self.task_queue.pool
        for row in rows:
            if row["cancel_requested"] and pool is not None:
                pool.cancel_running(row["id"])

    async def _reap(self) -> int:
        """Expired leases: the job goes back to pending (its attempt did not end,
        so it does not count), is cancelled if that was asked, or fails for good
        after ``max_lost`` losses."""
        now = time.time()
        return await self.database.execute(
            f"UPDATE {TABLE} SET "
            f"status = CASE WHEN cancel_requested THEN 'cancelled' WHEN lost + 1 >= $2 THEN 'failed' ELSE 'pending' END, "
            f"finished_at = CASE WHEN cancel_requested OR lost + 1 >= $2 THEN $1 ELSE NULL END, "
            f"error_type = CASE WHEN lost + 1 >= $2 THEN 'hyperdjango.tasks.errors.LeaseExpired' ELSE error_type END, "
            f"error_message = CASE WHEN lost + 1 >= $2 THEN $3 ELSE error_message END, "
            f"lost = lost + 1, attempts = attempts - 1, worker = NULL, lease_until = NULL "
            f"WHERE status = 'running' AND lease_until < $1",
            now, self.max_lost, f"its worker stopped heartbeating {self.max_lost} times (killed? out of memory?)",
        )

    def _known_tasks(self) -> list[str]:
        return sorted(task.name for task in self.task_queue.registry)

    def _mine(self, params: list[Any], queues: Collection[str] | None, known: bool = True) -> str:
        """The condition for jobs in ``queues`` (all when None) of tasks this worker knows
        (``known=False``: does not know), its values appended to ``params``. A worker
        runs only the jobs it knows; the others wait for a worker that knows them."""
        where = _column_in(params, "queue", sorted(queues)) if queues else ""
        return where + _column_in(params, "task", self._known_tasks(), negate=not known)

    async def _leave_unknown(self) -> None:
        """Counts and logs the due jobs this worker does not know (another worker
        may), and dead-letters those nobody took within ``unknown_task_timeout``."""
        now = time.time()
        pool = self.task_queue.pool
        # Only in this worker's queues: a worker does not judge jobs it would never take.
        queues = pool.queues if pool is not None else None
        params: list[Any] = [now - self.unknown_task_timeout, now]
        unknown = self._mine(params, queues, known=False)
        message = (f"no worker knew this task within unknown_task_timeout={self.unknown_task_timeout:g}s of the job "
                   f"being due: run a worker whose app defines it (a task's name is its module's import name "
                   f"and qualified name, or the name= given to @app.task)")
        params.append(message)
        await self.database.execute(
            f"UPDATE {TABLE} SET status = 'failed', finished_at = $2, "
            f"error_type = 'hyperdjango.tasks.errors.UnknownTask', error_message = task || ': ' || ${len(params)} "
            f"WHERE status = 'pending' AND run_at < $1{unknown}",
            *params,
        )
        params = [now]
        unknown = self._mine(params, queues, known=False)
        rows = await self.database.query(
            f"SELECT task, COUNT(*) AS n FROM {TABLE} WHERE status = 'pending' AND run_at <= $1{unknown} GROUP BY task",
            *params,
        )
        self._counts["unknown"] = sum(int(row["n"]) for row in rows)
        for row in rows:
            if row["task"] not in self._reported_unknown:
                self._reported_unknown.add(row["task"])
                log.warning("%d job(s) of task %r wait for a worker that knows it (this one knows %s); "
                            "they fail as UnknownTask %gs after they were due",
                            row["n"], row["task"], ", ".join(self._known_tasks()) or "no task", self.unknown_task_timeout)

    async def purge(self) -> int:
        """Deletes succeeded and cancelled jobs older than ``result_ttl``; returns how many."""
        return await self.database.execute(
            f"DELETE FROM {TABLE} WHERE status IN ('succeeded', 'cancelled') AND finished_at < $1",
            time.time() - self.result_ttl,
        )

    # -- inspection -----------------------------------------------------------------------

    async def get(self, job_id: str) -> Job | None:
        await self.ensure_schema()
        row = await self.database.query_one(f"SELECT {JOB_COLUMNS} FROM {TABLE} WHERE id = $1", job_id)
        return None if row is None else _job(row)

    async def wait_finished(self, job_id: str) -> Job | None:
        pause = 0.01
        while True:
            job = await self.get(job_id)
            if job is None or job.status.finished:
                return job
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)

    async def cancel(self, job_id: str) -> bool:
        await self.ensure_schema()
        db = self.database
        if await db.execute(f"UPDATE {TABLE} SET status = 'cancelled', finished_at = $2 WHERE id = $1 AND status = 'pending'",
                            job_id, time.time()):
            return True
        # A running job: its worker learns it at its next heartbeat (at once if it is ours).
        if await db.execute(f"UPDATE {TABLE} SET cancel_requested = TRUE WHERE id = $1 AND status = 'running'", job_id):
            pool = self.task_queue.pool
            if pool is not None:
                pool.cancel_running(job_id)
            return True
        return False

    async def jobs(self, statuses: Collection[JobStatus] | None, limit: int) -> list[JobInfo]:
        await self.ensure_schema()
        params: list[Any] = [limit]
        where = ""
        if statuses:
            where = "WHERE status IN (" + ", ".join(f"${i + 2}" for i in range(len(statuses))) + ")"
            params += [s.value for s in statuses]
        rows = await self.database.query(
            f"SELECT {JOB_COLUMNS} FROM {TABLE} {where} ORDER BY created_at LIMIT $1", *params
        )
        return [_job(row).info() for row in rows]

    async def retry(self, job_id: str) -> bool:
        await self.ensure_schema()
        retried = await self.database.execute(
            f"UPDATE {TABLE} SET status = 'pending', attempts = 0, lost = 0, run_at = $2, finished_at = NULL, "
            f"cancel_requested = FALSE WHERE id = $1 AND status = 'failed'",
            job_id, time.time(),
        )
        if retried:
            self.wake()
        return retried == 1

    def counts(self) -> dict[str, int]:
        # A sync property (the spec's stats) cannot query: answer from the last
        # count and refresh it in the background when it is over a second old.
        if time.time() - self._counts_at > 1.0 and (self._counts_task is None or self._counts_task.done()):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return dict(self._counts)
            self._counts_task = loop.create_task(self.refresh_counts())
        return dict(self._counts)

    async def refresh_counts(self) -> dict[str, int]:
        """Counts ``pending``, ``scheduled`` and ``dead`` jobs in the database now."""
        await self.ensure_schema()
        row = await self.database.query_one(
            f"SELECT SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending, "
            f"SUM(CASE WHEN status = 'pending' AND run_at > $1 THEN 1 ELSE 0 END) AS scheduled, "
            f"SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS dead "
            f"FROM {TABLE} WHERE status IN ('pending', 'failed')",
            time.time(),
        )
        self._counts.update({key: int((row and row[key]) or 0) for key in ("pending", "scheduled", "dead")})
        self._counts_at = time.time()
        return dict(self._counts)


def _job(row: Any) -> Job:
    error = None
    if row["error_type"] is not None:
        error = ErrorInfo(row["error_type"], row["error_message"] or "", row["error_traceback"] or "")
    return Job(
        id=row["id"], task=row["task"], payload=row["payload"], queue=row["queue"], priority=row["priority"],
        run_at=row["run_at"], max_retries=row["max_retries"], attempts=row["attempts"],
        status=JobStatus(row["status"]), created_at=row["created_at"], started_at=row["started_at"],
        finished_at=row["finished_at"], result=row["result"], error=error,
    )


#: Records the successes of a batch on PostgreSQL: ids $1 and results $2 (arrays of the
#: same length), worker $3, finish time $4; like :func:`_outcome_statement`, only where
#: the worker still owns the job.
_SUCCEEDED_BATCH = (
    f"UPDATE {TABLE} AS job SET status = 'succeeded', result = done.result, finished_at = $4, lease_until = NULL "
    f"FROM unnest($1::text[], $2::text[]) AS done(id, result) "
    f"WHERE job.id = done.id AND job.worker = $3 AND job.status = 'running'"
)


def _outcome_statement(job: Job, outcome: Outcome, worker: str | None) -> tuple[str, list[Any]]:
    """The UPDATE recording ``outcome``; it only applies while ``worker`` still
    owns the job (after a lost lease, another worker's run is the one that counts)."""
    owned = "WHERE id = $1 AND worker = $2 AND status = 'running'"
    now = time.time()
    if outcome.status is JobStatus.SUCCEEDED:
        return (f"UPDATE {TABLE} SET status = 'succeeded', result = $3, finished_at = $4, lease_until = NULL {owned}",
                [job.id, worker, outcome.result, now])
    if outcome.status is JobStatus.CANCELLED:
        return (f"UPDATE {TABLE} SET status = 'cancelled', finished_at = $3, lease_until = NULL {owned}",
                [job.id, worker, now])
    if outcome.release:
        return (f"UPDATE {TABLE} SET status = 'pending', attempts = attempts - 1, worker = NULL, lease_until = NULL {owned}",
                [job.id, worker])
    error = outcome.error
    assert error is not None
    if outcome.status is JobStatus.FAILED:
        return (f"UPDATE {TABLE} SET status = 'failed', finished_at = $3, lease_until = NULL, "
                f"error_type = $4, error_message = $5, error_traceback = $6 {owned}",
                [job.id, worker, now, error.type, error.message, error.traceback])
    return (f"UPDATE {TABLE} SET status = 'pending', run_at = $3, worker = NULL, lease_until = NULL, "
            f"error_type = $4, error_message = $5, error_traceback = $6 {owned}",
            [job.id, worker, outcome.retry_at, error.type, error.message, error.traceback])


def _column_in(params: list[Any], column: str, values: list[str], negate: bool = False) -> str:
    """`` AND column [NOT] IN ($n, ...)``, its ``values`` appended to ``params``."""
    if not values:
        return "" if negate else " AND 1 = 0"
    start = len(params) + 1
    params.extend(values)
    return f" AND {column} {'NOT IN' if negate else 'IN'} (" + ", ".join(f"${start + i}" for i in range(len(values))) + ")"
