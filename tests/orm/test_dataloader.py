"""DataLoader: one batch per loop tick, a cache per key, errors per key."""

from __future__ import annotations

import asyncio

import pytest

from hyperdjango.dataloader import DataLoader


def recording(values=None):
    calls = []

    async def batch(keys):
        calls.append(list(keys))
        return [values(k) if values else k * 2 for k in keys]

    return batch, calls


async def test_loads_in_the_same_tick_share_one_batch():
    batch, calls = recording()
    loader = DataLoader(batch)
    assert await asyncio.gather(*(loader.load(k) for k in (1, 2, 3))) == [2, 4, 6]
    assert calls == [[1, 2, 3]]


async def test_loads_awaited_one_after_another_are_separate_batches():
    batch, calls = recording()
    loader = DataLoader(batch)
    assert [await loader.load(1), await loader.load(2)] == [2, 4]
    assert calls == [[1], [2]]


async def test_repeated_keys_come_from_the_cache():
    batch, calls = recording()
    loader = DataLoader(batch)
    await asyncio.gather(loader.load(1), loader.load(1))
    await loader.load(1)
    assert calls == [[1]]


async def test_without_cache_keys_are_loaded_again():
    batch, calls = recording()
    loader = DataLoader(batch, cache=False)
    await loader.load(1)
    await loader.load(1)
    assert calls == [[1], [1]]


async def test_max_batch_size_splits_batches():
    batch, calls = recording()
    loader = DataLoader(batch, max_batch_size=2)
    assert await loader.load_many([1, 2, 3, 4, 5]) == [2, 4, 6, 8, 10]
    assert calls == [[1, 2], [3, 4], [5]]


async def test_prime_and_clear():
    batch, calls = recording()
    loader = DataLoader(batch)
    loader.prime(7, "primed")
    assert await loader.load(7) == "primed"
    loader.clear(7)
    assert await loader.load(7) == 14
    assert calls == [[7]]


async def test_an_exception_value_fails_only_its_key_and_is_not_cached():
    batch, calls = recording(lambda k: ValueError(k) if k == 2 else k)
    loader = DataLoader(batch)
    one, two = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert one == 1 and isinstance(two, ValueError)
    with pytest.raises(ValueError):
        await loader.load(2)
    assert calls == [[1, 2], [2]]


async def test_a_failing_batch_fails_every_load_of_it():
    async def broken(keys):
        raise RuntimeError("down")

    loader = DataLoader(broken)
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]


async def test_a_batch_of_the_wrong_length_is_an_error():
    async def short(keys):
        return keys[:-1]

    loader = DataLoader(short)
    with pytest.raises(ValueError, match="returned 1 values for 2 keys"):
        await loader.load_many([1, 2])
