"""Guards: checks that run before a view and may answer instead of it.

A guard is ``async def guard(request)`` returning None (let the request through) or a
response, or an object with such a ``check`` method. Guards protect one view as
decorators, or every view of a router with ``Router(guards=[...])``. The auth guards
(``login_required``...) and rate limits are guards.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from .sync import sync_to_async


def guard_view(check: Callable[[Any], Any], view: Callable[..., Any]) -> Callable[..., Any]:
    """``view``, run only when ``await check(request)`` returns None (else that response)."""
    call = view if inspect.iscoroutinefunction(view) else sync_to_async(view, thread_sensitive=False)

    @functools.wraps(view)
    async def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
        refusal = await check(request)
        if refusal is not None:
            return refusal
        return await call(request, *args, **kwargs)

    return guarded
