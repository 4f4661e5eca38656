//! Giving the memory of parked connections back to the system.
//!
//! A parked connection frees hyper's buffers (see `connection.rs`), but glibc
//! keeps freed memory in its arenas: the process's RSS would stay at the peak
//! of the last burst. After a wave of parks, one `malloc_trim` returns the
//! free pages. Elsewhere (other allocators, other systems) this does nothing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Parks since the last release.
static PARKED: AtomicUsize = AtomicUsize::new(0);
static RELEASE_SCHEDULED: AtomicBool = AtomicBool::new(false);
/// A release is worth its cost (it walks the heap) after this many parks.
const WAVE: usize = 256;
/// How long a release waits for the rest of a wave to park.
const GATHER: Duration = Duration::from_millis(500);

/// Counts a parked connection; the parks of a wave schedule one release.
pub(crate) fn connection_parked() {
    if PARKED.fetch_add(1, Ordering::Relaxed) + 1 >= WAVE
        && !RELEASE_SCHEDULED.swap(true, Ordering::AcqRel)
    {
        tokio::spawn(async {
            tokio::time::sleep(GATHER).await;
            PARKED.store(0, Ordering::Relaxed);
            let _ = tokio::task::spawn_blocking(release_free_memory).await;
            RELEASE_SCHEDULED.store(false, Ordering::Release);
        });
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_memory() {
    // SAFETY: malloc_trim only takes glibc's own arena locks; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}
