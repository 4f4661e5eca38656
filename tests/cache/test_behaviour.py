"""Django's cache API, one behaviour per test, on every backend (see conftest.py)."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import warnings

import pytest

from hyperdjango.cache import CacheKeyWarning
from hyperdjango.cache.flight import SingleFlight

from support.waiting import until


async def test_a_value_set_is_got_back_equal_whatever_its_type(cache):
    values = {
        "str": "héllo", "int": 42, "big": 2**80, "float": 1.5, "none-list": [None, True],
        "dict": {"a": [1, 2]}, "bytes": b"\x00\xff", "decimal": decimal.Decimal("4.50"),
        "date": datetime.date(2026, 12, 4), "bool": False,
    }
    for key, value in values.items():
        await cache.set(key, value)
    for key, value in values.items():
        got = await cache.get(key)
        assert got == value and type(got) is type(value), key


async def test_a_missing_key_gives_the_default(cache):
    assert await cache.get("missing") is None
    assert await cache.get("missing", "fallback") == "fallback"


async def test_set_replaces_the_value(cache):
    await cache.set("k", 1)
    await cache.set("k", "two")
    assert await cache.get("k") == "two"


async def test_timeout_zero_expires_at_once(cache):
    await cache.set("k", 1, timeout=0)
    assert await cache.get("k") is None
    assert await cache.has_key("k") is False


async def test_an_entry_expires_after_its_timeout_and_none_keeps_it(cache):
    await cache.set("short", 1, timeout=1)
    await cache.set("forever", 2, timeout=None)
    assert await cache.get("short") == 1
    await asyncio.sleep(1.2)
    assert await cache.get("short") is None
    assert await cache.get("forever") == 2


async def test_the_default_timeout_is_the_cache_s_timeout(make_cache):
    cache = make_cache(TIMEOUT=1)
    await cache.set("k", 1)
    await asyncio.sleep(1.2)
    assert await cache.get("k") is None


async def test_add_stores_only_when_the_key_is_missing_or_expired(cache):
    assert await cache.add("k", 1) is True
    assert await cache.add("k", 2) is False
    assert await cache.get("k") == 1
    await cache.set("gone", 1, timeout=1)
    await asyncio.sleep(1.2)
    assert await cache.add("gone", 3) is True
    assert await cache.get("gone") == 3


async def test_get_or_set_adds_a_value_or_what_a_sync_or_async_callable_returns(cache):
    assert await cache.get_or_set("plain", 1) == 1
    assert await cache.get_or_set("sync", lambda: 2) == 2

    async def compute():
        return 3

    assert await cache.get_or_set("async", compute) == 3
    assert await cache.get_or_set("async", lambda: 99) == 3
    assert await cache.get_many(["plain", "sync", "async"]) == {"plain": 1, "sync": 2, "async": 3}


async def test_get_many_returns_the_keys_found(cache):
    assert await cache.set_many({"a": 1, "b": "two", "c": [3]}) == []
    assert await cache.get_many(["a", "b", "c", "missing"]) == {"a": 1, "b": "two", "c": [3]}
    assert await cache.get_many([]) == {}


async def test_set_many_timeout_applies_to_every_key(cache):
    await cache.set_many({"a": 1, "b": 2}, timeout=0)
    assert await cache.get_many(["a", "b"]) == {}


async def test_delete_says_whether_the_key_was_there(cache):
    await cache.set("k", 1)
    assert await cache.delete("k") is True
    assert await cache.delete("k") is False
    assert await cache.get("k") is None


async def test_delete_many_removes_every_key(cache):
    await cache.set_many({"a": 1, "b": 2, "c": 3})
    await cache.delete_many(["a", "b", "missing"])
    assert await cache.get_many(["a", "b", "c"]) == {"c": 3}


async def test_has_key(cache):
    await cache.set("k", None)
    assert await cache.has_key("k") is True
    assert await cache.has_key("missing") is False


async def test_touch_gives_a_new_timeout(cache):
    await cache.set("k", 1, timeout=1)
    assert await cache.touch("k", None) is True
    assert await cache.touch("missing", 10) is False
    await asyncio.sleep(1.2)
    assert await cache.get("k") == 1
    assert await cache.touch("k", 0) is True
    assert await cache.get("k") is None


async def test_incr_and_decr_change_an_integer(cache):
    await cache.set("n", 10)
    assert await cache.incr("n") == 11
    assert await cache.incr("n", 5) == 16
    assert await cache.decr("n", 20) == -4
    assert await cache.get("n") == -4


async def test_incr_of_a_missing_key_raises_value_error(cache):
    with pytest.raises(ValueError, match="Key 'nope' not found"):
        await cache.incr("nope")
    with pytest.raises(ValueError):
        await cache.decr("nope")


async def test_incr_keeps_the_timeout(cache):
    await cache.set("n", 1, timeout=1)
    await cache.incr("n")
    await asyncio.sleep(1.2)
    assert await cache.get("n") is None


async def test_incr_rejects_a_delta_that_is_not_an_int(cache):
    await cache.set("n", 1)
    with pytest.raises(TypeError):
        await cache.incr("n", 1.5)


async def test_concurrent_incrs_from_several_caches_lose_no_update(make_cache):
    # Several cache objects (several connections/pools) and many tasks each.
    counters = [make_cache() for _ in range(4)]
    await counters[0].set("hits", 0)

    async def bump(cache):
        for _ in range(25):
            await cache.incr("hits")

    await asyncio.gather(*(bump(c) for c in counters for _ in range(4)))
    assert await counters[0].get("hits") == 400


async def test_versions_keep_values_apart(cache):
    await cache.set("k", "v1", version=1)
    await cache.set("k", "v2", version=2)
    assert await cache.get("k") == "v1"
    assert await cache.get("k", version=2) == "v2"
    assert await cache.get_many(["k"], version=2) == {"k": "v2"}


async def test_the_cache_version_is_the_default_version(make_cache):
    v1, v2 = make_cache(VERSION=1), make_cache(VERSION=2)
    await v2.set("k", "two")
    assert await v1.get("k") is None
    assert await v1.get("k", version=2) == "two"


async def test_incr_version_moves_the_value(cache):
    await cache.set("k", "value")
    assert await cache.incr_version("k") == 2
    assert await cache.get("k") is None
    assert await cache.get("k", version=2) == "value"
    assert await cache.decr_version("k", version=2) == 1
    assert await cache.get("k") == "value"
    with pytest.raises(ValueError):
        await cache.incr_version("missing")


async def test_key_prefixes_keep_caches_apart(make_cache):
    default = make_cache()
    other = make_cache(KEY_PREFIX=default.key_prefix + "-other")
    await default.set("k", 1)
    await other.set("k", 2)
    assert (await default.get("k"), await other.get("k")) == (1, 2)
    await other.delete("k")
    assert await default.get("k") == 1


async def test_clear_on_a_shared_server_keeps_other_prefixes(make_cache, cache_backend):
    if cache_backend == "locmem":
        pytest.skip("an in-memory store is cleared whole, as Django's")
    default = make_cache()
    other = make_cache(KEY_PREFIX=default.key_prefix + "-other")
    await default.set("k", 1)
    await other.set("k", 2)
    await default.clear()
    assert (await default.get("k"), await other.get("k")) == (None, 2)


async def test_a_key_function_makes_the_stored_key(make_cache):
    made = []

    def key_function(key, prefix, version):
        made.append(key)
        return f"{prefix}|custom|{version}|{key}"

    cache = make_cache(KEY_FUNCTION=key_function)
    await cache.set("k", 1)
    assert await cache.get("k") == 1
    assert cache.make_key("k") == f"{cache.key_prefix}|custom|1|k"
    assert made[:2] == ["k", "k"]


async def test_keys_memcached_would_reject_warn_like_django(cache):
    with pytest.warns(CacheKeyWarning, match="longer than 250"):
        await cache.set("x" * 300, 1)
    with pytest.warns(CacheKeyWarning):
        assert await cache.get("x" * 300) == 1
    with pytest.warns(CacheKeyWarning, match="characters"):
        await cache.set("has space", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await cache.set("fine:key", 1)


class CountedFlights(SingleFlight):
    """The cache's single flight, counting the callers that reached it: a computation waits
    until all of them wait on it, not for a guessed time (each caller first reads the key
    from the backend, which may take any time on a loaded machine, and one that came after
    the computation ended would rightly compute again)."""

    def __init__(self) -> None:
        super().__init__()
        self.callers = 0

    async def run(self, key, compute):
        self.callers += 1
        return await super().run(key, compute)


async def test_a_hundred_concurrent_misses_compute_once(cache):
    flights = cache.flights = CountedFlights()
    calls = 0

    async def expensive():
        nonlocal calls
        calls += 1
        await until(lambda: flights.callers == 100, what="every caller waiting on the computation")
        return {"answer": 42}

    results = await asyncio.gather(*(cache.get_or_set("stampede", expensive, 60) for _ in range(100)))
    assert calls == 1
    assert all(r == {"answer": 42} for r in results)


async def test_a_failing_computation_reaches_every_waiter_and_is_tried_again(cache):
    flights = cache.flights = CountedFlights()
    calls = 0

    async def failing():
        nonlocal calls
        calls += 1
        await until(lambda: flights.callers == 10, what="every caller waiting on the computation")
        raise RuntimeError("database down")

    results = await asyncio.gather(*(cache.get_or_set("k", failing) for _ in range(10)), return_exceptions=True)
    assert calls == 1 and all(isinstance(r, RuntimeError) for r in results)
    assert await cache.get_or_set("k", lambda: "ok") == "ok"


async def test_clear_removes_everything_under_the_prefix(cache):
    await cache.set_many({"a": 1, "b": 2})
    await cache.clear()
    assert await cache.get_many(["a", "b"]) == {}


async def test_a_closed_cache_works_again_when_used(cache):
    await cache.set("k", 1)
    await cache.close()
    assert await cache.get("k") == 1


async def test_djangos_async_names_are_the_same_methods(cache):
    await cache.aset("k", 1)
    assert await cache.aget("k") == 1
    assert await cache.aincr("k") == 2
    assert await cache.adelete("k") is True
