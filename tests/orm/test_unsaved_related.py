"""A foreign key holding an unsaved instance refuses the write, as Django 5.2 refuses it (the
oracle, ``support/django_oracle.py``, in a transaction rolled back on both sides): the key it
would write is NULL, Django's "prohibited to prevent data loss" ``ValueError``."""

from __future__ import annotations

import datetime

import pytest

from support.library import MODELS, Author, Book, DjangoOracle, Publisher, ask_hyperdjango, seed
from support.orm import rolled_back, setup_tables

NEW = "title='x', price=1, pages=1, published=datetime.date(2020, 1, 1)"

QUERIES = [
    {"q": f"Book({NEW}, author=Author(name='n')).save()", "message": True},
    {"q": f"Book.objects.create({NEW}, author_id=1, publisher=Publisher(name='p'))", "message": True},
    {"q": f"Book.objects.bulk_create([Book({NEW}, author_id=1), Book({NEW}, author=Author(name='n'))])", "message": True},
    {"q": f"Book.objects.bulk_update([Book(id=1, {NEW}, author=Author(name='n'))], ['author'])", "message": True},
    {"q": f"Book.objects.bulk_update([Book(id=1, {NEW}, publisher=Publisher(name='p'))], ['author', 'publisher'])", "message": True},
    # Only the fields written are checked; nothing was written by the refusals.
    f"Book.objects.bulk_update([Book(id=2, {NEW}, author=Author(name='n'))], ['pages'])",
    "Book.objects.order_by('id').values_list('id', 'pages', 'author_id', 'publisher_id')",
    "Book.objects.count()",
]


@pytest.fixture(scope="module")
def django_answers(db_url):
    setup_tables(db_url, MODELS, seed)
    oracle = DjangoOracle(db_url)
    try:
        return oracle.ask(QUERIES, rollback=True)
    finally:
        oracle.close()


@pytest.fixture
async def our_answers(as_default):
    async with rolled_back(as_default):
        return await ask_hyperdjango(QUERIES)


@pytest.mark.parametrize("index", range(len(QUERIES)), ids=[q if isinstance(q, str) else q["q"] for q in QUERIES])
async def test_same_answer_as_django(django_answers, our_answers, index):
    assert our_answers[index] == django_answers[index]


async def test_a_related_object_saved_after_the_assignment_gives_its_key(as_default):
    async with rolled_back(as_default):
        author, publisher = Author(name="n"), Publisher(name="p")
        book = Book(title="x", price=1, pages=1, published=datetime.date(2020, 1, 1), author=author, publisher=publisher)
        await author.save()
        await publisher.save()
        await book.save()
        assert (book.author_id, book.publisher_id) == (author.id, publisher.id)
        assert (await Book.objects.filter(id=book.id).values_list("author_id", "publisher_id"))[0] == (author.id, publisher.id)


async def test_a_key_changed_after_the_assignment_is_kept(as_default):
    async with rolled_back(as_default):
        ann = await Author.objects.get(id=1)
        book = Book(title="x", price=1, pages=1, published=datetime.date(2020, 1, 1), author=ann)
        book.author_id = 2
        await book.save()
        assert (await Book.objects.get(id=book.id)).author_id == 2
