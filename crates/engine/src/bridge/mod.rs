//! Handing work from tokio threads to the one thread that runs Python.
//!
//! A [`LoopQueue`] is a bounded queue whose consumer is an event loop that
//! watches a file descriptor ([`LoopWaker`]). Producers never block a tokio
//! thread and never touch the interpreter: a full queue makes the producing
//! task wait (backpressure), and the descriptor is written only when the
//! consumer has said it is about to sleep, so a busy loop gets one wake-up per
//! batch instead of one per item.

mod waker;

use std::sync::Arc;

use tokio::sync::mpsc;

pub use waker::LoopWaker;

/// The producing half; cheap to clone.
pub struct LoopSender<T> {
    tx: mpsc::Sender<T>,
    waker: Arc<LoopWaker>,
}

impl<T> Clone for LoopSender<T> {
    fn clone(&self) -> Self {
        LoopSender {
            tx: self.tx.clone(),
            waker: self.waker.clone(),
        }
    }
}

/// The consuming half, drained on the loop thread.
pub struct LoopReceiver<T> {
    rx: mpsc::Receiver<T>,
    waker: Arc<LoopWaker>,
}

/// Room for one item in a [`LoopSender`]'s queue.
pub struct LoopPermit<'a, T> {
    permit: mpsc::Permit<'a, T>,
    waker: &'a LoopWaker,
}

impl<T> LoopPermit<'_, T> {
    pub fn send(self, item: T) {
        self.permit.send(item);
        self.waker.wake();
    }
}

struct FlushOnDrop<'a>(&'a LoopWaker);

impl Drop for FlushOnDrop<'_> {
    fn drop(&mut self) {
        self.0.flush();
    }
}

/// The consumer is gone; the item comes back.
#[derive(Debug)]
pub struct Closed<T>(pub T);

/// Creates a queue holding at most `capacity` items that wakes `waker`'s loop.
pub fn loop_queue<T>(capacity: usize, waker: Arc<LoopWaker>) -> (LoopSender<T>, LoopReceiver<T>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (
        LoopSender {
            tx,
            waker: waker.clone(),
        },
        LoopReceiver { rx, waker },
    )
}

impl<T> LoopSender<T> {
    /// Enqueues `item`, waiting for room while the queue is full.
    pub async fn send(&self, item: T) -> Result<(), Closed<T>> {
        self.tx.send(item).await.map_err(|e| Closed(e.0))?;
        self.waker.wake();
        Ok(())
    }

    /// As `send`, but the wake-up waits until this tokio thread has run the tasks
    /// that are ready now (a task that yields is polled again when the others are
    /// done): the requests read in one pass over the connections reach the loop
    /// as one batch. Waking at once would hand the loop a batch of one, and on a
    /// shared core the kernel switches to the woken loop thread right away, and
    /// back: two context switches and an eventfd write and read per item.
    /// Only the first sender of a burst waits; the others just queue.
    pub async fn send_batched(&self, item: T) -> Result<(), Closed<T>> {
        self.tx.send(item).await.map_err(|e| Closed(e.0))?;
        if self.waker.claim_flush() {
            // Flushes when dropped too: a sender cancelled while it waits
            // (its client went away) still wakes the loop for the others.
            let _flush = FlushOnDrop(&self.waker);
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    /// Waits for room and holds it: the permit's `send` neither waits nor fails, so
    /// an item can be placed exactly between others (the caller takes its lock after).
    pub async fn reserve(&self) -> Result<LoopPermit<'_, T>, Closed<()>> {
        let permit = self.tx.reserve().await.map_err(|_| Closed(()))?;
        Ok(LoopPermit {
            permit,
            waker: &self.waker,
        })
    }

    /// Holds room for one item if there is room now.
    pub fn try_reserve(&self) -> Result<LoopPermit<'_, T>, mpsc::error::TrySendError<()>> {
        let permit = self.tx.try_reserve()?;
        Ok(LoopPermit {
            permit,
            waker: &self.waker,
        })
    }

    /// Enqueues `item` if there is room now.
    pub fn try_send(&self, item: T) -> Result<(), mpsc::error::TrySendError<T>> {
        self.tx.try_send(item)?;
        self.waker.wake();
        Ok(())
    }
}

impl<T> LoopReceiver<T> {
    /// Takes up to `max` items without waiting. When it returns fewer than
    /// `max`, the queue was empty and the waker is armed: the next `send`
    /// writes the descriptor.
    pub fn drain(&mut self, max: usize) -> Vec<T> {
        self.waker.disarm();
        // Sized once: growing it item by item copies the batch each time it doubles.
        let mut out = Vec::with_capacity(self.rx.len().min(max));
        loop {
            while out.len() < max {
                match self.rx.try_recv() {
                    Ok(item) => out.push(item),
                    Err(_) => break,
                }
            }
            if out.len() >= max {
                return out;
            }
            self.waker.arm();
            // An item sent between the last try_recv and arm() saw the waker
            // disarmed and did not write; look once more so it is not stranded.
            if self.rx.is_empty() {
                return out;
            }
            self.waker.disarm();
        }
    }

