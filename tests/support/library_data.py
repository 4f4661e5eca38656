"""The library every Django comparison runs on: the same rows in hyperdjango and in Django.

Pure data and an encoder, imported by both sides (``django_oracle.py`` runs in a
process of its own and must not import hyperdjango).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

D = Decimal
date = datetime.date

AUTHORS = [  # id, name, born
    (1, "Ann", date(1970, 3, 1)),
    (2, "bob", None),
    (3, "İpek", date(1988, 12, 31)),
    (4, "Zoë", date(1955, 6, 15)),
    (5, "Kelvin", date(2001, 1, 7)),
]
PUBLISHERS = [(1, "Penguin"), (2, "apress"), (3, "Orbit")]
TAGS = [(1, "a"), (2, "z"), (3, "m"), (4, "Σίσυφος"), (5, "empty")]
BOOKS = [  # id, title, subtitle, price, weight, pages, published, author, publisher
    (1, "Alpha", "the", D("10.00"), D("10.00"), 100, date(2001, 1, 1), 1, 1),
    (2, "beta", None, D("25.50"), D("1.50"), 250, date(2005, 5, 20), 1, None),
    (3, "Gamma", "THE", D("7.25"), None, 80, date(2010, 12, 31), 2, 2),
    (4, "delta", "one", D("99.99"), D("99.99"), 1200, date(2019, 7, 4), 3, 3),
    (5, "Epsilon", None, D("3.10"), D("0.40"), 33, date(2020, 2, 29), 3, 1),
    (6, "zeta", "İstanbul", D("15.00"), D("2.00"), 410, date(1999, 11, 11), 4, None),
    (7, "Eta", "two", D("15.00"), None, 410, date(2015, 3, 15), 5, 2),
    (8, "theta", "", D("0.99"), D("5.00"), 12, date(2023, 8, 8), 5, 3),
]
BOOK_TAGS = [(1, 1), (1, 2), (2, 1), (3, 2), (3, 3), (4, 1), (4, 2), (4, 3), (6, 4), (7, 3), (8, 1)]
LIKES = [(1, 1), (1, 2), (1, 3), (2, 1), (3, 5), (4, 2), (4, 4), (6, 1), (7, 3), (7, 4)]  # book, author
REVIEWS = [  # id, book, rating, note
    (1, 1, 5, "great"),
    (2, 1, 2, None),
    (3, 2, 4, "ok"),
    (4, 3, 1, None),
    (5, 4, 5, "wow"),
    (6, 4, 4, "fine"),
    (7, 4, 3, None),
    (8, 6, 2, "meh"),
    (9, 8, 5, None),
]
EDITIONS = [(1, 1, 2001), (2, 1, 2011), (3, 3, 2010), (4, 4, 2019), (5, 4, 2020), (6, 6, 1999)]  # id, book, year
# Reverse relations without related_name, or with related_query_name (Django's default names).
CLUBS = [(1, "Readers", 1, 4), (2, "Night owls", 3, None), (3, "Quiet", 5, 1)]  # id, name, host, pick
CLUB_MEMBERS = [(1, 1), (1, 2), (2, 3), (2, 4), (2, 1)]  # club, author
CLUB_READS = [(1, 1), (1, 4), (2, 4), (2, 6), (2, 7)]  # club, book

utc = datetime.UTC
at = datetime.datetime
clock = datetime.time
td = datetime.timedelta
EVENTS = [  # id, name, at (aware, UTC), day, clock, took: year, ISO week and quarter edges, a leap day, NULLs
    (1, "new year's eve", at(2020, 12, 31, 23, 30, 15, tzinfo=utc), date(2020, 12, 31), clock(23, 30, 15), td(minutes=45)),
    (2, "iso week 53", at(2021, 1, 3, 0, 0, tzinfo=utc), date(2021, 1, 3), clock(0, 0), td(days=-1, seconds=5)),
    (3, "leap second-ish", at(2024, 2, 29, 12, 5, 59, 999999, tzinfo=utc), date(2024, 2, 29), clock(12, 5, 59, 999999), td(microseconds=1)),
    (4, "monday of week 1", at(2019, 12, 30, 6, 0, tzinfo=utc), date(2019, 12, 30), clock(6, 0), td(days=400, hours=3)),
    (5, "nothing", None, None, None, None),
    (6, "Zoë", at(2023, 7, 4, 18, 45, 1, tzinfo=utc), date(2023, 7, 4), clock(18, 45, 1), None),
    (7, "İpek", at(2022, 1, 1, 0, 0, 30, tzinfo=utc), date(2022, 1, 1), clock(0, 0, 30), td(0)),
    (8, "late", at(2023, 3, 31, 22, 15, tzinfo=utc), date(2023, 10, 1), clock(21, 59, 59), td(seconds=-0.25)),
    # Paris's clock changes (CET +1 / CEST +2): the last second before 02:00 jumps to 03:00, and
    # 02:30 on 2021-10-31 happens twice (this is the second time).
    (9, "paris before spring", at(2021, 3, 28, 0, 59, 59, tzinfo=utc), date(2021, 3, 28), clock(1, 59, 59), td(hours=49, seconds=1.5)),
    (10, "paris summer time", at(2021, 3, 28, 1, 0, tzinfo=utc), date(2021, 3, 28), clock(3, 0), td(days=-3, minutes=-90)),
    (11, "paris clocks back", at(2021, 10, 31, 1, 30, tzinfo=utc), date(2021, 10, 31), clock(2, 30), td(seconds=59.999999)),
]


def encode(value: Any) -> Any:
    """A JSON-able form that keeps what a comparison must see: types and exact decimals."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return ["float", round(value, 9)]
    if isinstance(value, Decimal):
        # By value: Django on SQLite reads Sum("price") as Decimal("176.830000000000")
        # (a float widened to 15 digits), 176.83 all the same.
        return ["dec", str(value.normalize()) if value else "0"]
    if isinstance(value, datetime.datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, datetime.date):
        return ["date", value.isoformat()]
    if isinstance(value, datetime.time):
        return ["time", value.isoformat()]
    if isinstance(value, datetime.timedelta):
        return ["timedelta", value.days, value.seconds, value.microseconds]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return ["row", {f: encode(v) for f, v in zip(value._fields, value)}]
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        return ["obj", type(value).__name__, value.pk]
    raise TypeError(f"cannot encode {value!r}")
