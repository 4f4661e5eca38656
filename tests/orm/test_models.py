"""Models: fields from annotations, Meta, instances, save/delete/refresh, validation."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest

from hyperdjango import Field, ManyToMany, Model
from hyperdjango.orm.exceptions import DeferredFieldNotLoaded, DoesNotExist, FieldDoesNotExist, FieldError, ValidationError
from hyperdjango.orm.fields import (
    BinaryField,
    BooleanField,
    DateField,
    DateTimeField,
    DecimalField,
    FloatField,
    IntegerField,
    JSONField,
    TextField,
    TimeField,
    UUIDField,
)


class Everything(Model):
    class Meta:
        table = "m_everything"

    count: int = 0
    ratio: float = 0.5
    amount: Decimal = Field(max_digits=8, decimal_places=3, default=Decimal("0"))
    flag: bool = False
    label: str = Field(max_length=20, default="")
    at: datetime.datetime | None = None
    day: datetime.date | None = None
    clock: datetime.time | None = None
    token: uuid.UUID = Field(default_factory=uuid.uuid4)
    blob: bytes = b""
    doc: dict = Field(default_factory=dict)
    items: list = Field(default_factory=list)
    maybe: int | None = None


class Account(Model):
    class Meta:
        table = "m_accounts"
        unique_together = [("org", "email")]
        indexes = [("org", "created_at")]

    key: uuid.UUID = Field(primary_key=True, default_factory=uuid.uuid4)
    org: str = Field(min_length=2, max_length=10)
    email: str = Field(pattern=r"[^@]+@[^@]+")
    plan: str = Field(default="free", choices=[("free", "Free"), ("pro", "Pro")])
    seats: int = Field(default=1, ge=1, le=100)
    created_at: datetime.datetime = Field(auto_now_add=True)
    updated_at: datetime.datetime | None = Field(auto_now=True)
    nick: str = Field(default="", db_column="nick_name", index=True)


class Stamped(Model):
    class Meta:
        abstract = True
        ordering = ["-id"]

    created_at: datetime.datetime = Field(auto_now_add=True)


class Note(Stamped):
    text: str = ""


@pytest.fixture
async def tables(as_default):
    db = as_default
    await db.drop_tables(Everything, Account, Note)
    await db.create_tables(Everything, Account, Note)
    yield db
    await db.drop_tables(Everything, Account, Note)


def test_annotations_choose_the_field_types():
    kinds = {f.name: type(f) for f in Everything._meta.fields}
    assert kinds == {
        "id": IntegerField, "count": IntegerField, "ratio": FloatField, "amount": DecimalField, "flag": BooleanField,
        "label": TextField, "at": DateTimeField, "day": DateField, "clock": TimeField, "token": UUIDField,
        "blob": BinaryField, "doc": JSONField, "items": JSONField, "maybe": IntegerField,
    }


def test_optional_annotations_allow_null():
    nullable = {f.name for f in Everything._meta.fields if f.null}
    assert nullable == {"at", "day", "clock", "maybe"}


def test_the_table_defaults_to_the_snake_case_class_name():
    class OrderLineItem(Model):
        qty: int = 0

    assert OrderLineItem._meta.table == "order_line_item"


def test_an_implicit_id_is_the_automatic_primary_key():
    pk = Note._meta.pk
    assert (pk.name, pk.primary_key, pk.auto) == ("id", True, True)


def test_a_declared_primary_key_replaces_the_implicit_id():
    assert Account._meta.pk.name == "key" and "id" not in Account._meta.field_map


def test_abstract_models_lend_fields_and_meta():
    assert [f.name for f in Note._meta.fields] == ["id", "created_at", "text"]
    assert Note._meta.ordering == ("-id",) and Note._meta.table == "note"
    with pytest.raises(TypeError, match="abstract"):
        Stamped()


def test_an_unsupported_annotation_is_refused_with_the_choices():
    with pytest.raises(TypeError, match="unsupported annotation"):
        class Bad(Model):
            things: set = set()


def test_unknown_meta_options_are_refused():
    with pytest.raises(TypeError, match="unknown option"):
        class Bad(Model):
            class Meta:
                tabel = "x"


def test_unknown_constructor_arguments_are_refused():
    with pytest.raises(TypeError, match="unexpected argument 'nmae'"):
        Note(nmae="x")


def test_defaults_and_default_factories_fill_new_instances():
    a, b = Everything(), Everything()
    assert a.count == 0 and a.doc == {} and a.doc is not b.doc and a.token != b.token


async def test_every_type_round_trips(tables):
    at = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC)
    e = Everything(count=7, ratio=0.25, amount="12.345", flag=True, label="hi", at=at, day=datetime.date(2024, 5, 1),
                   clock=datetime.time(9, 15), blob=b"\x00\x01", doc={"a": [1, 2]}, items=[1, "x"], maybe=None)
    await e.save()
    got = await Everything.objects.get(pk=e.pk)
    assert got.to_dict() == e.to_dict()
    assert got.amount == Decimal("12.345") and str(got.amount) == "12.345"


async def test_naive_datetimes_are_taken_as_utc(tables):
    e = await Everything.objects.create(at=datetime.datetime(2024, 5, 1, 12, 0))
    assert (await Everything.objects.get(pk=e.pk)).at == datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    assert await Everything.objects.filter(at=datetime.datetime(2024, 5, 1, 12, 0)).count() == 1


async def test_save_inserts_then_updates(tables):
    note = Note(text="a")
    await note.save()
    first_id = note.id
    note.text = "b"
    await note.save()
    assert note.id == first_id and await Note.objects.count() == 1
    assert (await Note.objects.get(id=first_id)).text == "b"


async def test_save_with_update_fields_writes_only_those(tables):
    note = await Note.objects.create(text="a")
    await Note.objects.filter(pk=note.pk).update(text="changed elsewhere")
    note.created_at = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    await note.save(update_fields=["created_at"])
    fresh = await Note.objects.get(pk=note.pk)
    assert fresh.text == "changed elsewhere" and fresh.created_at.year == 2000


async def test_auto_now_add_and_auto_now(tables):
    acct = await Account.objects.create(org="acme", email="a@acme.io")
    created, updated = acct.created_at, acct.updated_at
    assert created.tzinfo is not None and updated >= created
    acct.seats = 2
    await acct.save()
    assert acct.created_at == created and acct.updated_at >= updated


async def test_a_declared_default_key_is_inserted(tables):
    acct = await Account.objects.create(org="acme", email="a@acme.io")
    assert isinstance(acct.pk, uuid.UUID)
    assert (await Account.objects.get(pk=str(acct.pk))).email == "a@acme.io"


async def test_db_column_names_the_column(tables):
    await Account.objects.create(org="acme", email="a@acme.io", nick="ace")
    assert await tables.query_val('SELECT "nick_name" FROM "m_accounts"') == "ace"
    assert [a.nick for a in await Account.objects.filter(nick="ace")] == ["ace"]


async def test_validation_names_every_failing_field(tables):
    acct = Account(org="a", email="nope", plan="gold", seats=0)
    with pytest.raises(ValidationError) as info:
        await acct.save()
    assert set(info.value.errors) == {"org", "email", "plan", "seats"}
    assert await Account.objects.count() == 0


async def test_a_value_that_cannot_be_converted_is_a_validation_error(tables):
    with pytest.raises(ValidationError, match="count"):
        await Everything.objects.create(count="seven")


@pytest.mark.parametrize(
    "doc, items",
    [({"score": float("nan")}, []), ({}, [1.0, float("inf")]), ({"deep": [{"x": -float("inf")}]}, []), ({"k": "a\x00b"}, []), ({"a\x00": 1}, [])],
    ids=["nan", "inf-in-a-list", "nested-minus-inf", "nul-in-text", "nul-in-a-key"],
)
async def test_what_json_cannot_hold_is_a_validation_error_not_a_silent_null(tables, doc, items):
    # orjson would write NaN and infinities as null (another value), and jsonb refuses U+0000.
    with pytest.raises(ValidationError, match="doc|items") as info:
        await Everything.objects.create(doc=doc, items=items)
    assert "NaN and infinite floats" in str(info.value) or "NUL" in str(info.value)
    assert await Everything.objects.count() == 0


async def test_null_in_a_non_null_field_is_a_validation_error(tables):
    with pytest.raises(ValidationError, match="label: this field cannot be null"):
        await Everything.objects.create(label=None)


async def test_decimal_places_and_digits_are_enforced(tables):
    e = await Everything.objects.create(amount="1.23456")
    assert e.amount == Decimal("1.235")
    with pytest.raises(ValidationError, match="amount"):
        await Everything.objects.create(amount="123456")


async def test_unique_together_is_a_constraint(tables):
    from hyperdjango.database import IntegrityError

    await Account.objects.create(org="acme", email="a@acme.io")
    with pytest.raises(IntegrityError):
        await Account.objects.create(org="acme", email="a@acme.io")


async def test_delete_removes_the_row(tables):
    note = await Note.objects.create(text="x")
    assert await note.delete() == 1
    assert await Note.objects.count() == 0


async def test_refresh_from_db_reloads_and_reports_a_gone_row(tables):
    note = await Note.objects.create(text="x")
    await Note.objects.filter(pk=note.pk).update(text="y")
    await note.refresh_from_db()
    assert note.text == "y"
    await Note.objects.all().delete()
    with pytest.raises(DoesNotExist):
        await note.refresh_from_db()


async def test_refresh_from_db_can_load_a_deferred_field(tables):
    await Note.objects.create(text="x")
    note = await Note.objects.only("id").first()
    with pytest.raises(DeferredFieldNotLoaded, match="refresh_from_db"):
        note.text
    await note.refresh_from_db(fields=["text"])
    assert note.text == "x"


async def test_a_deferred_field_raises_an_attribute_error_that_names_it(tables):
    await Note.objects.create(text="x")
    note = await Note.objects.defer("text", "created_at").first()
    message = "Note.created_at was not loaded (only()/defer()); use await obj.refresh_from_db(fields=['created_at'])"
    with pytest.raises(DeferredFieldNotLoaded) as raised:
        note.created_at  # inherited from the abstract parent
    assert str(raised.value) == message and isinstance(raised.value, AttributeError)
    assert not hasattr(note, "text") and note.pk is not None


def test_a_field_read_from_the_model_class_is_the_field():
    # Forms, serialisers and the migration autodetector read fields off the class.
    assert Note.text is Note._meta.get_field("text") and Note.created_at is Note._meta.get_field("created_at")
    assert vars(Note)["text"] is Note.text and Note.text.name == "text"


async def test_instances_are_equal_by_primary_key(tables):
    note = await Note.objects.create(text="x")
    again = await Note.objects.get(pk=note.pk)
    assert note == again and hash(note) == hash(again) and note is not again
    assert Note(text="x") != Note(text="x")


def test_to_dict_has_the_field_values():
    note = Note(text="x")
    assert note.to_dict() == {"id": None, "created_at": None, "text": "x"}


async def test_unknown_fields_in_lookups_fail_when_the_queryset_is_built(tables):
    with pytest.raises(FieldError, match=r"^Cannot resolve keyword 'txt' into field. Choices are: created_at, id, text$"):
        Note.objects.filter(txt="x")


async def test_unknown_lookups_list_the_valid_ones(tables):
    with pytest.raises(FieldError, match=r"unsupported lookup 'contain'; valid lookups: .*contains"):
        Note.objects.filter(text__contain="x")
    with pytest.raises(FieldError, match="transform 'year' needs a date/time field"):
        Note.objects.filter(text__year=2024)


async def test_raw_returns_instances(tables):
    await Note.objects.create(text="x")
    [note] = await Note.objects.raw('SELECT *, 1 AS "extra" FROM "note" WHERE "text" = $1', "x")
    assert isinstance(note, Note) and note.text == "x" and note.extra == 1


async def test_str_of_the_query_shows_the_sql(tables):
    sql = str(Note.objects.filter(text="it's").order_by("-id")[:3].query)
    assert sql.startswith('SELECT "t0"."id", "t0"."created_at", "t0"."text" FROM "note" AS "t0" WHERE "t0"."text" = \'it\'\'s\'')
    assert sql.endswith('ORDER BY "t0"."id" DESC LIMIT 3')


async def test_explain_shows_a_plan(tables):
    plan = await Note.objects.filter(text="x").explain()
    assert ("note" in plan.lower()) or ("scan" in plan.lower())


def test_a_model_named_by_a_string_is_the_one_of_the_same_module():
    elsewhere = type(Model)("Part", (Model,), {"__module__": "some_other_app", "Meta": type("Meta", (), {"table": "other_part"})})

    class Gadget(Model):
        class Meta:
            table = "m_gadget"

        part_id: int = Field(foreign_key="Part", related_name="gadgets")

    class Part(Model):
        class Meta:
            table = "m_part"

    assert Gadget._meta.get_field("part_id").related_model is Part
    assert "gadgets" in Part._meta.relations and "gadgets" not in elsewhere._meta.relations


def test_get_field_of_an_unknown_name_raises_django_s_field_does_not_exist():
    class Shelf(Model):
        class Meta:
            table = "m_shelf"

        label: str = ""

    with pytest.raises(FieldDoesNotExist, match=r"^Shelf has no field named 'colour'$"):
        Shelf._meta.get_field("colour")
    # Code that caught FieldError keeps catching it.
    with pytest.raises(FieldError):
        Shelf._meta.get_field("colour")


def test_get_field_answers_as_django_5_2():
    class Rack(Model):
        class Meta:
            table = "m_rack"

    class Bin(Model):
        class Meta:
            table = "m_bin"

        rack_id: int = Field(foreign_key=Rack, related_name="bins")
        racks = ManyToMany(Rack, related_name="stored")

    # A foreign key by its relation's name too.
    assert Bin._meta.get_field("rack") is Bin._meta.get_field("rack_id")
    # Django's get_field does not know "pk" (Meta.pk does).
    with pytest.raises(FieldDoesNotExist, match=r"^Bin has no field named 'pk'$"):
        Bin._meta.get_field("pk")
    # A reverse foreign key is Django's ManyToOneRel; a many-to-many is its ManyToManyField on
    # the declaring side and its ManyToManyRel on the other: (flags, model, related_model, name).
    def seen(rel):
        flags = (rel.is_relation, rel.concrete, rel.auto_created, rel.one_to_many, rel.many_to_many, rel.many_to_one, rel.one_to_one)
        return flags, rel.model, rel.related_model, rel.name

    assert seen(Rack._meta.get_field("bins")) == ((True, False, True, True, False, False, False), Rack, Bin, "bins")
    assert Rack._meta.get_field("bins").remote_field is Bin._meta.get_field("rack")
    assert seen(Bin._meta.get_field("racks")) == ((True, True, False, False, True, False, False), Bin, Rack, "racks")
    assert seen(Rack._meta.get_field("stored")) == ((True, False, True, False, True, False, False), Rack, Bin, "stored")
    assert Rack._meta.get_field("stored").remote_field is Bin._meta.get_field("racks")
    # Where a column is meant, a relation without one is refused.
    with pytest.raises(FieldDoesNotExist, match="Bin.racks is a relation without a column"):
        Bin._meta.column_field("racks")
    assert Bin._meta.column_field("rack") is Bin._meta.get_field("rack_id")
