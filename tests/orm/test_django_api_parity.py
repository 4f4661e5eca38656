"""The Django API of issue #11's list, each answered as Django 5.2 answers it (the oracle,
``support/django_oracle.py``) on both backends: the audit that every name exists and
behaves. What Django cannot answer through the oracle (async aliases, signals,
``ManyToMany("self")``) is checked in ``test_django_api.py``."""

from __future__ import annotations

import pytest

from support.library import MODELS, Book, ask_django, ask_hyperdjango, seed
from support.orm import setup_tables

ROWS = "lambda rows: [list(r) for r in rows]"
IDS = "lambda objs: [o.id for o in objs]"
RELATION = "lambda f: (f.name, f.related_model.__name__, f.one_to_many, f.many_to_many, f.concrete, f.auto_created)"

QUERIES = [
    # Per-model exceptions.
    "(Book.DoesNotExist.__name__, Book.MultipleObjectsReturned.__name__, Book.DoesNotExist is Author.DoesNotExist)",
    "Book.objects.get(price=Decimal('15.00'))",
    # reverse(), latest(), earliest(), ordered.
    "Book.objects.order_by('title', 'id').reverse().values_list('id', flat=True)",
    "Author.objects.reverse().values_list('name', flat=True)",
    {"q": "Book.objects.latest('published')", "then": "lambda b: b.id"},
    {"q": "Book.objects.earliest('price', '-published')", "then": "lambda b: b.id"},
    {"q": "Book.objects.filter(pages__gt=100).latest('-price')", "then": "lambda b: b.id"},
    "(Book.objects.all().ordered, Author.objects.all().ordered, Book.objects.order_by('id').ordered, "
    "Author.objects.values('name').annotate(n=Count('books')).ordered, Book.objects.order_by('id').reverse().ordered, "
    "Book.objects.none().ordered, Author.objects.none().ordered, Author.objects.annotate(n=Count('books')).ordered, "
    "Author.objects.annotate(n=Count('books')).order_by('name').ordered, Author.objects.alias(n=Count('books')).ordered)",
    # A grouping sets Meta.ordering aside: first()/last() go by the key, as on an unordered QuerySet.
    {"q": "Author.objects.annotate(n=Count('books')).first()", "then": "lambda a: (a.id, a.n)"},
    {"q": "Author.objects.annotate(n=Count('books')).last()", "then": "lambda a: (a.id, a.n)"},
    {"q": "Author.objects.values('name').annotate(n=Count('books')).first()", "message": True},
    {"q": "Author.objects.values('name').annotate(n=Count('books')).last()", "message": True},
    {"q": "Author.objects.values('id', 'name').annotate(n=Count('books')).first()", "then": "lambda r: sorted(r.items())"},
    # dates(), datetimes().
    "Book.objects.dates('published', 'year')",
    "Book.objects.dates('published', 'month', order='DESC')",
    "Book.objects.dates('published', 'week')",
    "Book.objects.dates('published', 'day')",
    "Event.objects.datetimes('at', 'hour')",
    "Event.objects.datetimes('at', 'minute', order='DESC')",
    "Event.objects.dates('at', 'month')",
    # union(), intersection(), difference().
    "Book.objects.filter(pages__lt=100).values_list('id', flat=True).union(Book.objects.filter(pages__gt=400).values_list('id', flat=True)).order_by('id')",
    "Book.objects.filter(pages__lt=300).values_list('id', flat=True).intersection(Book.objects.filter(price__lt=10).values_list('id', flat=True)).order_by('-id')",
    "Book.objects.values_list('id', flat=True).difference(Book.objects.filter(price__lt=10).values_list('id', flat=True)).order_by('id')",
    "Book.objects.filter(id=1).values_list('title').union(Book.objects.filter(id=1).values_list('title'), all=True)",
    {"q": "Book.objects.filter(id__lt=3).union(Book.objects.filter(id__gt=6)).order_by('-id')", "then": IDS},
    "Book.objects.filter(id=1).values_list('title').union(Book.objects.filter(id__lt=3).values_list('title')).count()",
    # alias().
    "Book.objects.alias(n=Count('tags')).filter(n__gt=1).order_by('id').values_list('id', flat=True)",
    "Book.objects.alias(p=F('price') * 2).order_by('-p', 'id').values_list('id', flat=True)",
    # contains().
    "Book.objects.filter(pages__gt=100).contains(Book(id=2))",
    "Book.objects.filter(pages__gt=300).contains(Book(id=2))",
    "Book.objects.filter(pages__gt=300).contains(Author(id=2))",
    {"q": "Book.objects.contains(Book())", "message": True},
    {"q": "Book.objects.values('id').contains(Book(id=1))", "message": True},
    {"q": "Book.objects.contains(1)", "message": True},
    # values_list(named=True).
    {"q": "Book.objects.order_by('id').values_list('id', 'title', named=True)[:2]",
     "then": "lambda rows: [(type(r).__name__, r._fields, r.id, r.title) for r in rows]"},
    {"q": "Book.objects.annotate(n=Count('tags')).order_by('id').values_list('id', 'n', named=True)[:3]",
     "then": "lambda rows: [(r._fields, r.id, r.n) for r in rows]"},
    # distinct(*fields): PostgreSQL only.
    "Book.objects.order_by('author_id', 'price').distinct('author_id').values_list('author_id', 'price')",
    # asc()/desc() with nulls_first/nulls_last.
    "Book.objects.order_by(F('weight').asc(nulls_first=True), 'id').values_list('id', flat=True)",
    "Book.objects.order_by(F('weight').asc(nulls_last=True), 'id').values_list('id', flat=True)",
    "Book.objects.order_by(F('weight').desc(nulls_first=True), 'id').values_list('id', flat=True)",
    "Book.objects.order_by(F('weight').desc(nulls_last=True), 'id').values_list('id', flat=True)",
    "Book.objects.order_by(F('publisher__name').asc(nulls_first=True), 'id').values_list('id', flat=True)",
    # select_related(None).
    {"q": "Book.objects.select_related('author').select_related(None).order_by('id')", "then": IDS},
    # Transforms in F().
    "Book.objects.filter(published__year__gt=F('author__born__year') + 40).order_by('id').values_list('id', flat=True)",
    "Book.objects.annotate(y=F('published__year'), m=F('published__month')).order_by('id').values_list('id', 'y', 'm')",
    "Book.objects.order_by(F('published__year').desc(), 'id').values_list('id', flat=True)",
    # Count(filter=), Sum(default=).
    "Author.objects.annotate(n=Count('books', filter=Q(books__price__gt=10))).order_by('id').values_list('id', 'n')",
    "Book.objects.aggregate(n=Count('id', filter=Q(price__lt=10)), s=Sum('pages', filter=Q(weight__isnull=True)))",
    "Book.objects.filter(id__gt=100).aggregate(s=Sum('pages', default=0), m=Sum('price', default=Decimal('1.5')))",
    "Author.objects.annotate(s=Sum('books__pages', default=0)).order_by('id').values_list('id', 's')",
    # Date and time lookups.
    "Book.objects.filter(published__week_day=2).values_list('id', flat=True)",
    "Book.objects.filter(published__iso_week_day=7).values_list('id', flat=True)",
    "Book.objects.filter(published__week__gte=30).order_by('id').values_list('id', flat=True)",
    "Book.objects.filter(published__quarter=1).order_by('id').values_list('id', flat=True)",
    "Book.objects.filter(published__iso_year=2020).values_list('id', flat=True)",
    "Book.objects.filter(published__iso_year__lt=2001).values_list('id', flat=True)",
    "Event.objects.filter(at__minute__gte=30).order_by('id').values_list('id', flat=True)",
    "Event.objects.filter(at__second=0).order_by('id').values_list('id', flat=True)",
    "Event.objects.filter(at__time__gt=datetime.time(12, 0)).order_by('id').values_list('id', flat=True)",
    "Event.objects.filter(at__week_day=1).order_by('id').values_list('id', flat=True)",
    "Event.objects.filter(at__quarter=4).order_by('id').values_list('id', flat=True)",
    # Q & Exists.
    "Book.objects.filter(Q(price__gt=5) & Exists(Review.objects.filter(book=OuterRef('pk'), rating__gte=4))).order_by('id').values_list('id', flat=True)",
    "Book.objects.filter(Exists(Review.objects.filter(book=OuterRef('pk'))) & Q(pages__lt=300)).order_by('id').values_list('id', flat=True)",
    "Book.objects.filter(Q(pages__gt=1000) | ~Exists(Review.objects.filter(book=OuterRef('pk')))).order_by('id').values_list('id', flat=True)",
    # A reverse relation's two names (the library's Edition has a key to Book without related_name;
    # BookClub a many-to-many to Author without one, related_query_name beside related_name and
    # beside "+"). Lookups say the query name: related_query_name, else related_name, else the
    # model's name in lower case.
    *(f"{model}.objects.filter({lookups}).order_by('id').values_list('id', flat=True)" for model, lookups in [
        ("Book", "edition__year__gte=2011"), ("Book", "Q(edition__year=2010) | Q(edition__isnull=True)"), ("Author", "books__edition__year=2020"),
        ("Book", "pages__gt=F('edition__year') / 10"), ("Book", "Exists(Edition.objects.filter(book=OuterRef('pk'), year__lt=2005))"),
        ("Author", "bookclub__name='Readers'"), ("Author", "hosted_club__name='Quiet'"), ("Book", "picked_by__name='Readers'"),
        ("Book", "picked_by__isnull=False"), ("Book", "club__name='Night owls'"), ("Edition", "book__reviews__rating=5"),
    ]),
    "Book.objects.exclude(edition__year=2001).order_by('id').values_list('id', flat=True)",
    "Author.objects.exclude(bookclub__name='Night owls').order_by('id').values_list('id', flat=True)",
    "Book.objects.annotate(recent=FilteredRelation('edition', condition=Q(edition__year__gte=2011))).filter(recent__isnull=False).order_by('id').values_list('id', flat=True)",
    "Book.objects.annotate(n=Count('edition'), c=Count('club')).order_by('id').values_list('id', 'n', 'c')",
    "Author.objects.annotate(n=Count('bookclub'), h=Count('hosted_club')).order_by('id').values_list('id', 'n', 'h')",
    "Book.objects.aggregate(m=Max('edition__year'), n=Count('edition'))",
    "Book.objects.order_by('edition__year', 'id').values_list('id', 'edition__year')",
    "Book.objects.values('edition__year').annotate(n=Count('id')).order_by('edition__year')",
    "Book.objects.filter(edition__year=2020).update(pages=F('pages'))",
    # The accessor is no query name: Django's message lists the query names (hidden ones left out).
    *({"q": q, "message": True} for q in [
        "Book.objects.filter(edition_set__year=2001)", "Author.objects.filter(bookclub_set__name='Readers')",
        "Author.objects.filter(hosting__name='Quiet')", "Book.objects.filter(clubs__name='Readers')",
        "Book.objects.annotate(n=Count('tags')).filter(nope=1)", "Book._meta.get_field('edition_set')", "Author._meta.get_field('hosting')",
    ]),
    "Book.objects.filter(edition__nope=1)", "Book.objects.annotate(n=Count('edition_set'))", "Book.objects.order_by('edition_set__year')",
    {"q": "Book.objects.select_related('edition')", "then": IDS},
    # get_field() finds the query name; instances and prefetch_related() the accessor.
    *({"q": f"{model}._meta.get_field({name!r})", "then": RELATION} for model, name in [
        ("Book", "edition"), ("Book", "club"), ("Book", "picked_by"), ("Author", "bookclub"), ("Author", "hosted_club")]),
    "[Book._meta.get_field(n).get_accessor_name() for n in ('edition', 'club', 'reviews')]",
    "[Author._meta.get_field(n).get_accessor_name() for n in ('bookclub', 'hosted_club', 'liked')]",
    "Book._meta.get_field('picked_by').get_accessor_name()",  # hidden: its related_name, "+"
    {"q": "Book.objects.get(id=1)", "then": "lambda b: [hasattr(b, n) for n in ('edition_set', 'edition', 'clubs', 'club')]"},
    {"q": "Book.objects.prefetch_related('edition_set', 'clubs').order_by('id')",
     "then": "lambda books: [(b.id, sorted(e.year for e in related(b.edition_set)), sorted(c.id for c in related(b.clubs))) for b in books]"},
    {"q": "Author.objects.prefetch_related('bookclub_set', 'hosting', 'books__edition_set').order_by('id')",
     "then": "lambda authors: [(a.id, sorted(c.id for c in related(a.bookclub_set)), sorted(c.id for c in related(a.hosting)),"
             " sorted(e.id for b in related(a.books) for e in related(b.edition_set))) for a in authors]"},
    # A name that is no accessor is refused when the rows are there (none: nothing to refuse).
    *({"q": q, "message": True} for q in [
        "Book.objects.prefetch_related('edition').order_by('id')", "Author.objects.prefetch_related('books__edition')",
        "Book.objects.prefetch_related('reviews', 'nope')", "Book.objects.prefetch_related('title')",
    ]),
    {"q": "Book.objects.filter(id__gt=100).prefetch_related('edition')", "then": IDS},
]


@pytest.fixture(scope="module")
def answers(db_url):
    setup_tables(db_url, MODELS, seed)
    return ask_django(db_url, QUERIES)


@pytest.mark.parametrize("index", range(len(QUERIES)), ids=[q if isinstance(q, str) else q["q"] for q in QUERIES])
async def test_same_answer_as_django(answers, as_default, index):
    assert (await ask_hyperdjango([QUERIES[index]]))[0] == answers[index]


async def test_prefetch_related_refuses_a_query_name_when_evaluated(answers, as_default):
    # As Django: building the QuerySet raises nothing; evaluating it (and fetch_related) does.
    books = Book.objects.prefetch_related("edition")
    with pytest.raises(AttributeError, match="Cannot find 'edition' on Book object"):
        await books
    book = await Book.objects.get(id=1)
    with pytest.raises(AttributeError, match="'edition' is an invalid parameter to prefetch_related()"):
        await book.fetch_related("edition")
