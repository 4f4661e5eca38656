"""Injection attempts: values are always bound, names must be fields."""

from __future__ import annotations

import pytest

from hyperdjango import Field, Model
from hyperdjango.orm.exceptions import FieldError, ValidationError

EVIL = ["x'; DROP TABLE inj_users; --", "' OR '1'='1", '"; DELETE FROM inj_users; --', "%' OR 1=1 --", "\\'; --", "$1"]


class Member(Model):
    class Meta:
        table = "inj_users"

    name: str = Field(max_length=200)
    age: int = 0


@pytest.fixture
async def members(as_default):
    db = as_default
    await db.drop_tables(Member)
    await db.create_tables(Member)
    await Member.objects.bulk_create([Member(name="ann", age=30), Member(name="bob", age=40)])
    yield db
    await db.drop_tables(Member)


@pytest.mark.parametrize("lookup", ["name", "name__iexact", "name__contains", "name__icontains", "name__startswith", "name__iendswith", "name__in"])
async def test_hostile_values_match_only_themselves(members, lookup):
    for evil in EVIL:
        value = [evil] if lookup.endswith("__in") else evil
        assert await Member.objects.filter(**{lookup: value}).count() == 0
    assert await Member.objects.count() == 2


async def test_hostile_values_are_stored_verbatim(members):
    for evil in EVIL:
        m = await Member.objects.create(name=evil)
        assert (await Member.objects.get(pk=m.pk)).name == evil
        assert await Member.objects.filter(name=evil).count() == 1
    assert await Member.objects.count() == 2 + len(EVIL)


async def test_hostile_values_in_updates_are_bound(members):
    await Member.objects.filter(name="ann").update(name=EVIL[0])
    assert await Member.objects.filter(name=EVIL[0]).count() == 1
    assert await Member.objects.count() == 2


async def test_a_hostile_number_is_a_validation_error(members):
    with pytest.raises(ValidationError, match="age"):
        Member.objects.filter(age="1 OR 1=1")


@pytest.mark.parametrize("name", [
    "name; DROP TABLE inj_users",
    'name" DESC, (SELECT 1) --',
    "-name--",
    "(SELECT password FROM users)",
    "name DESC",
    "1",
    "",
    "-",
])
async def test_order_by_names_that_are_not_fields_are_refused(members, name):
    with pytest.raises(FieldError):
        Member.objects.order_by(name)
    assert await Member.objects.count() == 2


async def test_order_by_accepts_the_real_names(members):
    assert [m.name for m in await Member.objects.order_by("-age")] == ["bob", "ann"]


@pytest.mark.parametrize("key", ["name OR 1=1", "name__exact; --", "name__in__x"])
async def test_lookup_names_that_are_not_lookups_are_refused(members, key):
    with pytest.raises(FieldError):
        Member.objects.filter(**{key: "x"})


async def test_values_names_must_be_fields(members):
    with pytest.raises(FieldError):
        Member.objects.values("name, (SELECT 1)")


async def test_a_nul_character_is_a_validation_error_in_lookups_and_saves_on_both_backends(members):
    with pytest.raises(ValidationError, match="NUL"):
        await Member.objects.filter(name="a\x00b").count()
    with pytest.raises(ValidationError, match="NUL"):
        await Member.objects.create(name="a\x00b")
    assert await Member.objects.count() == 2