    /// Waits for the next item, for a consumer that blocks in a thread of its own
    /// instead of draining on a loop (the waker stays disarmed: no descriptor writes).
    /// None once every sender is gone.
    pub async fn recv(&mut self) -> Option<T> {
        self.rx.recv().await
    }

    /// Items waiting now.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    #[tokio::test]
    async fn one_wake_up_per_batch() {
        let waker = Arc::new(LoopWaker::new().unwrap());
        let (tx, mut rx) = loop_queue::<u32>(16, waker.clone());
        assert!(rx.drain(8).is_empty()); // arms
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
        assert_eq!(waker.take(), 1, "only the first send after arming writes");
        assert_eq!(rx.drain(8), vec![0, 1, 2, 3, 4]);
        tx.send(9).await.unwrap();
        assert_eq!(waker.take(), 1);
    }

    /// A queue whose consumer drained it empty and sleeps (its waker armed).
    fn armed_queue() -> (Arc<LoopWaker>, LoopSender<u32>, LoopReceiver<u32>) {
        let waker = Arc::new(LoopWaker::new().unwrap());
        let (tx, mut rx) = loop_queue::<u32>(16, waker.clone());
        assert!(rx.drain(8).is_empty());
        (waker, tx, rx)
    }

    /// Polls a sender once: its item is queued, and it waits to wake the loop.
    fn poll_pending(
        sender: &mut std::pin::Pin<Box<impl Future<Output = Result<(), Closed<u32>>>>>,
    ) {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(sender.as_mut().poll(&mut cx).is_pending());
    }

    #[tokio::test]
    async fn batched_sends_wake_once_after_the_ready_tasks_ran() {
        let (waker, tx, mut rx) = armed_queue();
        let mut first = Box::pin(tx.send_batched(1));
        poll_pending(&mut first);
        assert_eq!(waker.take(), 0, "not woken while other tasks are ready");
        tx.send_batched(2).await.unwrap();
        tx.send_batched(3).await.unwrap();
        assert_eq!(waker.take(), 0, "the first sender wakes for these too");
        first.await.unwrap();
        assert_eq!(waker.take(), 1, "one wake-up for the three");
        assert_eq!(rx.drain(8), vec![1, 2, 3]);
        tx.send_batched(9).await.unwrap();
        assert_eq!(waker.take(), 1, "the next burst wakes again");
    }

    #[tokio::test]
    async fn a_batched_sender_cancelled_while_it_waits_still_wakes() {
        let (waker, tx, mut rx) = armed_queue();
        let mut first = Box::pin(tx.send_batched(1));
        poll_pending(&mut first);
        assert_eq!(waker.take(), 0);
        drop(first);
        assert_eq!(waker.take(), 1, "dropped: it wakes the loop as it goes");
        assert_eq!(rx.drain(8), vec![1]);
        tx.send_batched(2).await.unwrap();
        assert_eq!(waker.take(), 1, "and the next sender may wake again");
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_sender_wait() {
        let waker = Arc::new(LoopWaker::new().unwrap());
        let (tx, mut rx) = loop_queue::<u32>(2, waker);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        let blocked = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(3).await.unwrap() }
        });
        tokio::task::yield_now().await;
        assert!(!blocked.is_finished());
        assert_eq!(rx.drain(1), vec![1]);
        blocked.await.unwrap();
        assert_eq!(rx.drain(10), vec![2, 3]);
    }

    #[tokio::test]
    async fn recv_takes_items_without_writing_the_descriptor() {
        let waker = Arc::new(LoopWaker::new().unwrap());
        let (tx, mut rx) = loop_queue::<u32>(8, waker.clone());
        tx.send(7).await.unwrap();
        assert_eq!(rx.recv().await, Some(7));
        assert_eq!(
            waker.take(),
            0,
            "nobody armed the waker: no wake-up written"
        );
        drop(tx);
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_partial_batch_leaves_the_waker_disarmed() {
        let waker = Arc::new(LoopWaker::new().unwrap());
        let (tx, mut rx) = loop_queue::<u32>(8, waker.clone());
        for i in 0..4 {
            tx.send(i).await.unwrap();
        }
        assert_eq!(rx.drain(2), vec![0, 1]);
        tx.send(4).await.unwrap();
        assert_eq!(
            waker.take(),
            0,
            "the consumer has more to do and needs no wake-up"
        );
        assert_eq!(rx.drain(10), vec![2, 3, 4]);
    }
}
