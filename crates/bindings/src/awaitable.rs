//! The `am_send` slot of our awaitables (`RustFuture`, `Sent`).
//!
//! `await x` steps `x` (what `x.__await__()` returned) with `PyIter_Send`, and so does
//! asyncio's C Task with its coroutine (`create_task(x)`). `PyIter_Send` calls the type's
//! `am_send` slot when it has one, which hands a finished step's result back as it is;
//! without one it calls `__next__`, whose result has to travel in a `StopIteration`
//! made, raised and caught again for every await (~0.9k instructions each, issue #19).
//!
//! PyO3 0.30 cannot declare `am_send` in `#[pymethods]`. With its `multiple-pymethods`
//! feature (ours), every `#[pymethods]` block submits its methods and slots to an
//! inventory that the class reads when PyO3 makes the type with `PyType_FromSpec`;
//! [`am_send!`] submits one more slot the same way, so the type is
//! made by PyO3 as before, with the slot among the others. That inventory is PyO3's
//! (hidden) macro interface, not its documented API: a PyO3 that changes it fails to
//! compile here, and `test_statement_futures` checks the slot is on the type.
//!
//! Why it is sound on every version we support (abi3, 3.11+): `Py_am_send` (slot 81) and
//! `PySendResult` are in the stable ABI since 3.10 with one contract: return
//! `PYGEN_NEXT` (yielded) or `PYGEN_RETURN` (finished) with a new reference in
//! `*result`, or `PYGEN_ERROR` with an exception set. CPython 3.11 calls it for `await`;
//! 3.12 and later step `await` through `tp_iternext` (`__next__`) and `send()` again,
//! and call the slot only through `PyIter_Send` (asyncio's C Task): the slot, `__next__`
//! and `send` all take the same step, so which one runs changes nothing but the cost.

use std::ffi::c_void;
use std::panic::AssertUnwindSafe;

use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::PyClass;

/// One step of whoever awaits one of our awaitables.
pub(crate) enum Step {
    /// Not finished: this goes up to the Task (a future to block on).
    Yield(Py<PyAny>),
    /// Finished with this result.
    Return(Py<PyAny>),
}

impl Step {
    /// The step as `__next__` and `send()` give it: the result rides a `StopIteration`.
    pub(crate) fn into_next(self) -> PyResult<Py<PyAny>> {
        match self {
            Step::Yield(value) => Ok(value),
            Step::Return(value) => Err(pyo3::exceptions::PyStopIteration::new_err((value,))),
        }
    }
}

/// The `am_send` slot's work for class `T`: `step(self, value)` (`value`: what was sent,
/// None for a plain `await`), its outcome in `am_send`'s terms. A panic in `step`
/// becomes a `PanicException` raised where the future is awaited.
///
/// # Safety
/// Called by CPython as `T`'s `am_send` slot: attached, `slf` an instance of `T`,
/// `value` a borrowed object, `result` writable.
pub(crate) unsafe fn send<T: PyClass>(
    slf: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
    result: *mut *mut ffi::PyObject,
    step: fn(&Bound<'_, T>, &Bound<'_, PyAny>) -> PyResult<Step>,
) -> ffi::PySendResult {
    // SAFETY: CPython calls slots only from a thread attached to it (holding the GIL).
    // Not `Python::attach`: it would find PyO3's own count of attachments at zero here
    // (no PyO3 trampoline around a slot of ours) and take PyGILState_Ensure/Release,
    // ~240 instructions, a fifth of what the slot saves. With that count at zero, a
    // `Py` dropped here waits in PyO3's pool for its next attachment (any call into
    // `_core`) instead of being released at once: correct, only later. A result or a
    // stored error leaves as a raw pointer and drops none; only an error made here
    // (CancelledError, a panic's) drops its type and arguments that way.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: the interpreter passes borrowed references that live through the call.
    let (slf, value) = unsafe {
        (
            Bound::from_borrowed_ptr(py, slf),
            Bound::from_borrowed_ptr(py, value),
        )
    };
    let stepped = std::panic::catch_unwind(AssertUnwindSafe(|| step(slf.cast::<T>()?, &value)))
        .unwrap_or_else(|payload| Err(panic_error(payload)));
    let (status, object) = match stepped {
        Ok(Step::Yield(object)) => (ffi::PySendResult::PYGEN_NEXT, object.into_ptr()),
        Ok(Step::Return(object)) => (ffi::PySendResult::PYGEN_RETURN, object.into_ptr()),
        Err(err) => {
            err.restore(py);
            (ffi::PySendResult::PYGEN_ERROR, std::ptr::null_mut())
        }
    };
    // SAFETY: the caller passes a writable result pointer.
    unsafe { *result = object };
    status
}

/// What PyO3 raises for a panic in a method: a `PanicException` with its message.
fn panic_error(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic from Rust code".to_owned());
    PanicException::new_err((message,))
}

/// The slot entry for [`am_send!`]: `func` as `Py_am_send`.
pub(crate) const fn am_send_slot(
    func: unsafe extern "C" fn(
        *mut ffi::PyObject,
        *mut ffi::PyObject,
        *mut *mut ffi::PyObject,
    ) -> ffi::PySendResult,
) -> ffi::PyType_Slot {
    ffi::PyType_Slot {
        slot: ffi::Py_am_send,
        pfunc: func as *mut c_void,
    }
}

/// Gives pyclass `$class` an `am_send` slot that takes `$step` (see the module's
/// documentation and [`send`]).
macro_rules! am_send {
    ($class:ty, $step:path) => {
        const _: () = {
            unsafe extern "C" fn am_send(
                slf: *mut pyo3::ffi::PyObject,
                value: *mut pyo3::ffi::PyObject,
                result: *mut *mut pyo3::ffi::PyObject,
            ) -> pyo3::ffi::PySendResult {
                // SAFETY: CPython calls it as the class's `am_send` slot.
                unsafe { $crate::awaitable::send::<$class>(slf, value, result, $step) }
            }
            pyo3::inventory::submit! {
                type Inventory = <$class as pyo3::impl_::pyclass::PyClassImpl>::Inventory;
                Inventory::new(pyo3::impl_::pyclass::PyClassItems {
                    methods: &[],
                    slots: &[$crate::awaitable::am_send_slot(am_send)],
                })
            }
        };
    };
}

pub(crate) use am_send;
