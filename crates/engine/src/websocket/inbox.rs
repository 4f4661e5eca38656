//! The messages a session has read and its handler has not taken yet.
//!
//! Bounded (`receive_queue`): the session puts, the handler takes. A receive
//! that finds it empty leaves a [`Receiver`] (a callback) or a waker; the
//! session hands the next message to the callback itself, on its own thread,
//! so a waiting receive needs no task and no channel of its own (the
//! bindings' receive finishes its Python future from that callback).

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::Incoming;

/// Called once with the next message, or None once the session is over.
pub type Receiver = Box<dyn FnOnce(Option<Incoming>) + Send>;

enum Waiting {
    Call(u64, Receiver),
    /// A receive polled as a future: the message waits in `items` for it.
    Wake(u64, Waker),
}

#[derive(Default)]
struct Inner {
    items: VecDeque<Incoming>,
    /// The session is over: nothing comes after `items`.
    ended: bool,
    /// The handler dropped its connection: nothing will be taken.
    abandoned: bool,
    /// Receives waiting, in order; only while `items` is empty.
    waiting: VecDeque<Waiting>,
    next_id: u64,
    /// The session, waiting for room.
    room: Option<Waker>,
}

impl Inner {
    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

pub(super) struct Inbox {
    inner: Mutex<Inner>,
    capacity: usize,
}

/// What a take found.
pub(super) enum Taken {
    Message(Incoming),
    /// The session is over and every message was taken.
    Ended,
    /// Nothing yet.
    Empty,
}

impl Inbox {
    pub(super) fn new(capacity: usize) -> Self {
        Inbox {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session's side: gives `message` to the first waiting receive, or
    /// queues it; gives it back when the queue is full (the session keeps it
    /// and stops reading). Dropped when the handler is gone.
    pub(super) fn put(&self, message: Incoming) -> Result<(), Incoming> {
        let mut inner = self.inner();
        if inner.abandoned {
            return Ok(());
        }
        match inner.waiting.pop_front() {
            Some(Waiting::Call(_, receiver)) => {
                drop(inner);
                receiver(Some(message));
            }
            Some(Waiting::Wake(_, waker)) => {
                inner.items.push_back(message);
                drop(inner);
                waker.wake();
            }
            None if inner.items.len() < self.capacity => inner.items.push_back(message),
            None => return Err(message),
        }
        Ok(())
    }

    /// Ready when a [`put`](Self::put) would take a message.
    pub(super) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut inner = self.inner();
        if inner.abandoned || inner.items.len() < self.capacity {
            return Poll::Ready(());
        }
        inner.room = Some(cx.waker().clone());
        Poll::Pending
    }

    /// The session is over: waiting receives get None (after the messages already queued).
    pub(super) fn end(&self) {
        let waiting = {
            let mut inner = self.inner();
            inner.ended = true;
            std::mem::take(&mut inner.waiting)
        };
        for waiting in waiting {
            match waiting {
                Waiting::Call(_, receiver) => receiver(None),
                Waiting::Wake(_, waker) => waker.wake(),
            }
        }
    }

    /// The handler is gone: nothing queued or coming will be taken.
    pub(super) fn abandon(&self) {
        let room = {
            let mut inner = self.inner();
            inner.abandoned = true;
            inner.items.clear();
            inner.room.take()
        };
        if let Some(room) = room {
            room.wake();
        }
    }

    /// Takes the next message without waiting.
    pub(super) fn take(&self) -> Taken {
        Self::taken(self.inner())
    }

    /// What `inner` has for a receive; a message taken makes room, which
    /// wakes the session if it waits for it (after the lock is released).
    fn taken(mut inner: MutexGuard<'_, Inner>) -> Taken {
        let Some(message) = inner.items.pop_front() else {
            return if inner.ended {
                Taken::Ended
            } else {
                Taken::Empty
            };
        };
        let room = inner.room.take();
        drop(inner);
        if let Some(room) = room {
            room.wake();
        }
        Taken::Message(message)
    }

    /// Takes the next message, or leaves `receiver` to be called with it;
    /// returns the id to [`withdraw`](Self::withdraw) it by.
    pub(super) fn take_or_wait(&self, receiver: Receiver) -> Option<u64> {
        let mut inner = self.inner();
        if inner.items.is_empty() && !inner.ended {
            let id = inner.new_id();
            inner.waiting.push_back(Waiting::Call(id, receiver));
            return Some(id);
        }
        match Self::taken(inner) {
            Taken::Message(message) => receiver(Some(message)),
            _ => receiver(None),
        }
        None
    }

    /// A future's poll: the next message, or the waker left for it (`id`
    /// names the waker an earlier poll left, replaced in place).
    pub(super) fn poll_take(
        &self,
        id: &mut Option<u64>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Incoming>> {
        let mut inner = self.inner();
        if !inner.items.is_empty() || inner.ended {
            if let Some(own) = id.take() {
                // Another receive's wake-up found this message first: leave no stale waker.
                inner
                    .waiting
                    .retain(|w| !matches!(w, Waiting::Wake(i, _) if *i == own));
            }
            return Poll::Ready(match Self::taken(inner) {
                Taken::Message(message) => Some(message),
                _ => None,
            });
        }
        let waker = cx.waker().clone();
        let earlier = inner.waiting.iter_mut().find_map(|waiting| match waiting {
            Waiting::Wake(w, old) if Some(*w) == *id => Some(old),
            _ => None,
        });
        match earlier {
            Some(old) => *old = waker,
            None => {
                let new = inner.new_id();
                inner.waiting.push_back(Waiting::Wake(new, waker));
                *id = Some(new);
            }
        }
        Poll::Pending
    }

    /// A receive woken for a message went away without taking it: the next
    /// waiting receive gets it (or is woken for it).
    pub(super) fn pass_on(&self) {
        let mut inner = self.inner();
        if inner.items.is_empty() {
            return;
        }
        match inner.waiting.pop_front() {
            Some(Waiting::Call(_, receiver)) => {
                let message = inner.items.pop_front();
                drop(inner);
                receiver(message);
            }
            Some(Waiting::Wake(_, waker)) => {
                drop(inner);
                waker.wake();
            }
            None => {}
        }
    }

    /// Withdraws a waiting receive (cancelled); false if it was called or woken already.
    pub(super) fn withdraw(&self, id: u64) -> bool {
        let mut inner = self.inner();
        let Some(at) = inner.waiting.iter().position(|w| match w {
            Waiting::Call(i, _) | Waiting::Wake(i, _) => *i == id,
        }) else {
            return false;
        };
        let withdrawn = inner.waiting.remove(at);
        drop(inner);
        drop(withdrawn); // outside the lock: a receiver's drop may run code of its own
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{mpsc, Arc};

    use super::*;

    fn text(t: &str) -> Incoming {
        Incoming::Text(t.into())
    }

    /// A receiver that reports what it was called with.
    fn reporting() -> (Receiver, mpsc::Receiver<Option<Incoming>>) {
        let (tx, rx) = mpsc::channel();
        (Box::new(move |m| tx.send(m).unwrap()), rx)
    }

    #[test]
    fn a_waiting_receiver_is_handed_the_next_message_by_the_session() {
        let inbox = Inbox::new(2);
        let (first, got_first) = reporting();
        let (second, got_second) = reporting();
        assert!(inbox.take_or_wait(first).is_some());
        assert!(inbox.take_or_wait(second).is_some());
        inbox.put(text("a")).unwrap();
        inbox.put(text("b")).unwrap();
        assert_eq!(got_first.try_recv().unwrap(), Some(text("a")));
        assert_eq!(got_second.try_recv().unwrap(), Some(text("b")));
        // Nobody waits now: messages queue, up to the capacity.
        inbox.put(text("c")).unwrap();
        inbox.put(text("d")).unwrap();
        assert_eq!(inbox.put(text("e")), Err(text("e")));
        let (third, got_third) = reporting();
        assert!(inbox.take_or_wait(third).is_none());
        assert_eq!(got_third.try_recv().unwrap(), Some(text("c")));
    }

    #[test]
    fn a_withdrawn_receiver_is_never_called_and_the_end_reaches_the_rest() {
        let inbox = Inbox::new(4);
        let (withdrawn, got_withdrawn) = reporting();
        let (kept, got_kept) = reporting();
        let id = inbox.take_or_wait(withdrawn).unwrap();
        inbox.take_or_wait(kept).unwrap();
        assert!(inbox.withdraw(id));
        assert!(!inbox.withdraw(id));
        inbox.put(text("a")).unwrap();
        assert_eq!(got_kept.try_recv().unwrap(), Some(text("a")));
        assert!(got_withdrawn.try_recv().is_err());
        let (late, got_late) = reporting();
        inbox.take_or_wait(late).unwrap();
        inbox.end();
        assert_eq!(got_late.try_recv().unwrap(), None);
        assert!(matches!(inbox.take(), Taken::Ended));
    }

    struct Flag(std::sync::atomic::AtomicBool);

    impl std::task::Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn flag() -> (Arc<Flag>, Waker) {
        let flag = Arc::new(Flag(false.into()));
        (flag.clone(), Waker::from(flag))
    }

    #[test]
    fn taking_makes_room_for_the_session() {
        let inbox = Inbox::new(1);
        inbox.put(text("a")).unwrap();
        let (woken, waker) = flag();
        assert!(inbox
            .poll_room(&mut Context::from_waker(&waker))
            .is_pending());
        assert!(matches!(inbox.take(), Taken::Message(_)));
        assert!(woken.0.load(std::sync::atomic::Ordering::SeqCst));
        assert!(inbox.poll_room(&mut Context::from_waker(&waker)).is_ready());
    }

    #[test]
    fn a_woken_future_that_goes_away_passes_its_message_on() {
        let inbox = Inbox::new(4);
        let (_, waker) = flag();
        let mut id = None;
        assert!(inbox
            .poll_take(&mut id, &mut Context::from_waker(&waker))
            .is_pending());
        let (next, got_next) = reporting();
        inbox.take_or_wait(next).unwrap();
        inbox.put(text("a")).unwrap(); // wakes the future, which never polls again
        assert!(!inbox.withdraw(id.unwrap()));
        inbox.pass_on();
        assert_eq!(got_next.try_recv().unwrap(), Some(text("a")));
    }
}
