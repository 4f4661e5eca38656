"""The library in hyperdjango, and the two answers a parity test compares.

``ask_django(url, queries)`` runs the queries in Django 5.2 (``django_oracle.py``,
out of process); ``ask_hyperdjango(db, queries)`` runs the same text here. Both
encode results with ``library_data.encode``.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from support.library_data import (AUTHORS, BOOK_TAGS, BOOKS, CLUB_MEMBERS, CLUB_READS, CLUBS, EDITIONS, EVENTS, LIKES, PUBLISHERS,
                                  REVIEWS, TAGS, encode)
from support.orm import setup_tables
from hyperdjango import Field, ManyToMany, Model
from hyperdjango import expressions
from hyperdjango.orm import fields

ORACLE = os.path.join(os.path.dirname(__file__), "django_oracle.py")


class Author(Model):
    class Meta:
        table = "hd_author"
        ordering = ["name"]

    name: str = Field(max_length=50)
    born: datetime.date | None = None


class Publisher(Model):
    class Meta:
        table = "hd_publisher"
        ordering = ["name"]

    name: str = Field(max_length=50)


class Tag(Model):
    class Meta:
        table = "hd_tag"

    name: str = Field(max_length=50)


class Book(Model):
    class Meta:
        table = "hd_book"

    title: str = Field(max_length=100)
    subtitle: str | None = Field(max_length=100, default=None)
    price: Decimal = Field(max_digits=8, decimal_places=2)
    weight: Decimal | None = Field(max_digits=8, decimal_places=2, default=None)
    pages: int = 0
    published: datetime.date = Field()
    author_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="books")
    publisher_id: int | None = Field(foreign_key=Publisher, on_delete="SET_NULL", related_name="books", default=None)
    tags = ManyToMany(Tag, related_name="books")
    liked_by = ManyToMany(Author, related_name="liked")


class Review(Model):
    class Meta:
        table = "hd_review"

    book_id: int = Field(foreign_key=Book, on_delete="CASCADE", related_name="reviews")
    rating: int = 0
    note: str | None = Field(max_length=50, default=None)


class Event(Model):
    """Dates, times, datetimes (aware, UTC) and durations for the date functions."""

    class Meta:
        table = "hd_event"

    name: str = Field(max_length=50)
    at: datetime.datetime | None = None
    day: datetime.date | None = None
    clock: datetime.time | None = None
    took: datetime.timedelta | None = None


class Label(Model):
    """A unique column for bulk_create's conflicts (empty until a test fills it)."""

    class Meta:
        table = "hd_label"

    name: str = Field(max_length=50, unique=True)
    uses: int = 0
    note: str | None = Field(max_length=50, default=None)


class Edition(Model):
    """A foreign key without related_name: ``Book.objects.filter(edition__year=...)``, ``book.edition_set``."""

    class Meta:
        table = "hd_edition"

    book_id: int = Field(foreign_key=Book, on_delete="CASCADE")
    year: int = 0


class BookClub(Model):
    """The other names of a reverse relation: a many-to-many without related_name (``bookclub``,
    ``bookclub_set``), related_query_name with a related_name and with ``"+"``."""

    class Meta:
        table = "hd_bookclub"

    name: str = Field(max_length=50)
    host_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="hosting", related_query_name="hosted_club")
    pick_id: int | None = Field(foreign_key=Book, on_delete="SET_NULL", related_name="+", related_query_name="picked_by", default=None)
    members = ManyToMany(Author)
    reads = ManyToMany(Book, related_name="clubs", related_query_name="club")


MODELS = (Author, Publisher, Tag, Book, Review, Event, Label, Edition, BookClub)


