//! A future polled only after it asked to be woken.
//!
//! A connection task is woken for every read and every response, and
//! `tokio::select!` polls all its branches each time: the keep-alive timer and
//! the two shutdown signals would be polled twice a request for nothing (a
//! `watch::Receiver::changed` poll takes the waiter list's lock). [`Woken`]
//! gives its future a waker of its own and skips the poll until that waker
//! fires, which is what a task of its own would do, without the task.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// Whether the wrapped future was woken, and the task to wake then.
#[derive(Default)]
pub(crate) struct WakeFlag {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// `future`, polled on its first poll and then only once its waker fired.
/// `flag` may be reused by the next `Woken` of the same task.
pub(crate) struct Woken<F> {
    future: F,
    flag: Arc<WakeFlag>,
    waker: Waker,
}

impl<F: Future + Unpin> Woken<F> {
    pub(crate) fn new(future: F, flag: &Arc<WakeFlag>) -> Self {
        flag.woken.store(true, Ordering::Release);
        Woken {
            future,
            flag: flag.clone(),
            waker: Waker::from(flag.clone()),
        }
    }
}

impl<F: Future + Unpin> Future for Woken<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Registered before the flag is read: a wake-up in between is not lost.
        self.flag.task.register(cx.waker());
        if !self.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let this = &mut *self;
        Pin::new(&mut this.future).poll(&mut Context::from_waker(&this.waker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Counts its polls; ready once `ready` is set.
    struct Probe {
        polls: usize,
        ready: Arc<AtomicBool>,
        waker: Arc<std::sync::Mutex<Option<Waker>>>,
    }

    impl Future for Probe {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls += 1;
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.ready.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    #[test]
    fn the_future_is_polled_first_and_then_only_after_its_wake_up() {
        let flag = Arc::new(WakeFlag::default());
        let ready = Arc::new(AtomicBool::new(false));
        let inner_waker = Arc::new(std::sync::Mutex::new(None));
        let mut woken = Woken::new(
            Probe {
                polls: 0,
                ready: ready.clone(),
                waker: inner_waker.clone(),
            },
            &flag,
        );
        let task = Arc::new(WakeFlag::default()); // stands for the task's waker
        let task_waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&task_waker);
        assert!(Pin::new(&mut woken).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut woken).poll(&mut cx).is_pending());
        assert_eq!(woken.future.polls, 1, "not woken: not polled again");
        ready.store(true, Ordering::Release);
        inner_waker.lock().unwrap().take().unwrap().wake();
        assert!(
            task.woken.load(Ordering::Acquire),
            "the inner wake-up wakes the task"
        );
        assert!(Pin::new(&mut woken).poll(&mut cx).is_ready());
        assert_eq!(woken.future.polls, 2);
    }

    #[tokio::test]
    async fn a_timer_inside_fires() {
        let flag = Arc::new(WakeFlag::default());
        let sleep = Box::pin(tokio::time::sleep(Duration::from_millis(5)));
        tokio::time::timeout(Duration::from_secs(10), Woken::new(sleep, &flag))
            .await
            .expect("the timer wakes the gated future");
    }
}
