"""Window functions, FilteredRelation and Subquery where Django 5.2 cannot be the oracle
(it refuses, fails in the database or answers differently on purpose; docs/orm.md lists
why), on both backends. Everything Django answers is compared with it in
``test_django_parity.py`` and ``test_differential.py``."""

from __future__ import annotations

import statistics
from decimal import Decimal

import pytest

from support.library import MODELS, Book, Review, seed
from support.library_data import BOOKS
from support.orm import rolled_back, setup_tables
from hyperdjango.orm import FieldError
from hyperdjango.expressions import (Avg, F, FilteredRelation, Func, OuterRef, Q, RowNumber, RowRange, StdDev, Subquery, Sum,
                                     ValueRange, Variance, Window)


@pytest.fixture(scope="module")
def library(db_url):
    setup_tables(db_url, MODELS, seed)


@pytest.fixture
async def books(library, as_default):
    async with rolled_back(as_default):
        yield as_default


async def test_a_value_range_with_offsets_averages_the_rows_within_them(books):
    # Django 5.2 refuses RANGE offsets on PostgreSQL (NotSupportedError); PostgreSQL 11+ has them.
    near = Window(Avg("price"), order_by="pages", frame=ValueRange(start=-100, end=100))
    got = dict(await Book.objects.annotate(a=near).values_list("id", "a"))
    for book_id, _, _, _, _, pages, *_ in BOOKS:
        prices = [b[3] for b in BOOKS if pages - 100 <= b[5] <= pages + 100]
        assert got[book_id] == pytest.approx(sum(prices) / len(prices))
        assert isinstance(got[book_id], Decimal)


def spread(function, values: list[int]) -> float | None:
    """``statistics``' answer (the functions Django's SQLite aggregates call); None for too few values."""
    try:
        return function(values)
    except statistics.StatisticsError:
        return None


async def test_standard_deviation_and_variance_over_windows_answer_as_statistics(books):
    # Django 5.2 registers STDDEV_*/VAR_* on SQLite as plain aggregates, which SQLite refuses
    # over a window (OperationalError); ours are window functions there, as PostgreSQL's are.
    rows = await Book.objects.annotate(
        sp=Window(StdDev("pages"), partition_by="author"),
        ss=Window(StdDev("pages", sample=True), partition_by="author"),
        vp=Window(Variance("pages"), order_by="id", frame=RowRange(start=-2, end=0)),
        vs=Window(Variance("pages", sample=True), order_by="id", frame=RowRange(start=-2, end=0)),
    ).order_by("id").values_list("id", "sp", "ss", "vp", "vs")
    pages = {b[0]: b[5] for b in BOOKS}
    by_author = {b[0]: [other[5] for other in BOOKS if other[7] == b[7]] for b in BOOKS}
    expected = [
        (i, spread(statistics.pstdev, by_author[i]), spread(statistics.stdev, by_author[i]),
         spread(statistics.pvariance, [pages[j] for j in range(max(1, i - 2), i + 1)]),
         spread(statistics.variance, [pages[j] for j in range(max(1, i - 2), i + 1)]))
        for i in sorted(pages)
    ]
    assert rows == [tuple(pytest.approx(v) if v is not None else None for v in row) for row in expected]


async def test_update_of_rows_filtered_on_a_window_changes_only_those_rows(books):
    # Django 5.2 sends SQL the database refuses; the rows that pass the window filter are updated.
    numbered = Book.objects.annotate(n=Window(RowNumber(), order_by="id"))
    assert await numbered.filter(n__gt=6).update(pages=0) == 2
    assert await Book.objects.filter(pages=0).order_by("id").values_list("id", flat=True) == [7, 8]


async def test_delete_of_rows_filtered_on_a_window_deletes_only_those_rows(books):
    assert await Book.objects.annotate(n=Window(RowNumber(), order_by="-id")).filter(n=1).delete() == 3  # the book, its review, its tag link
    assert await Book.objects.order_by("id").values_list("id", flat=True) == [1, 2, 3, 4, 5, 6, 7]


async def test_a_window_as_an_updated_value_is_a_field_error(books):
    # As Django (which marks the transaction for rollback, so not in the parity batch).
    with pytest.raises(FieldError, match="Window expressions are not allowed"):
        await Book.objects.update(pages=Window(RowNumber(), order_by="id"))


async def test_distinct_rows_filtered_on_a_window_are_distinct(books):
    # Django 5.2 also compares the window's values there, and repeats author 5.
    numbered = Book.objects.annotate(n=Window(RowNumber(), order_by="id")).filter(n__gt=5)
    assert await numbered.values_list("author_id", flat=True).distinct().order_by("author_id") == [4, 5]


async def test_select_related_of_a_filtered_foreign_key_is_none_where_the_condition_fails(books):
    # Django leaves the attribute unset there (AttributeError on reading it).
    rows = Book.objects.annotate(pen=FilteredRelation("publisher", condition=Q(publisher__name="Penguin"))).select_related("pen")
    assert [(b.id, b.pen and b.pen.name) for b in await rows.order_by("id")] == [
        (1, "Penguin"), (2, None), (3, None), (4, None), (5, "Penguin"), (6, None), (7, None), (8, None)]


async def test_select_related_of_a_many_valued_filtered_relation_is_a_field_error(books):
    good = Book.objects.annotate(good=FilteredRelation("reviews", condition=Q(reviews__rating__gte=4)))
    with pytest.raises(FieldError, match="many-valued FilteredRelation"):
        good.select_related("good")


async def test_two_filtered_relations_of_one_relation_share_no_join(books):
    both = Book.objects.annotate(good=FilteredRelation("reviews", condition=Q(reviews__rating__gte=4)),
                                 bad=FilteredRelation("reviews", condition=Q(reviews__rating__lt=3)))
    sql = str(both.filter(good__isnull=False, bad__isnull=False).query)
    assert sql.count("LEFT JOIN") == 2
    assert await both.filter(good__isnull=False, bad__isnull=False).values_list("id", flat=True) == [1]


async def test_filtered_relations_differing_only_in_a_value_answer_each_their_own(books):
    # The compiled SQL is cached by shape: the condition's value is a parameter of it.
    def rated(n):
        return Book.objects.annotate(r=FilteredRelation("reviews", condition=Q(reviews__rating=n))).filter(r__isnull=False)

    assert await rated(5).order_by("id").values_list("id", flat=True) == [1, 4, 8]
    assert await rated(1).order_by("id").values_list("id", flat=True) == [3]


async def test_a_subquery_of_two_columns_is_a_field_error(books):
    two = Review.objects.filter(book=OuterRef("pk")).values("rating", "id")[:1]
    with pytest.raises(FieldError, match="one column"):
        Book.objects.annotate(r=Subquery(two))


def test_func_takes_only_a_function_name():
    assert Func(F("rating"), function="SUM").function == "SUM"
    with pytest.raises(ValueError, match="function name"):
        Func(F("rating"), function="SUM(1); DROP TABLE hd_book; --")


async def test_a_sum_via_func_in_a_subquery_is_null_without_rows(books):
    # The documented idiom: Func(..., function="SUM") aggregates without a GROUP BY.
    ratings = Review.objects.filter(book=OuterRef("pk")).order_by().values("book")
    total = ratings.annotate(total=Func(F("rating"), function="SUM")).values("total")
    assert await Book.objects.annotate(t=Subquery(total)).order_by("id").values_list("t", flat=True) == [7, 4, 1, 12, None, 2, None, 5]
    assert await Book.objects.annotate(s=Window(Sum("pages"))).filter(s__gt=F("pages") * 10).count() == 4  # of 2495 pages
