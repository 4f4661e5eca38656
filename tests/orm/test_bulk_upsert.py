"""``bulk_create`` with ``ignore_conflicts``/``update_conflicts`` answers as Django 5.2 (the
oracle, ``support/django_oracle.py``) on both backends: rows written, keys set on the
returned objects, and the errors (class and message) for options Django refuses."""

from __future__ import annotations

import pytest

from support.library import Label, ask_hyperdjango, django_step_answers
from hyperdjango.orm.bulk_copy import COPY_MIN_ROWS
from hyperdjango.orm.exceptions import FieldDoesNotExist

#: What a bulk_create answers: each returned object's key and values, then the table.
OBJECTS = "lambda objs: [(o.pk, o.name, o.uses, o.note) for o in objs]"
TABLE = "Label.objects.order_by('name').values_list('id', 'name', 'uses', 'note')"


def upsert(objs: str, *options: str, model: str = "Label") -> dict:
    return {"q": f"{model}.objects.bulk_create([{objs}], {', '.join(options)})", "then": OBJECTS, "message": True}


BOOK = "title='t', pages=1, price=1, published=datetime.date(2020, 1, 1), author_id=1"
BOOK_OBJECTS = "lambda objs: [(o.pk, o.title, o.author_id) for o in objs]"


#: Run in order on both sides, each step's writes seen by the next.
STEPS = [
    upsert("Label(name='a', uses=1), Label(name='b', uses=2, note='x')"),
    TABLE,
    # a conflicts and is updated (uses only): its key comes back; c is new.
    upsert("Label(name='a', uses=10, note='new'), Label(name='c', uses=3)", "update_conflicts=True",
           "unique_fields=['name']", "update_fields=['uses']"),
    TABLE,
    # Keys given: kept on the objects, even when the conflict hits another row.
    upsert("Label(id=2, name='b', uses=20, note='y'), Label(id=50, name='a', uses=5)", "update_conflicts=True",
           "unique_fields=['name']", "update_fields=['uses', 'note']"),
    TABLE,
    # The key as the conflict target, named "pk".
    upsert("Label(id=1, name='a', uses=7, note='pk')", "update_conflicts=True", "unique_fields=['pk']",
           "update_fields=['uses', 'note']"),
    TABLE,
    # Ignored conflicts: no keys for the objects without one, the others keep theirs.
    upsert("Label(name='a', uses=99), Label(name='d', uses=4), Label(id=60, name='c')", "ignore_conflicts=True"),
    TABLE,
    # The options Django refuses, in its order, with its messages.
    upsert("Label(name='e')", "ignore_conflicts=True", "update_conflicts=True"),
    upsert("Label(name='e')", "update_conflicts=True", "unique_fields=['name']"),
    upsert("Label(name='e')", "update_conflicts=True", "update_fields=['uses']"),
    upsert("Label(name='e')", "update_conflicts=True", "unique_fields=['name']", "update_fields=['id']"),
    upsert("Label(name='e')", "update_conflicts=True", "unique_fields=['name']", "update_fields=['pk']"),
    upsert("Label(name='e')", "update_conflicts=True", "unique_fields=['nope']", "update_fields=['uses']"),
    upsert("Label(name='e')", "update_conflicts=True", "unique_fields=['name']", "update_fields=['nope']"),
    upsert("Label(name='e')", "update_fields=['nope']"),
    upsert("Label(name='e')", "batch_size=0"),
    upsert("", "update_conflicts=True"),
    {**upsert(f"Book({BOOK})", "update_conflicts=True", "unique_fields=['id']", "update_fields=['tags']", model="Book"),
     "then": BOOK_OBJECTS},
    {**upsert(f"Book({BOOK})", "update_conflicts=True", "unique_fields=['reviews']", "update_fields=['title']", model="Book"),
     "then": BOOK_OBJECTS},
    # A foreign key by its relation's name or by its column's.
    {**upsert(f"Book(id=1, {BOOK})", "update_conflicts=True", "unique_fields=['id']", "update_fields=['author', 'title']",
              model="Book"), "then": BOOK_OBJECTS},
    {**upsert(f"Book(id=2, {BOOK})", "update_conflicts=True", "unique_fields=['id']", "update_fields=['author_id']",
              model="Book"), "then": BOOK_OBJECTS},
    "Book.objects.filter(id__lte=2).order_by('id').values_list('title', 'author_id')",
    TABLE,
    # Batches of one row each, one transaction.
    upsert("Label(name='d', uses=40), Label(name='f', uses=6), Label(name='b', uses=21)", "batch_size=1",
           "update_conflicts=True", "unique_fields=['name']", "update_fields=['uses']"),
    TABLE,
]


@pytest.fixture(scope="module")
def django_answers(db_url):
    return django_step_answers(db_url, STEPS)


async def test_bulk_create_conflicts_answer_as_django(django_answers, as_default):
    ours = [(await ask_hyperdjango([step]))[0] for step in STEPS]
    assert list(zip(STEPS, ours)) == list(zip(STEPS, django_answers))


async def test_many_rows_upsert_on_postgresql_too(db):
    """Past COPY's threshold, conflicts still update (INSERT ... ON CONFLICT: COPY has no
    conflict handling) and every object gets its key."""
    await db.drop_tables(Label)
    await db.create_tables(Label)
    labels = Label.objects.using(db)
    await labels.bulk_create([Label(name=f"n{i}", uses=1) for i in range(0, COPY_MIN_ROWS, 2)])
    made = await labels.bulk_create([Label(name=f"n{i}", uses=2) for i in range(COPY_MIN_ROWS)], update_conflicts=True,
                                    unique_fields=["name"], update_fields=["uses"])
    rows = {name: (key, uses) for key, name, uses in await labels.values_list("id", "name", "uses")}
    assert len(rows) == COPY_MIN_ROWS
    assert {uses for _, uses in rows.values()} == {2}
    assert [(o.pk, o.uses) for o in made] == [rows[o.name] for o in made]


async def test_abulk_create_takes_the_same_options(db):
    await db.drop_tables(Label)
    await db.create_tables(Label)
    labels = Label.objects.using(db)
    await labels.abulk_create([Label(name="a")])
    (obj,) = await labels.all().abulk_create([Label(name="a", uses=3)], update_conflicts=True, unique_fields=["name"], update_fields=["uses"])
    assert (obj.pk, await labels.values_list("uses", flat=True)) == ((await labels.get(name="a")).pk, [3])
    with pytest.raises(FieldDoesNotExist, match="Label has no field named 'x'"):
        await labels.abulk_create([Label(name="b")], update_conflicts=True, unique_fields=["x"], update_fields=["uses"])
