//! Finishing Rust work on the event loop: `LoopBridge` and `RustFuture`.
//!
//! A [`RustFuture`] is an awaitable that follows the `asyncio.Future`
//! protocol, so `await`, `asyncio.gather`, `wait_for` and Task cancellation all
//! work with it, and the coroutine protocol (`send`, `throw`, `close`), so
//! `asyncio.create_task` and `TaskGroup.create_task` take it as they take a
//! coroutine. The work behind it runs on tokio; when it ends, its outcome (plain
//! Rust data) goes into the loop's [`LoopBridge`] queue, and the loop thread,
//! woken at most once per batch, turns it into Python objects and runs the
//! future's done-callbacks right there: the awaiting task resumes without
//! another trip around the loop.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use crate::awaitable::{am_send, Step};
use futures_util::future::{abortable, AbortHandle as BatchedAbortHandle};
use futures_util::stream::{FuturesUnordered, StreamExt};
use hyperdjango_engine::bridge::{loop_queue, LoopReceiver, LoopSender, LoopWaker};
use hyperdjango_engine::websocket::{Shared, Wakeups};
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use pyo3::types::{PyWeakrefMethods, PyWeakrefReference};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// Turns a finished operation's Rust outcome into a Python result (or exception).
pub(crate) type Outcome = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

struct Completion {
    future: Py<RustFuture>,
    outcome: Outcome,
}

/// Completions wait here; more than this makes the producing tokio task wait.
const QUEUE_CAPACITY: usize = 4096;

/// Work started with [`LoopBridge::spawn_batched`], waiting for the end of the loop iteration.
type BatchedWork = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How a future's work is stopped when the future is cancelled.
enum Abort {
    /// The work is a tokio task of its own.
    Task(AbortHandle),
    /// The work runs inside its batch's task.
    Batched(BatchedAbortHandle),
    /// No work runs: a [`Completer`] waits somewhere; this takes it back.
    Withdraw(Box<dyn Fn() + Send>),
}

impl Abort {
    fn abort(&self) {
        match self {
            Abort::Task(handle) => handle.abort(),
            Abort::Batched(handle) => handle.abort(),
            Abort::Withdraw(withdraw) => withdraw(),
        }
    }
}

/// The tokio runtime that runs database work for this process, created on first use
/// (never before a fork: importing an app starts nothing), driven by one thread of its own.
///
/// A current-thread runtime: it runs woken tasks in the order they were woken, where a
/// multi-thread one runs the task woken last first (its LIFO slot). So a batch of statements
/// ([`LoopBridge::spawn_batched`]) queues every request before the connection task that
/// writes them runs, and they leave in one write instead of one each.
pub(crate) fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    let mut created = false;
    let rt = RUNTIME.get_or_init(|| {
        created = true;
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("cannot start the tokio runtime")
    });
    if created {
        std::thread::Builder::new()
            .name("hyperdjango-db".into())
            .spawn(|| runtime().block_on(std::future::pending::<()>()))
            .expect("cannot start the database thread");
    }
    rt
}

/// Finishes one future from any thread without a task of its own: with the
/// outcome given to [`finish`](Self::finish), or, dropped unfinished (whoever
/// held it went away: a server's runtime shut down), with the `abandoned` one
/// it was made with. A cancelled future ignores either.
pub(crate) struct Completer {
    sender: LoopSender<Completion>,
    future: Option<Py<RustFuture>>,
    outcome: Option<Outcome>,
}

impl Completer {
    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
        // Dropped now: the outcome goes to the loop.
    }
}

impl Drop for Completer {
    fn drop(&mut self) {
        let (Some(future), Some(outcome)) = (self.future.take(), self.outcome.take()) else {
            return;
        };
        if let Err(mpsc::error::TrySendError::Full(completion)) =
            self.sender.try_send(Completion { future, outcome })
        {
            let sender = self.sender.clone();
            runtime().spawn(async move {
                let _ = sender.send(completion).await;
            });
        }
    }
}

