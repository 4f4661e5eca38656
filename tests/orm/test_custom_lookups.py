"""A user's lookups and transforms, as Django's "Custom lookups" how-to writes them, answer
as Django's on the same library (the oracle registers the same classes:
support/django_library/lookups.py)."""

from __future__ import annotations

import json

import pytest

from support.library import MODELS, Book, ask_django, ask_hyperdjango, seed
from support.orm import setup_tables
from hyperdjango.database import connection
from hyperdjango.expressions import Lookup, Transform
from hyperdjango.orm.exceptions import FieldError, NotSupportedError
from hyperdjango.orm.fields import DecimalField, Field, IntegerField


class NotEqual(Lookup):
    lookup_name = "ne"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return "%s <> %s" % (lhs, rhs), lhs_params + rhs_params  # noqa: UP031 (Django's how-to, as users write it)


class AbsoluteValue(Transform):
    lookup_name = "abs"
    function = "ABS"


QUERIES = [
    "~Book.objects.filter(price__ne=3).values_list('id', flat=True)",
    "~Book.objects.filter(pages__ne=410).values_list('id', flat=True)",
    "~Book.objects.exclude(pages__ne=410).values_list('id', flat=True)",
    "~Book.objects.filter(weight__ne=F('price')).values_list('id', flat=True)",
    "~Book.objects.exclude(weight__ne=F('price')).values_list('id', flat=True)",
    "~Book.objects.filter(subtitle__ne='the').values_list('id', flat=True)",
    "~Book.objects.exclude(subtitle__ne='the').values_list('id', flat=True)",
    "~Review.objects.filter(rating__abs__lt=3).values_list('id', flat=True)",
    "~Book.objects.annotate(delta=F('pages') - 300).filter(delta__abs__lt=150).values_list('id', flat=True)",
    "~Book.objects.annotate(delta=F('pages') - 300).filter(delta__abs__ne=110).values_list('id', flat=True)",
    "~Book.objects.filter(pages__abs__gte=F('author_id') * 100).values_list('id', flat=True)",
    "Book.objects.annotate(a=AbsoluteValue(F('pages') - 300)).order_by('id').values_list('id', 'a')",
    "Book.objects.filter(title__abs=1).count()",
]


@pytest.fixture(scope="module")
def registered():
    Field.register_lookup(NotEqual)
    IntegerField.register_lookup(AbsoluteValue)
    yield
    Field._unregister_lookup(NotEqual)
    IntegerField._unregister_lookup(AbsoluteValue)


@pytest.fixture(scope="module")
def answers(db_url, registered):
    setup_tables(db_url, MODELS, seed)
    texts = [q.lstrip("~") for q in QUERIES]
    return dict(zip(texts, ask_django(db_url, texts)))


@pytest.mark.parametrize("query", QUERIES)
async def test_same_answer_as_django(answers, db, query):
    previous = connection._default
    connection.set_default_database(db)
    try:
        text = query.lstrip("~")
        ours = (await ask_hyperdjango([text], {"AbsoluteValue": AbsoluteValue}))[0]
    finally:
        connection._default = previous
    theirs = answers[text]
    if query.startswith("~"):
        ours, theirs = ({"ok": sorted(a["ok"], key=json.dumps)} if "ok" in a else a for a in (ours, theirs))
    assert ours == theirs


async def test_a_lookup_on_a_field_class_applies_to_its_subclasses(db, registered):
    class Positive(Lookup):
        lookup_name = "positive"
        prepare_rhs = False

        def as_sql(self, compiler, connection):
            lhs, params = self.process_lhs(compiler, connection)
            return f"({lhs} > 0) = {self.process_rhs(compiler, connection)[0]}", params

    class Money(DecimalField):
        pass

    DecimalField.register_lookup(Positive)
    try:
        assert Money.class_lookup("positive") is Positive
        assert IntegerField.class_lookup("positive") is None
        with pytest.raises(FieldError, match="unsupported lookup 'positive'"):
            Book.objects.filter(pages__positive=True)
        assert await Book.objects.using(db).filter(price__positive=True).count() == 8
        assert await Book.objects.using(db).filter(price__positive=False).count() == 0
    finally:
        DecimalField._unregister_lookup(Positive)


async def test_per_backend_sql_is_chosen_by_vendor(db, registered):
    class Squared(Transform):
        lookup_name = "squared"

        def as_sql(self, compiler, connection):
            lhs, params = compiler.compile(self.lhs)
            return f"({lhs} * {lhs})", params

        def as_postgresql(self, compiler, connection):
            return super().as_sql(compiler, connection, function="POWER", template="CAST(%(function)s(%(expressions)s, 2) AS INTEGER)")

    IntegerField.register_lookup(Squared)
    try:
        rows = await Book.objects.using(db).filter(pages__squared__lt=1000).order_by("id").values_list("id", flat=True)
        assert rows == [8]
    finally:
        IntegerField._unregister_lookup(Squared)


async def test_returning_parameters_is_refused_clearly(db, registered):
    class WithParams(Lookup):
        lookup_name = "withparams"

        def as_sql(self, compiler, connection):
            lhs, params = self.process_lhs(compiler, connection)
            return f"{lhs} = %s", [*params, 3]

    IntegerField.register_lookup(WithParams)
    try:
        with pytest.raises(NotSupportedError, match="binds values when the QuerySet is built"):
            await Book.objects.using(db).filter(pages__withparams=1).count()
    finally:
        IntegerField._unregister_lookup(WithParams)
