"""``bulk_update`` on both backends: Django 5.2's answers (the oracle, ``support/django_oracle.py``)
for the values written, the rows matched, duplicates, batches, expressions and every error;
then what the oracle cannot show: one statement per batch, all batches or none, JSON, bytes and
booleans, and that inside a transaction the rows are part of it."""

from __future__ import annotations

import pytest

from support.library import ask_hyperdjango, django_step_answers
from hyperdjango import Field, Model
from hyperdjango.database import IntegrityError
from hyperdjango.expressions import F
from hyperdjango.orm.exceptions import ValidationError

BOOKS = "Book.objects.order_by('id').values_list('id', 'title', 'subtitle', 'price', 'weight', 'pages', 'published', 'author_id', 'publisher_id')"
EVENTS = "Event.objects.order_by('id').values_list('id', 'at', 'day', 'clock', 'took')"


def update(objs: str, fields: str, *options: str, qs: str = "Book.objects") -> dict:
    return {"q": f"{qs}.bulk_update([{objs}], {fields}{''.join(', ' + o for o in options)})", "message": True}


#: Run in order on both sides, each step's writes seen by the next.
STEPS = [
    # Several fields, nullable ones set to None and back, decimals.
    update("Book(id=1, pages=101, subtitle=None, price=Decimal('12.50'), weight=None), "
           "Book(id=2, pages=102, subtitle='new', price=Decimal('3'), weight=Decimal('0.25'))",
           "['pages', 'subtitle', 'price', 'weight']"),
    BOOKS,
    # Dates, and a foreign key by its relation's name, then by its column's (None included).
    update("Book(id=1, published=datetime.date(2001, 2, 3), author_id=2), "
           "Book(id=3, published=datetime.date(1999, 12, 31), author_id=1)", "['published', 'author']"),
    update("Book(id=2, author_id=3, publisher_id=None), Book(id=3, author_id=3, publisher_id=1)", "['author_id', 'publisher_id']"),
    BOOKS,
    # A key given twice: one row matched, the first value written; in two batches, both
    # matched and the last written.
    update("Book(id=4, pages=1), Book(id=4, pages=2)", "['pages']"),
    BOOKS,
    update("Book(id=4, pages=3), Book(id=4, pages=4)", "['pages']", "batch_size=1"),
    BOOKS,
    # A key without a row is not counted.
    update("Book(id=5, pages=7), Book(id=9999, pages=8)", "['pages']"),
    # Batches smaller than the objects: every row written, the matches summed.
    update(", ".join(f"Book(id={i}, pages={i * 11})" for i in range(1, 6)), "['pages']", "batch_size=2"),
    BOOKS,
    # Expressions as values, beside plain ones.
    update("Book(id=1, pages=F('pages') + 1, title='x'), Book(id=2, pages=50, title=F('subtitle'))", "['pages', 'title']"),
    BOOKS,
    # Datetimes, times and durations.
    update("Event(id=1, at=datetime.datetime(2020, 1, 1, 12, tzinfo=datetime.timezone.utc), clock=datetime.time(8, 30), "
           "took=datetime.timedelta(hours=2), day=None), Event(id=5, took=datetime.timedelta(days=-1, microseconds=3), "
           "at=None, clock=None, day=datetime.date(2024, 2, 29))", "['at', 'clock', 'took', 'day']", qs="Event.objects"),
    EVENTS,
    # A QuerySet's filters limit the rows updated, as in Django.
    update("Book(id=1, pages=5), Book(id=2, pages=6)", "['pages']", qs="Book.objects.filter(id=2)"),
    update("Book(id=1, pages=5)", "['pages']", qs="Book.objects.none()"),
    BOOKS,
    # Nothing to update.
    update("", "['pages']"),
    # Django's errors, in its order.
    update("Book(id=1)", "[]", "batch_size=0"),
    update("Book(pages=1)", "[]"),
    update("Book(pages=1)", "['nope']"),
    update("Book(id=1)", "['nope']"),
    update("Book(id=1)", "['pk']"),
    update("Book(id=1)", "['tags']"),
    update("Book(id=1)", "['reviews']"),
    update("Book(id=1)", "['id', 'pages']"),
    update("", "['id']"),
    BOOKS,
]