/// One per event loop: where finished work waits for the loop thread.
#[pyclass(module = "hyperdjango._core", frozen, weakref)]
pub struct LoopBridge {
    /// A weak reference: the loop owns the bridge (through its reader), not the reverse.
    event_loop: Py<PyWeakrefReference>,
    waker: Arc<LoopWaker>,
    sender: LoopSender<Completion>,
    receiver: Mutex<LoopReceiver<Completion>>,
    /// Statements started in this loop iteration, handed to tokio together by `flush`.
    batch: Mutex<Batch>,
    /// The thread that runs the loop (the one that made the bridge): only sends made
    /// there can count on `flush` running soon.
    thread: std::thread::ThreadId,
}

/// The statements and WebSocket wake-ups waiting for the end of the loop iteration.
#[derive(Default)]
struct Batch {
    work: Vec<BatchedWork>,
    /// Sessions that WebSocket sends of this iteration have to wake: woken together.
    wakeups: Wakeups,
    /// The last WebSocket message of this iteration, encoded, with the `str` or `bytes`
    /// it came from (held, so its address is not reused): a loop sending one message
    /// to many connections encodes it once, as `broadcast()` does.
    frame: Option<(Py<PyAny>, Shared)>,
    /// `drain` is running the callbacks of finished futures: it flushes when it ends, so
    /// the statements their tasks start need no `call_soon` (a statement awaited after
    /// another, the common case, costs no extra loop iteration).
    draining: bool,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.work.is_empty() && self.wakeups.is_empty() && self.frame.is_none()
    }
}

/// `asyncio._get_running_loop`, and `hyperdjango.runtime.running_bridge` (which makes a
/// loop's bridge and registers it with its loop: the one place that rule lives).
static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static RUNNING_BRIDGE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

thread_local! {
    /// The bridge this thread found last, weakly (the loop owns its bridge): while the same
    /// loop runs, the next statement finds it with no Python frame.
    static LAST_BRIDGE: RefCell<Option<Py<PyWeakrefReference>>> = const { RefCell::new(None) };
}

