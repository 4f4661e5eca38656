"""The library's models in Django (the oracle's app; see ``django_oracle.py``)."""

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50)
    born = models.DateField(null=True)

    class Meta:
        db_table, ordering = "dj_author", ["name"]


class Publisher(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        db_table, ordering = "dj_publisher", ["name"]


class Tag(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        db_table = "dj_tag"


class Book(models.Model):
    title = models.CharField(max_length=100)
    subtitle = models.CharField(max_length=100, null=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    weight = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    pages = models.IntegerField()
    published = models.DateField()
    author = models.ForeignKey(Author, models.CASCADE, related_name="books")
    publisher = models.ForeignKey(Publisher, models.SET_NULL, null=True, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books", db_table="dj_book_tags")
    liked_by = models.ManyToManyField(Author, related_name="liked", db_table="dj_book_liked_by")

    class Meta:
        db_table = "dj_book"


class Review(models.Model):
    book = models.ForeignKey(Book, models.CASCADE, related_name="reviews")
    rating = models.IntegerField()
    note = models.CharField(max_length=50, null=True)

    class Meta:
        db_table = "dj_review"


class Event(models.Model):
    name = models.CharField(max_length=50)
    at = models.DateTimeField(null=True)
    day = models.DateField(null=True)
    clock = models.TimeField(null=True)
    took = models.DurationField(null=True)

    class Meta:
        db_table = "dj_event"


class Label(models.Model):
    """A unique column for bulk_create's conflicts (empty until a test fills it)."""

    name = models.CharField(max_length=50, unique=True)
    uses = models.IntegerField(default=0)
    note = models.CharField(max_length=50, null=True)

    class Meta:
        db_table = "dj_label"


class Edition(models.Model):
    book = models.ForeignKey(Book, models.CASCADE)
    year = models.IntegerField()

    class Meta:
        db_table = "dj_edition"


class BookClub(models.Model):
    name = models.CharField(max_length=50)
    host = models.ForeignKey(Author, models.CASCADE, related_name="hosting", related_query_name="hosted_club")
    pick = models.ForeignKey(Book, models.SET_NULL, null=True, related_name="+", related_query_name="picked_by")
    members = models.ManyToManyField(Author, db_table="dj_bookclub_members")
    reads = models.ManyToManyField(Book, related_name="clubs", related_query_name="club", db_table="dj_bookclub_reads")

    class Meta:
        db_table = "dj_bookclub"