@pytest.fixture(scope="module")
def django_answers(db_url):
    return django_step_answers(db_url, STEPS)


async def test_bulk_update_answers_as_django(django_answers, as_default):
    ours = [(await ask_hyperdjango([step]))[0] for step in STEPS]
    assert list(zip(STEPS, ours)) == list(zip(STEPS, django_answers))


class Counter(Model):
    class Meta:
        table = "bulk_update_counters"

    name: str = Field(max_length=40, unique=True)
    hits: int = 0
    on: bool = False
    doc: dict | None = None
    blob: bytes | None = None


@pytest.fixture
async def counters(db):
    await db.drop_tables(Counter)
    await db.create_tables(Counter)
    made = await Counter.objects.using(db).bulk_create([Counter(name=f"c{i}", hits=i) for i in range(30)])
    yield made
    await db.drop_tables(Counter)


async def table(db) -> list[tuple[str, int]]:
    return [tuple(r) for r in await Counter.objects.using(db).order_by("id").values_list("name", "hits")]


@pytest.fixture
def statements(db, monkeypatch):
    """The SQL of every ``execute`` on ``db``."""
    sent: list[str] = []
    execute = db.execute

    def counted(sql, *params):
        sent.append(sql)
        return execute(sql, *params)

    monkeypatch.setattr(db, "execute", counted)
    return sent


async def test_one_statement_per_batch(db, counters, statements):
    for c in counters:
        c.hits += 100
        c.name = f"renamed {c.name}"  # not in fields: not written
    assert await Counter.objects.using(db).bulk_update(counters[:20], ["hits"]) == 20
    assert len(statements) == 1 and statements[0].startswith("UPDATE") and " CASE WHEN " in statements[0]
    assert await table(db) == [(f"c{i}", i + 100 if i < 20 else i) for i in range(30)]
    statements.clear()
    assert await Counter.objects.using(db).bulk_update(counters, ["hits"], batch_size=7) == 30
    assert [s.split()[0] for s in statements] == ["UPDATE"] * 5  # 7 + 7 + 7 + 7 + 2


async def test_the_batch_is_bounded_by_the_parameters_a_statement_may_carry(db, counters, statements, monkeypatch):
    from hyperdjango.orm.backends import operations_for

    # Two parameters per object (its key and one value): at most three objects per statement.
    monkeypatch.setattr(operations_for(db.vendor), "max_params", 7)
    for c in counters[:10]:
        c.hits = -c.hits
    assert await Counter.objects.using(db).bulk_update(counters[:10], ["hits"]) == 10
    assert len(statements) == 4
    assert [h for _, h in await table(db)][:11] == [-i for i in range(10)] + [10]
    # Through update() (an expression): up to four parameters an object, one a statement.
    statements.clear()
    counters[0].hits = F("hits") - 1
    assert await Counter.objects.using(db).bulk_update(counters[:3], ["hits"]) == 3
    assert len(statements) == 3
    assert [h for _, h in await table(db)][:4] == [-1, -1, -2, -3]


async def test_json_bytes_and_booleans(db, counters):
    counters[0].doc, counters[0].blob, counters[0].on = {"a": [1, None, "x"]}, b"\x00\xff", True
    counters[1].doc, counters[1].blob, counters[1].on = [1, 2], None, False
    counters[2].doc, counters[2].blob, counters[2].on = None, b"", True
    assert await Counter.objects.using(db).bulk_update(counters[:3], ["doc", "blob", "on"]) == 3
    rows = await Counter.objects.using(db).order_by("id").values_list("doc", "blob", "on")
    assert [tuple(r) for r in rows[:3]] == [({"a": [1, None, "x"]}, b"\x00\xff", True), ([1, 2], None, False), (None, b"", True)]


async def test_every_value_set_to_none(db, counters):
    for c in counters[:3]:
        c.doc = c.blob = None
    assert await Counter.objects.using(db).bulk_update(counters[:3], ["doc", "blob"]) == 3
    assert await Counter.objects.using(db).filter(doc__isnull=True, blob__isnull=True).count() == 30