impl LoopBridge {
    /// The running loop's bridge (made on first use), or None outside a running loop: what
    /// `hyperdjango.runtime.running_bridge()` returns, remembered for the thread's loop.
    pub(crate) fn running(py: Python<'_>) -> PyResult<Option<Bound<'_, LoopBridge>>> {
        let event_loop = GET_RUNNING_LOOP
            .import(py, "asyncio", "_get_running_loop")?
            .call0()?;
        if event_loop.is_none() {
            return Ok(None);
        }
        let last = LAST_BRIDGE.with_borrow(|last| {
            last.as_ref()
                .and_then(|weak| weak.bind(py).upgrade_as::<LoopBridge>().ok().flatten())
        });
        if let Some(bridge) = last {
            if bridge
                .get()
                .event_loop
                .bind(py)
                .upgrade()
                .is_some_and(|own| own.is(&event_loop))
            {
                return Ok(Some(bridge));
            }
        }
        let bridge = RUNNING_BRIDGE
            .import(py, "hyperdjango.runtime", "running_bridge")?
            .call0()?
            .cast_into::<LoopBridge>()?;
        let weak = PyWeakrefReference::new(&bridge)?.unbind();
        LAST_BRIDGE.with_borrow_mut(|last| *last = Some(weak));
        Ok(Some(bridge))
    }

    /// Runs `work` on tokio; its result finishes the returned future on this bridge's loop.
    pub(crate) fn spawn<'py, F>(slf: &Bound<'py, Self>, work: F) -> PyResult<Bound<'py, RustFuture>>
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let (future, _) = Self::pending_future(slf)?;
        let task = Self::finishing(slf.get(), &future, work);
        Self::start(&future, runtime().handle(), task);
        Ok(future)
    }

    /// A pending future and its [`Completer`], for work that needs no task (a
    /// callback that some other component calls); cancelling the future calls
    /// the `withdraw` given to [`on_cancel`](Self::on_cancel).
    pub(crate) fn completer<'py>(
        slf: &Bound<'py, Self>,
        abandoned: Outcome,
    ) -> PyResult<(Bound<'py, RustFuture>, Completer)> {
        let (future, _) = Self::pending_future(slf)?;
        let completer = Completer {
            sender: slf.get().sender.clone(),
            future: Some(future.clone().unbind()),
            outcome: Some(abandoned),
        };
        Ok((future, completer))
    }

    /// Has cancelling `future` call `withdraw` (see [`completer`](Self::completer)).
    pub(crate) fn on_cancel(future: &Bound<'_, RustFuture>, withdraw: Box<dyn Fn() + Send>) {
        *future.get().abort.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Abort::Withdraw(withdraw));
    }

    /// Runs `task` on `runtime`; cancelling `future` aborts it.
    fn start(
        future: &Bound<'_, RustFuture>,
        runtime: &tokio::runtime::Handle,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        let handle = runtime.spawn(task);
        *future.get().abort.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Abort::Task(handle.abort_handle()));
    }

    /// Like [`spawn`](Self::spawn) for database statements: the work starts at the end of
    /// this loop iteration, in one tokio task with every other statement started in it
    /// (an `asyncio.gather` of queries). That task polls them all before the connection
    /// task runs, so the connection writes their requests in one write, and their
    /// completions come back together (one wake-up of the loop).
    pub(crate) fn spawn_batched<'py, F>(
        slf: &Bound<'py, Self>,
        work: F,
    ) -> PyResult<Bound<'py, RustFuture>>
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let (future, event_loop) = Self::pending_future(slf)?;
        let (work, handle) = abortable(Self::finishing(slf.get(), &future, work));
        *future.get().abort.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Abort::Batched(handle));
        let schedule = {
            let mut batch = slf.get().batch();
            let was_empty = batch.is_empty();
            batch.work.push(Box::pin(async move {
                let _ = work.await; // Err: cancelled, nothing to finish
            }));
            was_empty && !batch.draining
        };
        if schedule {
            Self::schedule_flush(slf, &event_loop)?;
        }
        Ok(future)
    }

    /// Runs `send` (a WebSocket send) with `message` encoded and this loop iteration's
    /// wake-ups: the sessions it has to wake are woken with the others at the end of the
    /// iteration, so a loop of `await ws.send_text(...)` to many connections costs one
    /// cross-thread wake-up, not one per send; and `message` (a `str` or `bytes`, which
    /// never change) is encoded by `encode` only if it is not the iteration's last one.
    /// Off the loop's thread nothing says when `flush` runs: the sessions are woken at
    /// once.
    pub(crate) fn deferring_send<R>(
        slf: &Bound<'_, Self>,
        message: &Bound<'_, PyAny>,
        encode: impl FnOnce() -> PyResult<Shared>,
        send: impl FnOnce(Shared, &mut Wakeups) -> R,
    ) -> PyResult<R> {
        let bridge = slf.get();
        if std::thread::current().id() != bridge.thread {
            return Ok(send(encode()?, &mut Wakeups::default())); // dropped: woken now
        }
        let (result, schedule, replaced) = {
            let mut batch = bridge.batch();
            let was_empty = batch.is_empty();
            let (frame, replaced) = match &batch.frame {
                Some((last, frame)) if last.is(message) => (frame.clone(), None),
                _ => {
                    let frame = encode()?;
                    let replaced = batch
                        .frame
                        .replace((message.clone().unbind(), frame.clone()));
                    (frame, replaced)
                }
            };
            let result = send(frame, &mut batch.wakeups);
            (result, was_empty && !batch.draining, replaced)
        };
        drop(replaced); // its object is released outside the batch's lock
        if schedule {
            match bridge.event_loop.bind(slf.py()).upgrade() {
                // A loop that cannot schedule (closed) had the flush done at once: the
                // message is queued and its session woken, so the send succeeded.
                Some(event_loop) => drop(Self::schedule_flush(slf, &event_loop)),
                None => bridge.flush(),
            }
        }
        Ok(result)
    }

    /// Has the loop run `flush` at the end of this iteration; when it cannot, flushes
    /// now (never leaves work behind) and returns the error.
    fn schedule_flush(slf: &Bound<'_, Self>, event_loop: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let scheduled = slf
            .getattr(intern!(py, "flush"))
            .and_then(|flush| event_loop.call_method1(intern!(py, "call_soon"), (flush,)));
        if let Err(err) = scheduled {
            slf.get().flush();
            return Err(err);
        }
        Ok(())
    }

    fn batch(&self) -> std::sync::MutexGuard<'_, Batch> {
        self.batch.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `started`, or, when starting the work failed (its arguments could not be
    /// converted, ...), a future on this bridge's loop already failed with that
    /// error: what an `async def` method does, which raises when awaited, not
    /// when called (in `asyncio.gather(...)`, in a Task).
    pub(crate) fn or_failed<'py>(
        slf: &Bound<'py, Self>,
        started: PyResult<Bound<'py, RustFuture>>,
    ) -> PyResult<Bound<'py, RustFuture>> {
        let err = match started {
            Ok(future) => return Ok(future),
            Err(err) => err,
        };
        let (future, _) = Self::pending_future(slf)?;
        *future.get().state.lock().unwrap_or_else(|e| e.into_inner()) = State::Error(err);
        Ok(future)
    }

    /// A new pending future on this bridge's loop, and the loop.
    fn pending_future<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, RustFuture>, Bound<'py, PyAny>)> {
        let py = slf.py();
        let event_loop = slf
            .get()
            .event_loop
            .bind(py)
            .upgrade()
            .ok_or_else(|| PyRuntimeError::new_err("the event loop of this bridge is gone"))?;
        let future = Bound::new(
            py,
            RustFuture {
                event_loop: event_loop.clone().unbind(),
                state: Mutex::new(State::Pending),
                callbacks: Mutex::new(Vec::new()),
                abort: Mutex::new(None),
                blocking: std::sync::atomic::AtomicBool::new(false),
            },
        )?;
        Ok((future, event_loop))
    }

    /// `work`, then its outcome queued for the loop thread to finish `future` with.
    fn finishing<F>(
        &self,
        future: &Bound<'_, RustFuture>,
        work: F,
    ) -> impl Future<Output = ()> + Send + 'static
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let target = future.clone().unbind();
        let sender = self.sender.clone();
        async move {
            let outcome = work.await;
            // The loop is gone only when the bridge was dropped; nothing awaits then.
            let _ = sender
                .send(Completion {
                    future: target,
                    outcome,
                })
                .await;
        }
    }
}

