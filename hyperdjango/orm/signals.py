"""Model signals, with Django's API: ``pre_save``, ``post_save``, ``pre_delete``,
``post_delete`` and ``m2m_changed``.

>>> import asyncio
>>> from hyperdjango import Model
>>> from hyperdjango.database import Database
>>> from hyperdjango.orm.signals import post_save, receiver
>>> class Memo(Model):
...     text: str = ""
>>> seen = []
>>> @receiver(post_save, sender=Memo)
... async def remember(sender, instance, created, **kwargs):
...     seen.append((instance.text, created))
>>> async def main():
...     db = Database("sqlite://:memory:")
...     await db.create_tables(Memo)
...     memo = Memo(text="tea")
...     await memo.save(using=db)
...     memo.text = "pot"
...     await memo.save(using=db)
...     await db.close()
>>> asyncio.run(main())
>>> seen
[('tea', True), ('pot', False)]
>>> post_save.disconnect(remember, sender=Memo)
True

A receiver is a function or a coroutine function taking ``sender`` and keyword
arguments (always accept ``**kwargs``: signals may grow arguments). Coroutines
are awaited in order, inside the ``await`` that saved or deleted. Receivers are
held by weak reference unless ``weak=False``; ``dispatch_uid`` keeps one
connection per id however often a module is imported.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any


def _reference(receiver: Callable[..., Any], weak: bool) -> Callable[[], Any]:
    if not weak:
        return lambda: receiver
    if inspect.ismethod(receiver):
        return weakref.WeakMethod(receiver)
    return weakref.ref(receiver)


class Signal:
    """A list of receivers called with ``send(sender, **kwargs)``.

    ``connect(receiver, sender=None, weak=True, dispatch_uid=None)`` adds one (only for
    that sender class when given); ``disconnect`` removes it; ``send``/``asend`` call
    the matching receivers and return ``[(receiver, response), ...]``.
    """

    def __init__(self, name: str = "signal") -> None:
        self.name = name
        # (lookup key, sender, reference to the receiver)
        self._receivers: list[tuple[Any, Any, Callable[[], Any]]] = []

    def __repr__(self) -> str:
        return f"<Signal {self.name}>"

    def connect(self, receiver: Callable[..., Any], sender: Any = None, weak: bool = True, dispatch_uid: Any = None) -> None:
        """Calls ``receiver(sender=..., signal=..., **kwargs)`` on every send from ``sender`` (any when None)."""
        if not callable(receiver):
            raise TypeError(f"{self.name}.connect(): the receiver must be callable, not {receiver!r}")
        key = (dispatch_uid if dispatch_uid is not None else _identity(receiver), id(sender) if sender is not None else None)
        self._prune()
        if any(k == key for k, _, _ in self._receivers):
            return
        self._receivers.append((key, sender, _reference(receiver, weak)))

    def disconnect(self, receiver: Callable[..., Any] | None = None, sender: Any = None, dispatch_uid: Any = None) -> bool:
        """Removes a receiver (by itself or its ``dispatch_uid``); whether one was connected."""
        if receiver is None and dispatch_uid is None:
            raise TypeError(f"{self.name}.disconnect() takes the receiver or its dispatch_uid")
        key = (dispatch_uid if dispatch_uid is not None else _identity(receiver), id(sender) if sender is not None else None)
        before = len(self._receivers)
        self._receivers = [r for r in self._receivers if r[0] != key]
        return len(self._receivers) != before

    def has_listeners(self, sender: Any = None) -> bool:
        """Whether a send from ``sender`` would call anyone (cheap: saving checks it every time)."""
        return bool(self._receivers) and bool(self._live(sender))

    def _prune(self) -> None:
        self._receivers = [r for r in self._receivers if r[2]() is not None]

    def _live(self, sender: Any) -> list[Callable[..., Any]]:
        found = []
        for _, only, reference in self._receivers:
            function = reference()
            if function is not None and (only is None or only is sender):
                found.append(function)
        return found

    def send(self, sender: Any, **kwargs: Any) -> list[tuple[Callable[..., Any], Any]]:
        """Calls the plain-function receivers; a coroutine receiver needs ``asend``."""
        responses = []
        for function in self._live(sender):
            response = function(signal=self, sender=sender, **kwargs)
            if inspect.isawaitable(response):
                if inspect.iscoroutine(response):
                    response.close()  # never awaited: no "coroutine was never awaited" warning
                raise TypeError(f"{self.name}.send(): {function.__qualname__} is a coroutine receiver; use `await {self.name}.asend(...)`")
            responses.append((function, response))
        return responses

    async def asend(self, sender: Any, **kwargs: Any) -> list[tuple[Callable[..., Any], Any]]:
        """Calls every matching receiver in order, awaiting coroutine receivers."""
        responses = []
        for function in self._live(sender):
            response = function(signal=self, sender=sender, **kwargs)
            if inspect.isawaitable(response):
                response = await response
            responses.append((function, response))
        return responses


def _identity(receiver: Any) -> Any:
    if inspect.ismethod(receiver):
        return (id(receiver.__self__), id(receiver.__func__))
    return id(receiver)


def receiver(signal: Signal | list[Signal] | tuple[Signal, ...], **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@receiver(post_save, sender=Book)``: connects the decorated function (to several signals
    when given a list); ``options`` are ``connect``'s."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        for one in signal if isinstance(signal, (list, tuple)) else (signal,):
            one.connect(function, **options)
        return function

    return decorate


pre_save = Signal("pre_save")
"""Before a model instance is saved: ``sender`` (the model), ``instance``, ``raw`` (False),
``using`` (the database), ``update_fields`` (a frozenset, or None)."""
post_save = Signal("post_save")
"""After a save: as ``pre_save``, plus ``created`` (True when the row was inserted)."""
pre_delete = Signal("pre_delete")
"""Before each row is deleted (cascaded rows included): ``sender``, ``instance``, ``using``, ``origin``."""
post_delete = Signal("post_delete")
"""After each row is deleted: as ``pre_delete``."""
m2m_changed = Signal("m2m_changed")
"""Around many-to-many changes: ``sender`` (the through model), ``instance``, ``action``
(``pre_add``, ``post_add``, ``pre_remove``, ``post_remove``, ``pre_clear``, ``post_clear``),
``reverse``, ``model`` (the other side's), ``pk_set`` (None for clears), ``using``."""

__all__ = ["Signal", "m2m_changed", "post_delete", "post_save", "pre_delete", "pre_save", "receiver"]
