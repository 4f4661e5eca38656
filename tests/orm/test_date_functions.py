"""Date functions in a time zone, and the hashes that need more than the backend's core,
against Django 5.2 on the same library (the rest is in test_django_parity.py)."""

from __future__ import annotations

import asyncio
import datetime
import zoneinfo

import pytest

from support.library import MODELS, Event, ask_django, ask_hyperdjango, seed
from support.library_data import EVENTS
from support.orm import setup_tables
from hyperdjango import settings, timezone
from hyperdjango.database import DatabaseError, connection
from hyperdjango.expressions import ExtractHour, Now, TruncDate, TruncDay
from hyperdjango.settings import ImproperlyConfigured, Settings

#: In UTC whatever zone a truncation ran in: Django reads it back in that zone, hyperdjango
#: in UTC (its datetimes are always UTC, docs/orm.md); the instants must be equal.
IN_UTC = "lambda rows: [(i, x.astimezone(datetime.timezone.utc) if isinstance(x, datetime.datetime) else x) for i, x in rows]"

FIXED = "datetime.timezone(datetime.timedelta(hours=5, minutes=30))"
NAMED = ["ZoneInfo('America/New_York')", "ZoneInfo('Australia/Lord_Howe')", "ZoneInfo('Asia/Kathmandu')", "ZoneInfo('Europe/Paris')"]


def in_zone(zone: str) -> list[object]:
    queries = [f"Event.objects.annotate(x={f}).order_by('id').values_list('id', 'x')"
               for f in (f"Extract('at', 'hour', tzinfo={zone})", f"ExtractDay('at', tzinfo={zone})", f"ExtractWeekDay('at', tzinfo={zone})",
                         f"TruncDate('at', tzinfo={zone})", f"TruncTime('at', tzinfo={zone})")]
    truncations = [{"q": f"Event.objects.annotate(x=Trunc('at', {kind!r}, tzinfo={zone})).order_by('id').values_list('id', 'x')", "then": IN_UTC}
                   for kind in ("year", "quarter", "month", "week", "day", "hour")]
    return [*queries, *truncations, "Event.objects.filter(at__date=datetime.date(2021, 1, 2)).order_by('id').values_list('id', flat=True)"]


IN_UTC_LIST = "lambda xs: [x.astimezone(datetime.timezone.utc) for x in xs]"
#: Without tzinfo=: in the current time zone (Django's timezone.override, ours).
IN_CURRENT_ZONE = [
    "Event.objects.annotate(x=ExtractHour('at')).order_by('id').values_list('id', 'x')",
    "Event.objects.annotate(x=Extract('at', 'week_day')).order_by('id').values_list('id', 'x')",
    "Event.objects.annotate(x=TruncDate('at')).order_by('id').values_list('id', 'x')",
    "Event.objects.annotate(x=TruncTime('at')).order_by('id').values_list('id', 'x')",
    {"q": "Event.objects.annotate(x=TruncDay('at')).order_by('id').values_list('id', 'x')", "then": IN_UTC},
    {"q": "Event.objects.annotate(x=TruncHour('at')).order_by('id').values_list('id', 'x')", "then": IN_UTC},
    "Event.objects.filter(at__date=datetime.date(2021, 1, 2)).order_by('id').values_list('id', flat=True)",
    "Event.objects.filter(at__year=2020).order_by('id').values_list('id', flat=True)",
    "Event.objects.filter(at__hour__gte=2, at__hour__lt=4).order_by('id').values_list('id', flat=True)",
    {"q": "Event.objects.values(d=TruncMonth('at')).annotate(n=Count('id')).order_by('d').values_list('n', 'd')", "then": IN_UTC},
    "Event.objects.dates('at', 'day')",
    "Event.objects.dates('at', 'week', order='DESC')",
    {"q": "Event.objects.datetimes('at', 'hour')", "then": IN_UTC_LIST},
    {"q": "Event.objects.datetimes('at', 'day', tzinfo=ZoneInfo('Asia/Tokyo'))", "then": IN_UTC_LIST},
    {"q": "Event.objects.datetimes('at', 'month', tzinfo=datetime.timezone(datetime.timedelta(hours=-11)))", "then": IN_UTC_LIST},
    # an explicit tzinfo= wins over the current zone
    "Event.objects.annotate(x=ExtractDay('at', tzinfo=ZoneInfo('Pacific/Kiritimati'))).order_by('id').values_list('id', 'x')",
]


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
async def test_a_zone_with_daylight_saving_answers_as_django(library, db, zone):
    # Events 9-11 are Paris's clock changes: a second before and at the jump, and 02:30 the
    # second time (its hour truncates to 02:00 the first time, as Django's make_aware reads it).
    items = in_zone(zone)
    assert await ours(db, items) == ask_django(library, items)