#[pymethods]
impl LoopBridge {
    #[new]
    fn new(event_loop: &Bound<'_, PyAny>) -> PyResult<Self> {
        let event_loop = PyWeakrefReference::new(event_loop)?.unbind();
        let waker = Arc::new(LoopWaker::new().map_err(|e| PyOSError::new_err(e.to_string()))?);
        let (sender, receiver) = loop_queue(QUEUE_CAPACITY, waker.clone());
        // Nothing is waiting yet: the first completion must wake the loop.
        waker.arm();
        Ok(LoopBridge {
            event_loop,
            waker,
            sender,
            receiver: Mutex::new(receiver),
            batch: Mutex::new(Batch::default()),
            thread: std::thread::current().id(),
        })
    }

    /// Hands the statements started in this loop iteration to tokio, as one task, and
    /// wakes the WebSocket sessions its sends queued messages for (scheduled with
    /// `call_soon` by the first of them, or run by `drain` at its end); the iteration's
    /// last message is let go.
    fn flush(&self) {
        let mut batch = self.batch();
        let wakeups = std::mem::take(&mut batch.wakeups);
        let frame = batch.frame.take();
        if batch.work.len() > 1 {
            // `drain(..)` keeps the vector's buffer for the next batch.
            let mut running: FuturesUnordered<BatchedWork> = batch.work.drain(..).collect();
            drop(batch);
            runtime().spawn(async move { while running.next().await.is_some() {} });
        } else if let Some(work) = batch.work.pop() {
            drop(batch);
            runtime().spawn(work); // alone: no `FuturesUnordered` around it
        } else {
            drop(batch);
        }
        wakeups.wake(); // the sessions are woken outside the batch's lock
        drop(frame);
    }

