"""Relations: forward keys never query behind your back, reverse managers, many-to-many, on_delete."""

from __future__ import annotations

import pytest

from hyperdjango import Field, ManyToMany, Model
from hyperdjango.orm.exceptions import FieldError, ProtectedError, RelatedNotLoaded


class Author(Model):
    class Meta:
        table = "rel_authors"
        ordering = ["name"]

    name: str = ""


class Book(Model):
    class Meta:
        table = "rel_books"
        ordering = ["title"]

    title: str = ""
    author_id: int = Field(foreign_key=Author, on_delete="CASCADE", related_name="books")
    editor_id: int | None = Field(foreign_key=Author, on_delete="SET_NULL", related_name="edited")
    genres = ManyToMany("Genre", related_name="books")


class Genre(Model):
    class Meta:
        table = "rel_genres"
        ordering = ["name"]

    name: str = ""


class Review(Model):
    class Meta:
        table = "rel_reviews"

    book_id: int = Field(foreign_key=Book, on_delete="PROTECT", related_name="reviews")
    stars: int = 5


class Employee(Model):
    class Meta:
        table = "rel_employees"

    name: str = ""
    manager_id: int | None = Field(foreign_key="self", on_delete="CASCADE", related_name="reports")


MODELS = (Author, Book, Genre, Review, Employee)


@pytest.fixture
async def library(as_default):
    db = as_default
    await db.drop_tables(*MODELS)
    await db.create_tables(*MODELS)
    yield db
    await db.drop_tables(*MODELS)


async def _book(title="Dune", author="Herbert"):
    writer = await Author.objects.create(name=author)
    return await Book.objects.create(title=title, author=writer), writer


async def test_reading_an_unloaded_foreign_key_raises_and_names_the_fix(library):
    book, _ = await _book()
    fresh = await Book.objects.get(pk=book.pk)
    with pytest.raises(RelatedNotLoaded, match=r"select_related\('author'\).*fetch_related\('author'\)"):
        fresh.author


async def test_a_null_foreign_key_reads_as_none_without_loading(library):
    book, _ = await _book()
    assert (await Book.objects.get(pk=book.pk)).editor is None


async def test_select_related_loads_the_foreign_key_in_the_same_query(library):
    book, writer = await _book()
    fresh = await Book.objects.select_related("author").get(pk=book.pk)
    assert fresh.author == writer and fresh.author.name == "Herbert"


async def test_fetch_related_loads_the_foreign_key_on_demand(library):
    book, _ = await _book()
    fresh = await Book.objects.get(pk=book.pk)
    await fresh.fetch_related("author")
    assert fresh.author.name == "Herbert"


async def test_changing_the_key_invalidates_the_loaded_object(library):
    book, _ = await _book()
    other = await Author.objects.create(name="Le Guin")
    fresh = await Book.objects.select_related("author").get(pk=book.pk)
    fresh.author_id = other.pk
    with pytest.raises(RelatedNotLoaded):
        fresh.author


async def test_assigning_an_instance_sets_the_key(library):
    book, _ = await _book()
    other = await Author.objects.create(name="Le Guin")
    book.author = other
    await book.save()
    assert (await Book.objects.get(pk=book.pk)).author_id == other.pk


async def test_select_related_rejects_a_reverse_relation(library):
    with pytest.raises(FieldError, match="prefetch_related"):
        Author.objects.select_related("books")


async def test_reverse_manager_lists_filters_and_creates(library):
    book, writer = await _book()
    await writer.books.create(title="Children of Dune")
    assert [b.title for b in await writer.books.all()] == ["Children of Dune", "Dune"]
    assert await writer.books.filter(title__startswith="Dune").count() == 1


async def test_prefetched_reverse_rows_need_no_query(library):
    await _book()
    [writer] = await Author.objects.prefetch_related("books")
    await library.drop_tables(Review, Book)  # a query now would fail
    try:
        assert [b.title for b in await writer.books.all()] == ["Dune"]
    finally:
        await library.create_tables(Book, Review)


async def test_many_to_many_add_remove_set_clear(library):
    book, _ = await _book()
    scifi, classic, epic = [await Genre.objects.create(name=n) for n in ("scifi", "classic", "epic")]
    await book.genres.add(scifi, classic)
    await book.genres.add(scifi)  # already linked: kept once
    assert [g.name for g in await book.genres.all()] == ["classic", "scifi"]
    await book.genres.remove(classic)
    assert [g.name for g in await book.genres.all()] == ["scifi"]
    await book.genres.set([epic, classic.pk])
    assert [g.name for g in await book.genres.all()] == ["classic", "epic"]
    assert [b.title for b in await epic.books.all()] == ["Dune"]
    await book.genres.clear()
    assert await book.genres.count() == 0


async def test_cascade_deletes_dependants_and_counts_them(library):
    book, writer = await _book()
    await writer.books.create(title="Children of Dune")
    assert await writer.delete() == 3
    assert await Book.objects.count() == 0


async def test_set_null_keeps_the_row_and_clears_the_key(library):
    book, writer = await _book()
    editor = await Author.objects.create(name="Editor")
    book.editor = editor
    await book.save()
    await editor.delete()
    assert (await Book.objects.get(pk=book.pk)).editor_id is None


async def test_protect_refuses_and_deletes_nothing(library):
    book, writer = await _book()
    await Review.objects.create(book_id=book.pk)
    with pytest.raises(ProtectedError, match="rel_reviews|Review.book_id"):
        await writer.delete()
    assert await Book.objects.count() == 1 and await Author.objects.count() == 1


async def test_self_referencing_cascade_walks_the_tree(library):
    boss = await Employee.objects.create(name="boss")
    mid = await Employee.objects.create(name="mid", manager=boss)
    await Employee.objects.create(name="leaf", manager=mid)
    assert [e.name for e in await boss.reports.all()] == ["mid"]
    assert await boss.delete() == 3


async def test_deleting_a_linked_row_removes_its_links(library):
    book, _ = await _book()
    genre = await Genre.objects.create(name="scifi")
    await book.genres.add(genre)
    await genre.delete()
    assert await book.genres.count() == 0
