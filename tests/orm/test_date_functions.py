"""Date functions in a time zone, and the hashes that need more than the backend's core,
against Django 5.2 on the same library (the rest is in test_django_parity.py)."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from support.library import MODELS, Event, ask_django, ask_hyperdjango, seed
from support.orm import setup_tables
from hyperdjango.database import connection
from hyperdjango.expressions import ExtractHour, Now, TruncDay
from hyperdjango.orm.exceptions import NotSupportedError

#: In UTC whatever zone a truncation ran in: Django reads it back in that zone, hyperdjango
#: in UTC (its datetimes are always UTC, docs/orm.md); the instants must be equal.
IN_UTC = "lambda rows: [(i, x.astimezone(datetime.timezone.utc) if isinstance(x, datetime.datetime) else x) for i, x in rows]"

FIXED = "datetime.timezone(datetime.timedelta(hours=5, minutes=30))"
NAMED = ["ZoneInfo('America/New_York')", "ZoneInfo('Australia/Lord_Howe')", "ZoneInfo('Asia/Kathmandu')"]


def in_zone(zone: str) -> list[object]:
    queries = [f"Event.objects.annotate(x={f}).order_by('id').values_list('id', 'x')"
               for f in (f"Extract('at', 'hour', tzinfo={zone})", f"ExtractDay('at', tzinfo={zone})", f"ExtractWeekDay('at', tzinfo={zone})",
                         f"TruncDate('at', tzinfo={zone})", f"TruncTime('at', tzinfo={zone})")]
    truncations = [{"q": f"Event.objects.annotate(x=Trunc('at', {kind!r}, tzinfo={zone})).order_by('id').values_list('id', 'x')", "then": IN_UTC}
                   for kind in ("year", "quarter", "month", "week", "day", "hour")]
    return [*queries, *truncations, "~Event.objects.filter(at__date=datetime.date(2021, 1, 2)).values_list('id', flat=True)"]


@pytest.fixture(scope="module")
def library(db_url):
    setup_tables(db_url, MODELS, seed)
    return db_url


async def ours(db, items: list[object]) -> list[dict]:
    previous = connection._default
    connection.set_default_database(db)
    try:
        return await ask_hyperdjango(items)
    finally:
        connection._default = previous


async def test_a_fixed_offset_zone_answers_as_django(library, db):
    items = in_zone(FIXED)
    assert await ours(db, items) == ask_django(library, items)


@pytest.mark.parametrize("zone", NAMED)
async def test_a_zone_with_daylight_saving_answers_as_django_on_postgresql(library, db, zone):
    items = in_zone(zone)
    if db.vendor == "sqlite":
        with pytest.raises(NotSupportedError, match="fixed offset"):
            await Event.objects.using(db).annotate(h=ExtractHour("at", tzinfo=eval(zone, {"ZoneInfo": zoneinfo.ZoneInfo}))).values_list("h")
        return
    assert await ours(db, items) == ask_django(library, items)


async def test_the_zone_moves_an_instant_across_midnight(library, db):
    # 2021-01-03 00:00 UTC is still January 2 in New York.
    zone = datetime.timezone(datetime.timedelta(hours=-5))
    day = await Event.objects.using(db).filter(id=2).annotate(d=TruncDay("at", tzinfo=zone)).values_list("d", flat=True)
    assert day == [datetime.datetime(2021, 1, 2, 5, tzinfo=datetime.UTC)]


async def test_now_is_an_aware_datetime_of_the_database(library, db):
    [now] = await Event.objects.using(db).filter(id=1).annotate(n=Now()).values_list("n", flat=True)
    assert now.tzinfo is not None and abs(now - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)


async def test_hashes_answer_as_django(library, db):
    items = [f"{model}.objects.annotate(x={function}({field!r})).order_by('id').values_list('id', 'x')"
             for function in ("MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512")
             for model, field in (("Book", "title"), ("Book", "subtitle"), ("Author", "name"))]
    if db.vendor == "postgresql":
        # Django's SHA* use pgcrypto's DIGEST (a trusted extension); we need it only for SHA1.
        await db.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    assert await ours(db, items) == ask_django(library, items)