    /// The eventfd to watch with `loop.add_reader(fileno, bridge.drain)`.
    fn fileno(&self) -> i32 {
        self.waker.fd()
    }

    /// Finishes every waiting future and runs its callbacks (on the loop thread).
    ///
    /// The batch has already left the queue, so an error while finishing one future
    /// must not stop the others (their tasks would never wake): the first error is
    /// raised once every future of the drain is done.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        self.waker.take();
        let _flush = Draining::start(self);
        self.finish_drained(py)
    }
}

/// Marks a bridge as draining; when dropped (even by a panic), ends that and flushes
/// the statements the drained futures' callbacks started.
struct Draining<'a>(&'a LoopBridge);

impl<'a> Draining<'a> {
    fn start(bridge: &'a LoopBridge) -> Self {
        bridge.batch().draining = true;
        Draining(bridge)
    }
}

impl Drop for Draining<'_> {
    fn drop(&mut self) {
        self.0.batch().draining = false;
        self.0.flush();
    }
}

impl LoopBridge {
    /// `drain`'s work: finishes every queued future, running its callbacks.
    fn finish_drained(&self, py: Python<'_>) -> PyResult<()> {
        let mut first_error = None;
        loop {
            let batch = self
                .receiver
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain(256);
            let more = batch.len() == 256;
            for Completion { future, outcome } in batch {
                let result = outcome(py);
                if let Err(err) = future.get().finish(py, future.bind(py), result, false) {
                    first_error.get_or_insert(err);
                }
            }
            if !more {
                return first_error.map_or(Ok(()), Err);
            }
        }
    }
}

enum State {
    Pending,
    Result(Py<PyAny>),
    Error(PyErr),
    Cancelled,
}

static CANCELLED_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INVALID_STATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn cancelled_error(py: Python<'_>) -> PyResult<PyErr> {
    let ty = CANCELLED_ERROR.import(py, "asyncio", "CancelledError")?;
    Ok(PyErr::from_type(ty.clone(), ()))
}

/// A done-callback and the `contextvars.Context` it runs in (None: the current one).
type DoneCallback = (Py<PyAny>, Option<Py<PyAny>>);

/// An awaitable result of Rust work, compatible with `asyncio.Future`.
#[pyclass(module = "hyperdjango._core", frozen)]
pub struct RustFuture {
    event_loop: Py<PyAny>,
    state: Mutex<State>,
    callbacks: Mutex<Vec<DoneCallback>>,
    abort: Mutex<Option<Abort>>,
    blocking: std::sync::atomic::AtomicBool,
}