async def test_values_are_converted_and_validated_by_their_fields(db, counters, statements):
    counters[0].hits = "41"
    assert await Counter.objects.using(db).bulk_update(counters[:1], ["hits"]) == 1
    assert counters[0].hits == 41 and (await table(db))[0] == ("c0", 41)
    counters[1].name = "x" * 41
    with pytest.raises(ValidationError):
        await Counter.objects.using(db).bulk_update(counters[:2], ["name"])
    assert len(statements) == 1  # the refused value sent nothing


class Scored(Model):
    class Meta:
        table = "bulk_update_scored"

    score: int = Field(default=0, ge=0)
    plain: int = 0


async def test_plain_values_still_meet_the_fields_constraints_and_the_models_clean(db, statements, monkeypatch):
    """An int for an int field skips no check: a model's own ``clean`` still runs for every
    object, and ``ge`` still refuses -1."""
    await db.drop_tables(Scored)
    await db.create_tables(Scored)
    try:
        rows = await Scored.objects.using(db).bulk_create([Scored(score=i) for i in range(3)])
        cleaned = []

        def clean(self, fields):
            cleaned.append(self.pk)
            return Model.clean(self, fields)

        for row in rows:
            row.score += 10
            row.plain = 1
        with monkeypatch.context() as patched:
            patched.setattr(Scored, "clean", clean)
            assert await Scored.objects.using(db).bulk_update(rows, ["plain"]) == 3
        assert await Scored.objects.using(db).bulk_update(rows, ["score"]) == 3
        assert cleaned == [row.pk for row in rows]
        statements.clear()
        rows[1].score = -1
        with pytest.raises(ValidationError):
            await Scored.objects.using(db).bulk_update(rows, ["score"])
        assert statements == []  # the refused value sent nothing
        assert [s for (s,) in await Scored.objects.using(db).order_by("id").values_list("score")] == [10, 11, 12]
    finally:
        await db.drop_tables(Scored)


async def test_a_failing_batch_undoes_the_batches_before_it(db, counters):
    before = await table(db)
    for c in counters[:6]:
        c.hits = 500
    counters[5].name = counters[0].name  # a unique name taken: the third batch fails
    with pytest.raises(IntegrityError):
        await Counter.objects.using(db).bulk_update(counters[:6], ["hits", "name"], batch_size=2)
    assert await table(db) == before
    # the database goes on: the next bulk_update is written
    counters[5].name = "c5"
    assert await Counter.objects.using(db).bulk_update(counters[:6], ["hits", "name"], batch_size=2) == 6
    assert [h for _, h in (await table(db))[:7]] == [500] * 6 + [6]


async def test_an_expression_in_a_batch_of_plain_values(db, counters):
    counters[0].hits, counters[0].doc, counters[0].blob, counters[0].on = F("hits") + 10, {"a": 1}, b"\x01", True
    counters[1].hits, counters[1].doc, counters[1].blob, counters[1].on = 7, None, None, F("on")
    counters[2].hits, counters[2].doc, counters[2].blob = "12", [1], b""
    assert await Counter.objects.using(db).all().abulk_update(counters[:3], ["hits", "doc", "blob", "on"]) == 3
    rows = await Counter.objects.using(db).order_by("id").values_list("hits", "doc", "blob", "on")
    assert [tuple(r) for r in rows[:4]] == [(10, {"a": 1}, b"\x01", True), (7, None, None, False), (12, [1], b"", False),
                                             (3, None, None, False)]


async def test_inside_a_transaction_the_rows_are_rolled_back_with_it(db, counters):
    before = await table(db)
    for c in counters:
        c.hits = -1

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.transaction():
            assert await Counter.objects.using(db).bulk_update(counters, ["hits"], batch_size=10) == 30
            assert await Counter.objects.using(db).filter(hits=-1).count() == 30
            raise Undo
    assert await table(db) == before
    async with db.transaction():
        assert await Counter.objects.using(db).bulk_update(counters, ["hits"]) == 30
    assert await Counter.objects.using(db).filter(hits=-1).count() == 30

