"""Calling blocking code from async code and back, with asgiref's semantics.

These are asgiref's own ``sync_to_async`` and ``async_to_sync``, so code
written for Django's async docs ports unchanged, ``thread_sensitive``
included. With ``thread_sensitive=False`` the function runs in the event
loop's default executor, which the server sets to its own thread pool: the
pool that also runs plain ``def`` views.

>>> import asyncio
>>> from hyperdjango.sync import sync_to_async
>>> def blocking(x):
...     return x * 2
>>> asyncio.run(sync_to_async(blocking, thread_sensitive=False)(21))
42
"""

from asgiref.sync import async_to_sync, sync_to_async

__all__ = ["async_to_sync", "sync_to_async"]
