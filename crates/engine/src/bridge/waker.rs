//! An eventfd that an event loop watches, written at most once per sleep.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Wakes an event loop that watches [`LoopWaker::fd`] for readability.
pub struct LoopWaker {
    fd: OwnedFd,
    armed: AtomicBool,
    /// A sender has promised to wake the loop for everything queued so far
    /// (`LoopSender::send_batched`).
    flush_claimed: AtomicBool,
}

impl LoopWaker {
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd has no preconditions; a negative result is an error.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(LoopWaker {
            // SAFETY: fd is a fresh descriptor that nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            armed: AtomicBool::new(false),
            flush_claimed: AtomicBool::new(false),
        })
    }

    /// The descriptor to register with the loop (`loop.add_reader`).
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Called by the consumer before it sleeps.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Called by the consumer while it is draining: producers need not write.
    pub fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }

    /// Writes the descriptor if the consumer is asleep; a no-op otherwise.
    pub fn wake(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.write();
        }
    }

    /// Whether the caller is now the one to `flush` for every sender: false when the
    /// consumer is draining (it needs no wake-up) or another sender already is.
    pub(crate) fn claim_flush(&self) -> bool {
        self.armed.load(Ordering::SeqCst) && !self.flush_claimed.swap(true, Ordering::SeqCst)
    }

    /// Ends a `claim_flush`: wakes the consumer for the items queued until now.
    /// The claim is released first, so an item queued after a sender saw it
    /// still claimed was queued before this wake-up.
    pub(crate) fn flush(&self) {
        self.flush_claimed.store(false, Ordering::SeqCst);
        self.wake();
    }

    /// Writes the descriptor unconditionally (shutdown, errors).
    pub fn write(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our own descriptor. A full
        // counter (EAGAIN) already means "readable", so the result is ignored.
        unsafe {
            libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8);
        }
    }

    /// Clears the descriptor and returns how many writes it had collected.
    pub fn take(&self) -> u64 {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from our own non-blocking descriptor.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
        if n == 8 {
            count
        } else {
            0
        }
    }
}
