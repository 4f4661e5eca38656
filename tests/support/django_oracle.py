"""Django 5.2 as the ORM's oracle, in a process of its own.

Reads ``{"url": ...}`` as a JSON line on stdin and builds the library of
``library_data`` with Django on that database (its own tables, ``dj_*``). Then
for each line ``{"queries": [...], "rollback": bool}`` it evaluates the queries
(Python expressions over the models, ``F``, ``Q`` and the aggregates) in one
transaction, rolled back when asked, and prints one JSON line of answers:
``{"ok": <encoded result>}`` or ``{"error": <exception class name>}`` each. A batch's
``"time_zone"`` (an IANA name) is Django's current time zone while it runs
(``timezone.override``; ``TIME_ZONE`` is UTC).

A separate process because our extension links its own SQLite: two SQLite
libraries in one process drop each other's file locks.
"""

from __future__ import annotations

import datetime
import json
import sys
from decimal import Decimal
from urllib.parse import unquote, urlsplit

try:  # run as the oracle, with this directory on PYTHONPATH
    from library_data import AUTHORS, BOOK_TAGS, BOOKS, CLUB_MEMBERS, CLUB_READS, CLUBS, EDITIONS, EVENTS, LIKES, PUBLISHERS, REVIEWS, TAGS, encode
except ImportError:  # collected by pytest's doctest run
    from support.library_data import (AUTHORS, BOOK_TAGS, BOOKS, CLUB_MEMBERS, CLUB_READS, CLUBS, EDITIONS, EVENTS, LIKES, PUBLISHERS,
                                      REVIEWS, TAGS, encode)


def database_settings(url: str) -> dict:
    if url.startswith("sqlite:///"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url[len("sqlite:///") :]}
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


