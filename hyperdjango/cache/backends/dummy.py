"""The dummy cache: stores nothing (Django's ``DummyCache``), for development and tests."""

from __future__ import annotations

from typing import Any

from .base import BaseCache


class DummyCache(BaseCache):
    """Implements the cache API and stores nothing, with Django's answers: every
    ``get`` misses, ``add`` answers ``True``, ``touch`` and ``delete`` ``False``,
    ``incr`` raises ``ValueError``. Keys are still made and validated."""

    def __init__(self, name: str = "", params: dict[str, Any] | None = None) -> None:
        super().__init__(params or {})

    async def _get(self, key: str, default: Any) -> Any:
        return default

    async def _set(self, key: str, value: Any, timeout: Any) -> None:
        pass

    async def _add(self, key: str, value: Any, timeout: Any) -> bool:
        return True

    async def _delete(self, key: str) -> bool:
        return False

    async def _touch(self, key: str, timeout: Any) -> bool:
        return False

    async def _incr(self, key: str, delta: int) -> int:
        raise KeyError(key)

    async def _has(self, key: str) -> bool:
        return False

    async def clear(self) -> None:
        pass