impl RustFuture {
    /// Sets the outcome and runs the callbacks now (`immediate`: from the
    /// bridge's drain) or through `call_soon` (cancellation, late callbacks).
    fn finish(
        &self,
        py: Python<'_>,
        slf: &Bound<'_, Self>,
        result: PyResult<Py<PyAny>>,
        schedule: bool,
    ) -> PyResult<()> {
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if !matches!(*state, State::Pending) {
                return Ok(()); // cancelled meanwhile: the late outcome is dropped
            }
            *state = match result {
                Ok(value) => State::Result(value),
                Err(err) => State::Error(err),
            };
        }
        self.run_callbacks(py, slf, schedule)
    }

    /// Runs (or schedules) every callback; one failing does not skip the rest, and
    /// the first error is returned after all have had their turn.
    fn run_callbacks(&self, py: Python<'_>, slf: &Bound<'_, Self>, schedule: bool) -> PyResult<()> {
        let callbacks =
            std::mem::take(&mut *self.callbacks.lock().unwrap_or_else(|e| e.into_inner()));
        let event_loop = self.event_loop.bind(py);
        let mut first_error = None;
        for (callback, context) in callbacks {
            let done = if schedule {
                Self::schedule_callback(event_loop, callback, context, slf)
            } else {
                Self::call_callback(py, event_loop, callback, context, slf)
            };
            if let Err(err) = done {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn schedule_callback(
        event_loop: &Bound<'_, PyAny>,
        callback: Py<PyAny>,
        context: Option<Py<PyAny>>,
        slf: &Bound<'_, Self>,
    ) -> PyResult<()> {
        let kwargs = PyDict::new(event_loop.py());
        kwargs.set_item("context", context)?;
        event_loop.call_method("call_soon", (callback, slf), Some(&kwargs))?;
        Ok(())
    }

    fn call_callback(
        py: Python<'_>,
        event_loop: &Bound<'_, PyAny>,
        callback: Py<PyAny>,
        context: Option<Py<PyAny>>,
        slf: &Bound<'_, Self>,
    ) -> PyResult<()> {
        let outcome = match &context {
            Some(ctx) => ctx
                .bind(py)
                .call_method1(intern!(py, "run"), (callback.bind(py), slf)),
            None => callback.bind(py).call1((slf,)),
        };
        if let Err(err) = outcome {
            // As asyncio's Handle does: report, never break the loop.
            let report = PyDict::new(py);
            report.set_item("message", "Exception in a RustFuture callback")?;
            report.set_item("exception", err.value(py))?;
            report.set_item("future", slf)?;
            event_loop.call_method1("call_exception_handler", (report,))?;
        }
        Ok(())
    }
}

impl RustFuture {
    /// One step of whoever awaits this future, as `asyncio.Future.__await__`'s: the
    /// future itself while it is pending (the Task blocks on it), then its result.
    fn step(slf: &Bound<'_, Self>) -> PyResult<Step> {
        let this = slf.get();
        if !this.done() {
            this.blocking
                .store(true, std::sync::atomic::Ordering::Relaxed);
            return Ok(Step::Yield(slf.clone().into_any().unbind()));
        }
        Ok(Step::Return(this.result(slf.py())?))
    }

    /// The step of `send(value)`: a future takes only None.
    fn sent(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Step> {
        if !value.is_none() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "can't send non-None value to a RustFuture",
            ));
        }
        Self::step(slf)
    }
}

am_send!(RustFuture, RustFuture::sent);

#[pymethods]
impl RustFuture {
    #[getter]
    fn _asyncio_future_blocking(&self) -> bool {
        self.blocking.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[setter(_asyncio_future_blocking)]
    fn set_blocking(&self, value: bool) {
        self.blocking
            .store(value, std::sync::atomic::Ordering::Relaxed);
    }

    fn get_loop(&self, py: Python<'_>) -> Py<PyAny> {
        self.event_loop.clone_ref(py)
    }

    fn done(&self) -> bool {
        !matches!(
            *self.state.lock().unwrap_or_else(|e| e.into_inner()),
            State::Pending
        )
    }

    fn cancelled(&self) -> bool {
        matches!(
            *self.state.lock().unwrap_or_else(|e| e.into_inner()),
            State::Cancelled
        )
    }

    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &*self.state.lock().unwrap_or_else(|e| e.into_inner()) {
            State::Result(value) => Ok(value.clone_ref(py)),
            State::Error(err) => Err(err.clone_ref(py)),
            State::Cancelled => Err(cancelled_error(py)?),
            State::Pending => {
                let ty = INVALID_STATE.import(py, "asyncio", "InvalidStateError")?;
                Err(PyErr::from_type(ty.clone(), "Result is not ready."))
            }
        }
    }

