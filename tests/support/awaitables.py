"""Stepping an awaitable as CPython does: `PyIter_Send`, which takes the type's `am_send`
slot when it has one. `await` takes that path on 3.11 and asyncio's C Task on every
version, where a plain `x.send(None)` or `next(x)` calls the methods instead."""

from __future__ import annotations

import ctypes
from typing import Any

PYGEN_RETURN = 0
PYGEN_NEXT = 1
AM_SEND = 81  # Py_am_send, the slot's id in the stable ABI

_py_iter_send = ctypes.pythonapi.PyIter_Send
_py_iter_send.argtypes = [ctypes.py_object, ctypes.py_object, ctypes.POINTER(ctypes.c_void_p)]
_py_iter_send.restype = ctypes.c_int
_get_slot = ctypes.pythonapi.PyType_GetSlot
_get_slot.argtypes = [ctypes.py_object, ctypes.c_int]
_get_slot.restype = ctypes.c_void_p
_dec_ref = ctypes.pythonapi.Py_DecRef
_dec_ref.argtypes = [ctypes.c_void_p]


def has_am_send(cls: type) -> bool:
    return _get_slot(cls, AM_SEND) is not None


def py_iter_send(awaitable: Any, value: Any = None) -> tuple[int, Any]:
    """`(PYGEN_NEXT, yielded)` or `(PYGEN_RETURN, result)`; an error is raised
    (ctypes raises the exception that `PYGEN_ERROR` leaves set)."""
    out = ctypes.c_void_p()
    status = _py_iter_send(awaitable, value, ctypes.byref(out))
    result = ctypes.cast(out, ctypes.py_object).value
    _dec_ref(out)  # PyIter_Send's reference; `result` holds its own
    return status, result
