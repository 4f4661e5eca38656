"""The completion bridge of each event loop: the runtime that serving and the database share.

It sits below both layers (the server's dispatch and the database driver import it;
it imports neither), so the database never reaches up into serving.

Rust work (database queries, ...) returns a ``RustFuture`` that is finished on
the loop it was started from: each loop gets one ``LoopBridge`` whose eventfd
the loop watches, so finished work wakes it at most once per batch.

A ``RustFuture`` is both an ``asyncio.Future`` (``gather`` and ``wait_for`` add a
callback to it, no Task) and a coroutine (``create_task``, ``TaskGroup.create_task``
and ``asyncio.run`` drive it with ``send``/``throw``/``close``): registered here as a
``collections.abc.Coroutine``, which is what ``asyncio.iscoroutine`` asks.
"""

from __future__ import annotations

import asyncio
import collections.abc
import weakref

from ._core import LoopBridge, RustFuture

collections.abc.Coroutine.register(RustFuture)

_bridges: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopBridge] = weakref.WeakKeyDictionary()


def loop_bridge() -> LoopBridge:
    """The running loop's bridge, created and registered on first use."""
    bridge = running_bridge()
    if bridge is None:
        raise RuntimeError("no running event loop")
    return bridge


def running_bridge() -> LoopBridge | None:
    """The running loop's bridge (created on first use), or None outside a running loop."""
    loop = asyncio._get_running_loop()
    if loop is None:
        return None
    bridge = _bridges.get(loop)
    if bridge is None:
        bridge = LoopBridge(loop)
        loop.add_reader(bridge.fileno(), bridge.drain)
        _bridges[loop] = bridge
    return bridge