    fn exception(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match &*self.state.lock().unwrap_or_else(|e| e.into_inner()) {
            State::Result(_) => Ok(None),
            State::Error(err) => Ok(Some(err.value(py).clone().into_any().unbind())),
            State::Cancelled => Err(cancelled_error(py)?),
            State::Pending => {
                let ty = INVALID_STATE.import(py, "asyncio", "InvalidStateError")?;
                Err(PyErr::from_type(ty.clone(), "Exception is not set."))
            }
        }
    }

    #[pyo3(signature = (callback, *, context = None))]
    fn add_done_callback(
        slf: &Bound<'_, Self>,
        callback: Py<PyAny>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let this = slf.get();
        if this.done() {
            this.callbacks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((callback, context));
            return this.run_callbacks(slf.py(), slf, true);
        }
        this.callbacks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((callback, context));
        Ok(())
    }

    fn remove_done_callback(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<usize> {
        let mut callbacks = self.callbacks.lock().unwrap_or_else(|e| e.into_inner());
        let before = callbacks.len();
        let mut kept = Vec::with_capacity(before);
        for (cb, ctx) in callbacks.drain(..) {
            if cb.bind(py).eq(callback)? {
                continue;
            }
            kept.push((cb, ctx));
        }
        *callbacks = kept;
        Ok(before - callbacks.len())
    }

    /// Cancels the work (dropping it on tokio cancels the query server-side).
    #[pyo3(signature = (msg = None))]
    fn cancel(slf: &Bound<'_, Self>, msg: Option<Py<PyAny>>) -> PyResult<bool> {
        let _ = msg;
        let this = slf.get();
        {
            let mut state = this.state.lock().unwrap_or_else(|e| e.into_inner());
            if !matches!(*state, State::Pending) {
                return Ok(false);
            }
            *state = State::Cancelled;
        }
        if let Some(handle) = this.abort.lock().unwrap_or_else(|e| e.into_inner()).take() {
            handle.abort();
        }
        this.run_callbacks(slf.py(), slf, true)?;
        Ok(true)
    }

    fn __await__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// One step of the awaiting coroutine (or of the Task that drives this future as
    /// its coroutine), `StopIteration(result)` once it is done. `await` on 3.11 takes
    /// the `am_send` slot instead (see [`RustFuture::step`]).
    fn __next__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Self::step(slf)?.into_next()
    }

    /// The coroutine protocol's step: `send(None)` is `__next__`.
    fn send(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Self::sent(slf, value)?.into_next()
    }

    /// Raises `typ` (an exception, or its class and value) where the coroutine waits.
    /// Whoever throws stops waiting for the result (a Task cancelled before its first
    /// step, an awaiting coroutine cancelled or closed): the work is cancelled with it,
    /// so a statement nobody will read is not left running on the server.
    #[pyo3(signature = (typ, val = None, tb = None))]
    fn throw(
        slf: &Bound<'_, Self>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let err = if typ.is_instance_of::<pyo3::exceptions::PyBaseException>() {
            PyErr::from_value(typ.clone())
        } else if let Some(val) = val.filter(|v| v.is_instance(typ).unwrap_or(false)) {
            PyErr::from_value(val.clone())
        } else if typ.is_instance_of::<PyType>() {
            let made = match val {
                Some(val) if !val.is_none() => typ.call1((val,))?,
                _ => typ.call0()?,
            };
            PyErr::from_value(made)
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "exceptions must be classes or instances deriving from BaseException",
            ));
        };
        if let Some(tb) = tb.filter(|tb| !tb.is_none()) {
            err.set_traceback(py, Some(tb.cast::<pyo3::types::PyTraceback>()?.clone()));
        }
        Self::cancel(slf, None)?;
        Err(err)
    }

    /// Closes the coroutine: a pending future is cancelled (its work with it).
    fn close(slf: &Bound<'_, Self>) -> PyResult<()> {
        Self::cancel(slf, None)?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        let state = match &*self.state.lock().unwrap_or_else(|e| e.into_inner()) {
            State::Pending => "pending",
            State::Result(_) => "finished",
            State::Error(_) => "failed",
            State::Cancelled => "cancelled",
        };
        format!("<RustFuture {state}>")
    }
}
