"""A reverse relation's two names, as Django 5.2 names them (the oracle, ``support/django_oracle.py``),
on both backends: lookups say its query name (``related_query_name``, else ``related_name``, else
the model's name in lower case: ``Book.objects.filter(edition__year=2020)``); instances and
``prefetch_related`` say its accessor (``related_name``, else ``<model>_set``: ``book.edition_set``).

The library's ``Edition`` has a foreign key to ``Book`` without related_name; ``BookClub`` a
many-to-many to ``Author`` without one, and related_query_name beside a related_name and
beside ``related_name="+"``.
"""

from __future__ import annotations

import pytest

from support.library import MODELS, Book, ask_django, ask_hyperdjango, seed
from support.orm import setup_tables
from hyperdjango.orm import FieldError

IDS = "lambda rows: [r.id for r in rows]"
RELATION = "lambda f: (f.name, f.related_model.__name__, f.one_to_many, f.many_to_many, f.concrete, f.auto_created)"

QUERIES = [
    # A foreign key without related_name: the query name is the model's name.
    "Book.objects.filter(edition__year__gte=2011).order_by('id').values_list('id', flat=True)",
    "Book.objects.exclude(edition__year=2001).order_by('id').values_list('id', flat=True)",
    "Book.objects.filter(Q(edition__year=2010) | Q(edition__isnull=True)).order_by('id').values_list('id', flat=True)",
    "Book.objects.annotate(n=Count('edition')).order_by('id').values_list('id', 'n')",
    "Book.objects.aggregate(m=Max('edition__year'), n=Count('edition'))",
    "Book.objects.order_by('edition__year', 'id').values_list('id', 'edition__year')",
    "Book.objects.values('edition__year').annotate(n=Count('id')).order_by('edition__year')",
    "Book.objects.filter(id__lte=4).values('id', 'edition__year').order_by('id', 'edition__year')",
    "Book.objects.filter(pages__gt=F('edition__year') / 10).order_by('id').values_list('id', flat=True)",
    "Book.objects.annotate(recent=FilteredRelation('edition', condition=Q(edition__year__gte=2011))).filter(recent__isnull=False).order_by('id').values_list('id', flat=True)",
    "Author.objects.filter(books__edition__year=2020).values_list('id', flat=True)",
    "Edition.objects.filter(book__reviews__rating=5).order_by('id').values_list('id', flat=True)",
    "Book.objects.filter(edition__year=2020).update(pages=F('pages'))",
    "Book.objects.filter(Exists(Edition.objects.filter(book=OuterRef('pk'), year__lt=2005))).order_by('id').values_list('id', flat=True)",
    # A many-to-many without related_name.
    "Author.objects.filter(bookclub__name='Readers').order_by('id').values_list('id', flat=True)",
    "Author.objects.annotate(n=Count('bookclub')).order_by('id').values_list('id', 'n')",
    "Author.objects.exclude(bookclub__name='Night owls').order_by('id').values_list('id', flat=True)",
    # related_query_name, with a related_name, with "+", on a many-to-many.
    "Author.objects.filter(hosted_club__name='Quiet').values_list('id', flat=True)",
    "Book.objects.filter(picked_by__name='Readers').values_list('id', flat=True)",
    "Book.objects.filter(picked_by__isnull=False).order_by('id').values_list('id', flat=True)",
    "Book.objects.filter(club__name='Night owls').order_by('id').values_list('id', flat=True)",
    "Book.objects.annotate(n=Count('club')).order_by('-n', 'id').values_list('id', 'n')",
    # The accessor is no query name; Django's message lists the query names.
    {"q": "Book.objects.filter(edition_set__year=2001)", "message": True},
    {"q": "Author.objects.filter(bookclub_set__name='Readers')", "message": True},
    {"q": "Author.objects.filter(hosting__name='Quiet')", "message": True},
    {"q": "Book.objects.filter(clubs__name='Readers')", "message": True},
    {"q": "Book.objects.annotate(n=Count('tags')).filter(nope=1)", "message": True},
    "Book.objects.filter(edition__nope=1)",
    "Book.objects.annotate(n=Count('edition_set'))",
    "Book.objects.order_by('edition_set__year')",
    # select_related follows forward keys only.
    {"q": "Book.objects.select_related('edition')", "then": IDS},
    # get_field() by query name, not by accessor.
    {"q": "Book._meta.get_field('edition')", "then": RELATION},
    {"q": "Book._meta.get_field('club')", "then": RELATION},
    {"q": "Book._meta.get_field('picked_by')", "then": RELATION},
    {"q": "Author._meta.get_field('bookclub')", "then": RELATION},
    {"q": "Author._meta.get_field('hosted_club')", "then": RELATION},
    "[Book._meta.get_field(n).get_accessor_name() for n in ('edition', 'club', 'reviews')]",
    "[Author._meta.get_field(n).get_accessor_name() for n in ('bookclub', 'hosted_club', 'liked')]",
    {"q": "Book._meta.get_field('edition_set')", "message": True},
    {"q": "Author._meta.get_field('hosting')", "message": True},
    # Instances and prefetch_related: the accessors.
    {"q": "Book.objects.get(id=1)", "then": "lambda b: (hasattr(b, 'edition_set'), hasattr(b, 'edition'), hasattr(b, 'clubs'), hasattr(b, 'club'))"},
    {"q": "Book.objects.prefetch_related('edition_set', 'clubs').order_by('id')",
     "then": "lambda books: [(b.id, sorted(e.year for e in related(b.edition_set)), sorted(c.id for c in related(b.clubs))) for b in books]"},
    {"q": "Author.objects.prefetch_related('bookclub_set', 'hosting').order_by('id')",
     "then": "lambda authors: [(a.id, sorted(c.id for c in related(a.bookclub_set)), sorted(c.id for c in related(a.hosting))) for a in authors]"},
    {"q": "Author.objects.prefetch_related('books__edition_set').order_by('id')",
     "then": "lambda authors: [(a.id, sorted(e.id for b in related(a.books) for e in related(b.edition_set))) for a in authors]"},
]


@pytest.fixture(scope="module")
def answers(db_url):
    setup_tables(db_url, MODELS, seed)
    return ask_django(db_url, QUERIES)


@pytest.mark.parametrize("index", range(len(QUERIES)), ids=[q if isinstance(q, str) else q["q"] for q in QUERIES])
async def test_same_answer_as_django(answers, as_default, index):
    assert (await ask_hyperdjango([QUERIES[index]]))[0] == answers[index]


def test_prefetch_related_refuses_a_query_name():
    # Django raises AttributeError when it evaluates; we refuse when the QuerySet is built.
    with pytest.raises(FieldError, match="Book has no relation 'edition'; relations: .*edition_set"):
        Book.objects.prefetch_related("edition")