async def seed(db: Any) -> None:
    await Author.objects.using(db).bulk_create(Author(id=i, name=n, born=b) for i, n, b in AUTHORS)
    await Publisher.objects.using(db).bulk_create(Publisher(id=i, name=n) for i, n in PUBLISHERS)
    await Tag.objects.using(db).bulk_create(Tag(id=i, name=n) for i, n in TAGS)
    await Book.objects.using(db).bulk_create(
        Book(id=i, title=t, subtitle=s, price=p, weight=w, pages=n, published=d, author_id=a, publisher_id=pub)
        for i, t, s, p, w, n, d, a, pub in BOOKS
    )
    books = {b.id: b for b in await Book.objects.using(db).all()}
    tags = {t.id: t for t in await Tag.objects.using(db).all()}
    authors = {a.id: a for a in await Author.objects.using(db).all()}
    for book, tag in BOOK_TAGS:
        await books[book].tags.add(tags[tag])
    for book, author in LIKES:
        await books[book].liked_by.add(authors[author])
    await Review.objects.using(db).bulk_create(Review(id=i, book_id=b, rating=r, note=n) for i, b, r, n in REVIEWS)
    await Event.objects.using(db).bulk_create(Event(id=i, name=n, at=a, day=d, clock=c, took=t) for i, n, a, d, c, t in EVENTS)
    await Edition.objects.using(db).bulk_create(Edition(id=i, book_id=b, year=y) for i, b, y in EDITIONS)
    await BookClub.objects.using(db).bulk_create(BookClub(id=i, name=n, host_id=h, pick_id=p) for i, n, h, p in CLUBS)
    clubs = {c.id: c for c in await BookClub.objects.using(db).all()}
    for club, author in CLUB_MEMBERS:
        await clubs[club].members.add(authors[author])
    for club, book in CLUB_READS:
        await clubs[club].reads.add(books[book])
    if db.vendor == "postgresql":  # explicit keys leave the sequences behind (Label starts empty, at 1)
        for model in (Author, Publisher, Tag, Book, Review, Event, Edition, BookClub):
            await db.execute(f"SELECT setval(pg_get_serial_sequence('{model._meta.table}', 'id'), 1000)")


def namespace(db: Any) -> dict[str, Any]:
    """What a query's text may name: the models (bound to ``db``) and the expressions."""
    names = {name: getattr(expressions, name) for name in expressions.__all__}
    names.update({m.__name__: m for m in MODELS}, Decimal=Decimal, datetime=datetime, ZoneInfo=ZoneInfo)
    names["related"] = lambda manager: list(manager.all()._prefetched)  # a prefetched relation's rows
    names["models"] = SimpleNamespace(DecimalField=fields.DecimalField, TextField=fields.TextField,
                                      IntegerField=fields.IntegerField, FloatField=fields.FloatField,
                                      DateField=fields.DateField, DateTimeField=fields.DateTimeField, TimeField=fields.TimeField)
    return names


def error_answer(item: Any, exc: Exception) -> dict[str, Any]:
    """What a query raised: its class's name, and its message when the query asks
    (``{"q": ..., "message": True}``)."""
    if isinstance(item, dict) and item.get("message"):
        return {"error": type(exc).__name__, "message": str(exc)}
    return {"error": type(exc).__name__}


def django_url(url: str) -> str:
    """Django's database beside ours: the same PostgreSQL database (its own tables), another SQLite file."""
    return url + ".django" if url.startswith("sqlite:") else url


class DjangoOracle:
    """Django 5.2 in a process of its own, on its copy of the library, answering batches of queries."""

    def __init__(self, url: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__)}
        self.process = subprocess.Popen(
            [sys.executable, ORACLE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        )
        self._send({"url": django_url(url)})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def ask(self, queries: list[Any], rollback: bool = False, time_zone: str | None = None) -> list[dict[str, Any]]:
        """Django's answers; ``time_zone`` (an IANA name) is its current time zone meanwhile."""
        self._send({"queries": queries, "rollback": rollback, "time_zone": time_zone})
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Django oracle stopped (exit code {self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def ask_django(url: str, queries: list[Any], time_zone: str | None = None) -> list[dict[str, Any]]:
    oracle = DjangoOracle(url)
    try:
        return oracle.ask(queries, time_zone=time_zone)
    finally:
        oracle.close()


def django_step_answers(url: str, steps: list[Any]) -> list[dict[str, Any]]:
    """Django's answer to each of ``steps`` (one batch each, committed: each step's writes seen
    by the next) on a freshly seeded library, after reseeding ours on ``url`` likewise."""
    setup_tables(url, MODELS, seed)
    oracle = DjangoOracle(url)
    try:
        return [oracle.ask([step])[0] for step in steps]
    finally:
        oracle.close()


async def ask_hyperdjango(queries: list[Any], extra_names: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The same queries here, on the default database (the caller sets it); ``extra_names``
    are more names the queries may use (a test's own transform)."""
    from hyperdjango.orm.query import QuerySet

    answers = []
    names = {**namespace(None), **(extra_names or {})}
    for item in queries:
        text = item if isinstance(item, str) else item["q"]
        try:
            result = eval(text, names)
            if isinstance(result, QuerySet) or hasattr(result, "__await__"):
                result = await result
            if isinstance(item, dict) and item.get("then"):
                result = eval(item["then"], names)(result)
            answers.append({"ok": encode(result)})
        except Exception as exc:
            answers.append(error_answer(item, exc))
    return answers
