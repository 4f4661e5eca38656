"""@cached: async functions' results by their arguments, on every backend."""

from __future__ import annotations

import asyncio

import pytest

from hyperdjango.cache import cached


@pytest.fixture
def results(cache):
    """The cache of the backend under test."""
    return cache


async def test_results_are_kept_by_arguments(results):
    calls = []

    @cached(60, cache=results)
    async def total(a, b=0):
        calls.append((a, b))
        return a + b

    assert [await total(1), await total(1), await total(1, b=2), await total(1, b=2)] == [1, 1, 3, 3]
    assert calls == [(1, 0), (1, 2)]


async def test_a_hundred_concurrent_calls_compute_once(results):
    calls = 0

    @cached(60, cache=results)
    async def slow(x):
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return x * 2

    assert set(await asyncio.gather(*(slow(21) for _ in range(100)))) == {42}
    assert calls == 1


async def test_invalidate_forgets_one_result_and_key_names_it(results):
    calls = 0

    @cached(60, cache=results, key=lambda user_id: f"profile:{user_id}")
    async def profile(user_id):
        nonlocal calls
        calls += 1
        return {"id": user_id, "version": calls}

    assert (await profile(7))["version"] == 1
    assert profile.key(7) == "profile:7" and await results.get("profile:7") == {"id": 7, "version": 1}
    assert await profile.invalidate(7) is True
    assert (await profile(7))["version"] == 2


async def test_none_is_a_result_like_any_other(results):
    calls = 0

    @cached(60, cache=results)
    async def nothing():
        nonlocal calls
        calls += 1

    assert (await nothing(), await nothing(), calls) == (None, None, 1)


async def test_early_refresh_recomputes_before_expiry_and_never_misses(results):
    calls = 0

    @cached(2, cache=results, early_refresh=50.0)
    async def popular():
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)  # a slow computation makes early refreshes likelier
        return calls

    assert await popular() == 1
    seen = []
    for _ in range(150):  # 1.5 s of a popular entry that lives 2 s
        seen.append(await popular())
        await asyncio.sleep(0.01)
    assert calls >= 2, "an entry this close to expiry, computed this slowly, is refreshed early"
    assert seen == sorted(seen) and seen[-1] == calls


def test_only_async_functions_can_be_cached():
    with pytest.raises(TypeError, match="async"):
        @cached(60)
        def sync():
            return 1
