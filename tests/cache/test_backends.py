"""What each backend does beyond the shared behaviour: bounds, storage, culling, invalidation."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from hyperdjango.cache.backends.db import DatabaseCache
from hyperdjango.cache.backends.dummy import DummyCache
from hyperdjango.cache.backends.locmem import LocMemCache
from hyperdjango.cache.backends.redis import RedisCache
from hyperdjango.cache.backends.tiered import TieredCache
from hyperdjango.cache.schema import TABLE
from hyperdjango.database import Database
from hyperdjango.migrations import show_migrations
from support.waiting import until


def unique() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


# -- in memory ------------------------------------------------------------------------


async def test_the_memory_cache_evicts_the_least_recently_used_and_counts_it():
    cache = LocMemCache(unique(), {"OPTIONS": {"MAX_ENTRIES": 3}})
    for key in "abc":
        await cache.set(key, key)
    await cache.get("a")
    await cache.set("d", "d")
    await cache.set("e", "e")
    assert await cache.get_many(list("abcde")) == {"a": "a", "d": "d", "e": "e"}
    assert cache.evictions == 2 and len(cache) == 3


async def test_memory_caches_with_one_location_share_entries():
    location = unique()
    await LocMemCache(location).set("k", 1)
    assert await LocMemCache(location).get("k") == 1
    assert await LocMemCache(unique()).get("k") is None


async def test_a_value_read_from_memory_is_a_copy():
    cache = LocMemCache(unique())
    await cache.set("list", [1])
    (await cache.get("list")).append(2)
    assert await cache.get("list") == [1]


# -- dummy --------------------------------------------------------------------------


async def test_the_dummy_cache_stores_nothing_with_djangos_answers():
    cache = DummyCache()
    await cache.set("k", 1)
    assert await cache.get("k", "default") == "default"
    assert (await cache.add("k", 1), await cache.touch("k"), await cache.delete("k"), await cache.has_key("k")) == (True, False, False, False)
    assert await cache.get_or_set("k", lambda: 5) == 5
    assert await cache.get_many(["k"]) == {}
    with pytest.raises(ValueError):
        await cache.incr("k")


# -- database -------------------------------------------------------------------------


async def test_the_database_table_is_the_builtin_app_s_migration_and_unlogged_on_postgres(db):
    cache = DatabaseCache("", {"OPTIONS": {"DATABASE": db}, "KEY_PREFIX": unique()})
    await cache.set("k", 1)
    assert await show_migrations(db, "hyperdjango.cache") == {"hyperdjango.cache": [("0001_initial", True)]}
    if db.vendor == "postgresql":
        assert await db.query_val("SELECT relpersistence FROM pg_class WHERE relname = $1", TABLE) == "u"
    await cache.clear()
    await cache.close()


async def test_integers_are_stored_as_numbers_so_incr_is_one_update(db):
    cache = DatabaseCache("", {"OPTIONS": {"DATABASE": db}, "KEY_PREFIX": unique()})
    await cache.set("n", 5)
    await cache.set("s", "five")
    rows = dict((r[0], (r[1], r[2])) for r in await db.query(f"SELECT cache_key, value, number FROM {TABLE} WHERE cache_key IN ($1, $2)", cache.make_key("n"), cache.make_key("s")))
    assert rows[cache.make_key("n")] == (None, 5) and rows[cache.make_key("s")][1] is None
    await cache.clear()
    await cache.close()


async def test_incr_beyond_64_bits_is_an_overflow_error_and_changes_nothing(make_cache, cache_backend):
    if cache_backend == "locmem":
        pytest.skip("Python integers in memory have no bound")
    cache = make_cache()
    await cache.set("n", 2**63 - 2)
    assert await cache.incr("n") == 2**63 - 1
    with pytest.raises(OverflowError):
        await cache.incr("n")
    assert await cache.get("n") == 2**63 - 1
    with pytest.raises(OverflowError):
        await cache.incr("n", 2**64)


async def test_incr_of_a_value_that_is_not_a_number_is_a_type_error(make_cache, cache_backend):
    cache = make_cache()
    await cache.set("s", "text")
    with pytest.raises(TypeError):
        await cache.incr("s")


async def test_expired_rows_are_culled_in_the_background(db):
    cache = DatabaseCache("", {"OPTIONS": {"DATABASE": db, "CULL_INTERVAL": 0.05}, "KEY_PREFIX": unique()})
    await cache.set("short", 1, timeout=0.1)
    await cache.set("long", 1, timeout=60)

    async def short_row_gone():
        return await db.query_val(f"SELECT COUNT(*) FROM {TABLE} WHERE cache_key = $1", cache.make_key("short")) == 0

    await until(short_row_gone, timeout=5, what="the expired row culled")
    assert await cache.get("long") == 1
    await cache.clear()
    await cache.close()


async def test_cull_beyond_max_entries_removes_a_third_as_django(db):
    cache = DatabaseCache(f"cache_{unique()}", {"OPTIONS": {"DATABASE": db, "MAX_ENTRIES": 9, "CULL_INTERVAL": 0}})
    await cache.set_many({f"k{i:02}": i for i in range(12)})
    assert await cache.cull() == 4
    assert len(await cache.get_many([f"k{i:02}" for i in range(12)])) == 8
    await db.execute(f"DROP TABLE {cache.table}")
    await cache.close()


async def test_a_database_cache_made_from_a_url_works_on_each_event_loop(pg_url):
    cache = DatabaseCache("", {"OPTIONS": {"DATABASE": pg_url}, "KEY_PREFIX": unique()})

    async def roundtrip(value):
        await cache.set("k", value)
        return await cache.get("k")

    def run(value):
        return asyncio.run(roundtrip(value))

    assert await asyncio.to_thread(run, 1) == 1
    assert await asyncio.to_thread(run, 2) == 2
    await cache.clear()
    await cache.close()


# -- Redis ------------------------------------------------------------------------------


async def test_redis_stores_integers_as_redis_integers(redis_url):
    import redis.asyncio

    cache = RedisCache(redis_url, {"KEY_PREFIX": unique()})
    await cache.set("n", 41)
    raw = redis.asyncio.Redis.from_url(redis_url)
    assert await raw.get(cache.make_key("n")) == b"41"
    assert await raw.incr(cache.make_key("n")) == 42
    assert await cache.get("n") == 42
    await raw.aclose()
    await cache.clear()
    await cache.close()


# -- two tiers ------------------------------------------------------------------------


def tier(behind: dict, prefix: str, local_timeout: float = 30) -> TieredCache:
    return TieredCache("", {"KEY_PREFIX": prefix, "OPTIONS": {"BEHIND": behind, "LOCAL_TIMEOUT": local_timeout}})


async def test_two_tiers_invalidate_each_other_and_bypass_the_local_tier_while_unsubscribed(redis_url):
    import redis.asyncio

    prefix = unique()
    one, two = tier({"BACKEND": "redis", "LOCATION": redis_url}, prefix), tier({"BACKEND": "redis", "LOCATION": redis_url}, prefix)
    await one.set("k", "v1")
    assert await two.get("k") == "v1" and two.held_locally("k")
    await one.set("k", "v2")
    await until(lambda: not two.held_locally("k"), timeout=2, what="the invalidation")
    assert await two.get("k") == "v2"

    # A lost subscription empties the local tier (messages may have been missed) and subscribes again.
    assert await two.get("k") == "v2" and two.held_locally("k")
    admin = redis.asyncio.Redis.from_url(redis_url)
    ids = [c["id"] for c in await admin.client_list() if c["name"] == f"hyperdjango_cache:{two.sender}"]
    assert len(ids) == 1
    await admin.client_kill_filter(_id=ids[0])
    await until(lambda: not two.held_locally("k"), timeout=5, what="the local tier emptied")
    await until(lambda: two._transport.live, timeout=5, what="subscribed again")
    await one.set("k", "v3")

    async def v3_held_locally():
        # A read that overlaps an invalidation message keeps nothing locally: read until one does not.
        return await two.get("k") == "v3" and two.held_locally("k")

    await until(v3_held_locally, timeout=2, what="v3 kept locally")
    await one.set("k", "v4")
    await until(lambda: not two.held_locally("k"), timeout=2, what="invalidations flowing again")
    await admin.aclose()
    await one.clear()
    for cache in (one, two):
        await cache.close()


async def test_without_notifications_a_local_copy_lives_at_most_local_timeout(sqlite_url):
    prefix = unique()
    behind = {"BACKEND": "database", "OPTIONS": {"DATABASE": sqlite_url}}
    one, two = tier(behind, prefix, local_timeout=0.3), tier(behind, prefix, local_timeout=0.3)
    await one.set("k", "v1")
    assert await two.get("k") == "v1" and two.held_locally("k")
    await one.set("k", "v2")
    assert await two.get("k") == "v1", "SQLite sends no invalidation: the local copy answers"
    await asyncio.sleep(0.35)
    assert await two.get("k") == "v2"
    await one.clear()
    for cache in (one, two):
        await cache.close()


async def test_a_first_use_inside_a_rolled_back_transaction_keeps_the_table(db_url):
    from hyperdjango.database import atomic
    from hyperdjango.migrations import migrate

    db = Database(db_url)
    await migrate(db, "hyperdjango.cache")
    await migrate(db, "hyperdjango.cache", target="zero")  # no table: the cache's first use creates it
    cache = DatabaseCache("", {"OPTIONS": {"DATABASE": db}, "KEY_PREFIX": unique()})
    with pytest.raises(RuntimeError):
        async with atomic(db):
            await cache.set("k", 1)
            raise RuntimeError("rolled back")
    assert await cache.get("k") is None
    await cache.set("k", 2)
    assert await cache.get("k") == 2
    await cache.clear()
    await cache.close()
    await db.close()


async def test_a_tiered_cache_first_used_inside_a_transaction_on_sqlite_does_not_wait_for_itself(sqlite_url):
    from hyperdjango.database import atomic

    db = Database(sqlite_url)
    cache = tier({"BACKEND": "database", "OPTIONS": {"DATABASE": db}}, unique())
    async with atomic(db):
        await cache.set("k", 1)
        assert await cache.get("k") == 1
    assert await cache.get("k") == 1
    await cache.clear()
    await cache.close()
    await db.close()


async def test_a_read_overlapping_an_invalidation_of_its_key_keeps_nothing_locally_but_others_do(redis_url):
    prefix = unique()
    one = tier({"BACKEND": "redis", "LOCATION": redis_url}, prefix)
    await one.set_many({"hot": 1, "calm": 1})
    reading = one._reads.reading([one.make_key("hot"), one.make_key("calm")])
    with reading as fresh:
        one._invalidated("another process", [one.make_key("hot")])
        assert (fresh(one.make_key("hot")), fresh(one.make_key("calm"))) == (False, True)
    assert one._reads.counts == {} and one._reads.stale == set()
    assert await one.get_many(["hot", "calm"]) == {"hot": 1, "calm": 1}
    assert one.held_locally("hot") and one.held_locally("calm")
    await one.clear()
    await one.close()