async def test_a_zone_unknown_to_the_database_is_a_clear_error(library, db):
    # A ZoneInfo from a file of the machine's own, with a key no database knows.
    with open(f"{zoneinfo.TZPATH[0]}/Europe/Paris", "rb") as rules:
        zone = zoneinfo.ZoneInfo.from_file(rules, key="Mars/Olympus_Mons")
    with pytest.raises(DatabaseError, match="Mars/Olympus_Mons"):
        await Event.objects.using(db).annotate(h=ExtractHour("at", tzinfo=zone)).values_list("h")


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Paris", "Asia/Kathmandu"])
async def test_without_tzinfo_the_current_time_zone_answers_as_django(library, db, zone):
    with timezone.override(zone):
        answers = await ours(db, IN_CURRENT_ZONE)
    assert answers == ask_django(library, IN_CURRENT_ZONE, time_zone=zone)


async def test_the_same_query_compiles_again_in_another_current_zone(library, db):
    query = Event.objects.using(db).filter(id=2).annotate(d=TruncDate("at")).values_list("d", flat=True)
    assert await query == [datetime.date(2021, 1, 3)]
    with timezone.override("America/New_York"):  # 2021-01-03 00:00 UTC is January 2 there
        assert await query == [datetime.date(2021, 1, 2)]
    assert await query == [datetime.date(2021, 1, 3)]


async def test_the_time_zone_setting_is_the_default_zone(library, db, monkeypatch):
    project = Settings()
    project.configure(secret_key=None, secret_key_fallbacks=None, allowed_hosts=None, debug=False, time_zone="America/New_York")
    monkeypatch.setattr(settings, "_current", project)
    assert timezone.get_current_timezone() == zoneinfo.ZoneInfo("America/New_York")
    assert await Event.objects.using(db).filter(id=2).annotate(d=TruncDate("at")).values_list("d", flat=True) == [datetime.date(2021, 1, 2)]
    with timezone.override("UTC"):
        assert await Event.objects.using(db).filter(id=2).annotate(d=TruncDate("at")).values_list("d", flat=True) == [datetime.date(2021, 1, 3)]


def test_a_time_zone_setting_that_is_no_zone_is_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="Mars/Olympus"):
        Settings().configure(secret_key=None, secret_key_fallbacks=None, allowed_hosts=None, debug=False, time_zone="Mars/Olympus")
    monkeypatch.setenv("HYPERDJANGO_TIME_ZONE", "Asia/Tokyo")
    project = Settings()
    project.configure(secret_key=None, secret_key_fallbacks=None, allowed_hosts=None, debug=False)
    assert project.time_zone == "Asia/Tokyo"


def test_activate_and_override_change_the_current_zone_of_this_task_only():
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    assert timezone.get_current_timezone_name() == "UTC"
    timezone.activate("Asia/Tokyo")
    try:
        with timezone.override(paris):
            assert timezone.get_current_timezone() is paris
            with timezone.override(None):
                assert timezone.get_current_timezone_name() == "UTC"
        assert timezone.get_current_timezone_name() == "Asia/Tokyo"
    finally:
        timezone.deactivate()
    assert timezone.get_current_timezone_name() == "UTC"
    with pytest.raises(zoneinfo.ZoneInfoNotFoundError):
        timezone.activate("Mars/Olympus")


async def test_concurrent_tasks_keep_their_own_current_zone():
    seen = {}

    async def in_zone(name: str) -> None:
        timezone.activate(name)
        await asyncio.sleep(0)
        seen[name] = timezone.get_current_timezone_name()

    await asyncio.gather(in_zone("Europe/Paris"), in_zone("Asia/Tokyo"))
    assert seen == {"Europe/Paris": "Europe/Paris", "Asia/Tokyo": "Asia/Tokyo"}
    assert timezone.get_current_timezone_name() == "UTC"


@pytest.mark.parametrize(("function", "column"), [("TruncDate", 3), ("TruncTime", 4)])
async def test_the_date_of_a_date_and_the_time_of_a_time_are_themselves_in_any_zone(library, db, function, column):
    field = {3: "day", 4: "clock"}[column]
    query = f"Event.objects.annotate(x={function}({field!r})).order_by('id').values_list('id', 'x')"
    kind = {3: "date", 4: "time"}[column]
    own = [[event[0], [kind, event[column].isoformat()] if event[column] else None] for event in EVENTS]
    with timezone.override("America/New_York"):
        [answer] = await ours(db, [query])
    assert answer == {"ok": own}
    # Django 5.2 reads a date as a UTC midnight seen in the current zone: on PostgreSQL the day
    # before west of UTC. On SQLite its functions fail on a date (OperationalError) and answer
    # NULL for a time. docs/orm.md
    django = ask_django(library, [query])[0]
    if db.vendor == "postgresql":
        assert django == {"ok": own}
    else:
        assert django == ({"error": "OperationalError"} if kind == "date" else {"ok": [[event[0], None] for event in EVENTS]})


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