def main() -> None:
    import django
    from django.conf import settings

    request = json.loads(sys.stdin.readline())
    settings.configure(DATABASES={"default": database_settings(request["url"])}, USE_TZ=True, TIME_ZONE="UTC", INSTALLED_APPS=["django_library"])
    django.setup()
    from django.core.exceptions import ObjectDoesNotExist
    from django.db import connection, models
    from django.db.models import Avg, Case, Count, Exists, ExpressionWrapper, F, Func, Max, Min, OuterRef, Q, StdDev, Subquery, Sum, Value, Variance, When
    from django.db.models.functions import (MD5, SHA1, SHA224, SHA256, SHA384, SHA512, Abs, Cast, Ceil, Chr, Coalesce, Concat, Extract,
                                            ExtractDay, ExtractHour, ExtractIsoWeekDay, ExtractIsoYear, ExtractMinute, ExtractMonth,
                                            ExtractQuarter, ExtractSecond, ExtractWeek, ExtractWeekDay, ExtractYear, Floor, Greatest, Least,
                                            Left, Length, Lower, LPad, LTrim, Mod, Now, NullIf, Ord, Power, Repeat, Replace, Reverse, Right,
                                            Round, RPad, RTrim, Sqrt, StrIndex, Substr, Trim, Trunc, TruncDate, TruncDay, TruncHour,
                                            TruncMinute, TruncMonth, TruncQuarter, TruncSecond, TruncTime, TruncWeek, TruncYear, Upper)
    from zoneinfo import ZoneInfo
    from django.db.models import FilteredRelation, RowRange, ValueRange, Window, WindowFrameExclusion
    from django.db.models.functions import (CumeDist, DenseRank, FirstValue, Lag, LastValue, Lead, NthValue, Ntile, PercentRank, Rank,
                                            RowNumber)

    from django_library.models import Author, Book, BookClub, Edition, Event, Label, Publisher, Review, Tag
    from django_library.lookups import AbsoluteValue, NotEqual  # noqa: F401 (registered, Django's how-to)

    models_in_order = [Author, Publisher, Tag, Book, Review, Event, Label, Edition, BookClub]
    throughs = {Book: (Book.tags.through, Book.liked_by.through), BookClub: (BookClub.members.through, BookClub.reads.through)}
    with connection.schema_editor() as editor:
        for model in reversed(models_in_order):
            for through in throughs.get(model, ()):
                editor.execute(f"DROP TABLE IF EXISTS {through._meta.db_table}")
            editor.execute(f"DROP TABLE IF EXISTS {model._meta.db_table}")
        for model in models_in_order:
            editor.create_model(model)
    Author.objects.bulk_create(Author(id=i, name=n, born=b) for i, n, b in AUTHORS)
    Publisher.objects.bulk_create(Publisher(id=i, name=n) for i, n in PUBLISHERS)
    Tag.objects.bulk_create(Tag(id=i, name=n) for i, n in TAGS)
    Book.objects.bulk_create(
        Book(id=i, title=t, subtitle=s, price=p, weight=w, pages=n, published=d, author_id=a, publisher_id=pub)
        for i, t, s, p, w, n, d, a, pub in BOOKS
    )
    Book.tags.through.objects.bulk_create(Book.tags.through(book_id=b, tag_id=t) for b, t in BOOK_TAGS)
    Book.liked_by.through.objects.bulk_create(Book.liked_by.through(book_id=b, author_id=a) for b, a in LIKES)
    Review.objects.bulk_create(Review(id=i, book_id=b, rating=r, note=n) for i, b, r, n in REVIEWS)
    Event.objects.bulk_create(Event(id=i, name=n, at=a, day=d, clock=c, took=t) for i, n, a, d, c, t in EVENTS)
    Edition.objects.bulk_create(Edition(id=i, book_id=b, year=y) for i, b, y in EDITIONS)
    BookClub.objects.bulk_create(BookClub(id=i, name=n, host_id=h, pick_id=p) for i, n, h, p in CLUBS)
    BookClub.members.through.objects.bulk_create(BookClub.members.through(bookclub_id=c, author_id=a) for c, a in CLUB_MEMBERS)
    BookClub.reads.through.objects.bulk_create(BookClub.reads.through(bookclub_id=c, book_id=b) for c, b in CLUB_READS)
    from django.core.management.color import no_style

    with connection.cursor() as cursor:  # explicit keys leave PostgreSQL's sequences behind
        for statement in connection.ops.sequence_reset_sql(no_style(), models_in_order):
            cursor.execute(statement)

    namespace = {name: value for name, value in locals().items() if not name.startswith("_")}
    namespace.update(Decimal=Decimal, datetime=datetime, related=lambda manager: list(manager.all()))
    from django.db import transaction
    from django.utils import timezone

    for line in sys.stdin:
        batch = json.loads(line)
        with transaction.atomic(), timezone.override(batch.get("time_zone")):
            answers = [evaluate(item, namespace, models.QuerySet, ObjectDoesNotExist) for item in batch["queries"]]
            transaction.set_rollback(batch.get("rollback", False))
        print(json.dumps(answers), flush=True)


def evaluate(item: str | dict, namespace: dict, queryset: type, does_not_exist: type) -> dict:
    """One query's answer: ``item`` is its text, or ``{"q": text, "then": "lambda result: ...",
    "message": bool}`` (an error's message is reported too when ``message`` is true)."""
    text = item if isinstance(item, str) else item["q"]
    try:
        result = eval(text, namespace)
        if isinstance(result, queryset):
            result = list(result)
        if isinstance(item, dict) and item.get("then"):
            result = eval(item["then"], namespace)(result)
        return {"ok": encode(result)}
    except Exception as exc:  # the oracle reports what Django raised, by name
        print(f"{text}: {type(exc).__name__}: {exc}", file=sys.stderr)
        # get() and latest() answer None where Django raises (see docs/orm.md).
        if isinstance(exc, does_not_exist):
            return {"ok": None}
        if isinstance(item, dict) and item.get("message"):
            return {"error": type(exc).__name__, "message": str(exc)}
        return {"error": type(exc).__name__}


if __name__ == "__main__":
    main()
