"""Django's API where ported code needs it: async aliases, per-model exceptions, signals,
symmetrical many-to-many, DISTINCT ON and datetimes(), on both backends."""

from __future__ import annotations

import datetime

import pytest

from hyperdjango import Field, ManyToMany, Model
from hyperdjango.orm.exceptions import DoesNotExist, MultipleObjectsReturned, NotSupportedError
from hyperdjango.orm.signals import Signal, m2m_changed, post_delete, post_save, pre_delete, pre_save, receiver

UTC = datetime.UTC


class Person(Model):
    class Meta:
        table = "api_people"
        get_latest_by = "joined"

    name: str = Field(max_length=50)
    joined: datetime.datetime = Field()
    friends = ManyToMany("self")
    follows = ManyToMany("self", symmetrical=False, related_name="followers")


class Note(Model):
    class Meta:
        table = "api_notes"

    person_id: int = Field(foreign_key=Person, on_delete="CASCADE", related_name="notes")
    text: str = ""


MODELS = (Person, Note)


@pytest.fixture
async def people(db):
    await db.drop_tables(*MODELS)
    await db.create_tables(*MODELS)
    made = {}
    for i, name in enumerate(["ann", "bob", "cy"]):
        made[name] = await Person.objects.using(db).acreate(name=name, joined=datetime.datetime(2024, 1, 1 + i, 10, 30 + i, tzinfo=UTC))
    return made


async def test_async_aliases_run_the_spec_methods(db, people):
    people_qs = Person.objects.using(db)
    assert (await people_qs.aget(name="bob")).name == "bob"
    assert await people_qs.acount() == 3
    assert (await people_qs.order_by("name").afirst()).name == "ann"
    assert (await people_qs.order_by("name").alast()).name == "cy"
    assert await people_qs.filter(name="cy").aexists()
    assert await people_qs.filter(name="cy").aupdate(name="cyd") == 1
    assert (await people_qs.alatest()).name == "cyd"
    assert (await people_qs.aearliest()).name == "ann"
    assert await people_qs.aaggregate() == {}
    obj, created = await people_qs.aget_or_create(name="dee", defaults={"joined": datetime.datetime(2024, 2, 1, tzinfo=UTC)})
    assert created and obj.pk
    assert await people_qs.acontains(obj)
    assert sorted(await people_qs.ain_bulk([obj.pk])) == [obj.pk]
    obj.name = "dora"
    await obj.asave(using=db)
    await obj.arefresh_from_db(using=db)
    assert obj.name == "dora"
    assert await obj.adelete(using=db) == 1
    assert await people_qs.filter(name="ann").adelete() == 1


async def test_each_model_has_its_own_exceptions(db, people):
    assert issubclass(Person.DoesNotExist, DoesNotExist) and Person.DoesNotExist is not Note.DoesNotExist
    assert issubclass(Person.MultipleObjectsReturned, MultipleObjectsReturned)
    with pytest.raises(Person.MultipleObjectsReturned):
        await Person.objects.using(db).get(joined__year=2024)
    gone = people["bob"]
    await gone.delete(using=db)
    with pytest.raises(Person.DoesNotExist):
        await gone.refresh_from_db(using=db)


async def test_save_and_delete_send_signals_to_their_sender_only(db, people):
    calls = []

    @receiver([pre_save, post_save], sender=Person)
    async def on_save(sender, instance, signal, **kwargs):
        calls.append((signal.name, instance.name, kwargs.get("created"), kwargs["update_fields"]))

    def on_note(sender, instance, **kwargs):  # a plain function receiver, another sender
        calls.append(("note", instance.text))

    post_save.connect(on_note, sender=Note)
    try:
        ann = people["ann"]
        ann.name = "anna"
        await ann.save(using=db, update_fields=["name"])
        await Person(name="eve", joined=datetime.datetime(2024, 3, 1, tzinfo=UTC)).save(using=db)
        await Note(person_id=ann.pk, text="hi").save(using=db)
    finally:
        pre_save.disconnect(on_save, sender=Person)
        post_save.disconnect(on_save, sender=Person)
        post_save.disconnect(on_note, sender=Note)
    assert calls == [
        ("pre_save", "anna", None, frozenset({"name"})),
        ("post_save", "anna", False, frozenset({"name"})),
        ("pre_save", "eve", None, None),
        ("post_save", "eve", True, None),
        ("note", "hi"),
    ]


async def test_deleting_signals_every_row_cascades_included(db, people):
    await Note.objects.using(db).acreate(person_id=people["ann"].pk, text="a")
    deleted = []

    async def on_delete(sender, instance, signal, **kwargs):
        deleted.append((signal.name, sender.__name__, instance.pk is not None))

    pre_delete.connect(on_delete, dispatch_uid="test")
    pre_delete.connect(on_delete, dispatch_uid="test")  # one connection per dispatch_uid
    post_delete.connect(on_delete, weak=False)
    try:
        assert await Person.objects.using(db).filter(name="ann").delete() == 2
    finally:
        assert pre_delete.disconnect(dispatch_uid="test")
        assert post_delete.disconnect(on_delete)
    assert deleted == [("pre_delete", "Note", True), ("post_delete", "Note", True), ("pre_delete", "Person", True), ("post_delete", "Person", True)]


def test_weak_receivers_go_away_with_their_function():
    signal = Signal("test")

    def temporary(sender, **kwargs):
        return 1

    signal.connect(temporary)
    assert signal.send(object) == [(temporary, 1)]
    del temporary
    assert signal.send(object) == []


def test_a_coroutine_receiver_needs_asend():
    signal = Signal("test")

    async def coroutine(sender, **kwargs):
        return 1

    signal.connect(coroutine)
    with pytest.raises(TypeError, match="asend"):
        signal.send(object)


async def test_many_to_many_self_is_symmetrical_and_signals_changes(db, people):
    ann, bob, cy = people["ann"], people["bob"], people["cy"]
    changes = []

    async def on_change(sender, action, pk_set, reverse, **kwargs):
        changes.append((action, pk_set, reverse))

    m2m_changed.connect(on_change, sender=Person._meta.relations["friends"].through)
    try:
        await ann.friends.add(bob)
        assert [p.name for p in await bob.friends.all()] == ["ann"]
        assert [p.name for p in await Person.objects.using(db).filter(friends__name="bob")] == ["ann"]
        await bob.friends.remove(ann)
        assert await ann.friends.all() == []
        await ann.friends.add(bob, cy)
        await ann.friends.clear()
        assert await cy.friends.all() == []
    finally:
        m2m_changed.disconnect(on_change, sender=Person._meta.relations["friends"].through)
    assert [c[0] for c in changes] == ["pre_add", "post_add", "pre_remove", "post_remove", "pre_add", "post_add", "pre_clear", "post_clear"]
    assert changes[0][1] == {bob.pk} and changes[-1][1] is None
    assert not hasattr(Person, "person_set")


async def test_many_to_many_self_not_symmetrical_is_one_way(db, people):
    ann, bob = people["ann"], people["bob"]
    await ann.follows.add(bob)
    assert [p.name for p in await ann.follows.all()] == ["bob"]
    assert await bob.follows.all() == []
    assert [p.name for p in await bob.followers.all()] == ["ann"]


async def test_distinct_on_fields_is_postgresql_only(db, people):
    qs = Person.objects.using(db).order_by("joined__year", "-joined").distinct("joined__year").values_list("name", flat=True)
    if db.vendor == "postgresql":
        assert await qs == ["cy"]
    else:
        with pytest.raises(NotSupportedError, match="DISTINCT ON"):
            await qs


async def test_datetimes_truncate_in_utc(db, people):
    qs = Person.objects.using(db)
    assert await qs.datetimes("joined", "hour") == [datetime.datetime(2024, 1, d, 10, tzinfo=UTC) for d in (1, 2, 3)]
    assert await qs.datetimes("joined", "month", order="DESC") == [datetime.datetime(2024, 1, 1, tzinfo=UTC)]
    assert await qs.dates("joined", "day") == [datetime.date(2024, 1, d) for d in (1, 2, 3)]
    assert await qs.filter(joined__minute=31).values_list("name", flat=True) == ["bob"]
    assert await qs.filter(joined__time=datetime.time(10, 32)).values_list("name", flat=True) == ["cy"]
    with pytest.raises(TypeError):  # a text (Django's Trunc: TypeError)
        await qs.datetimes("name", "day")
    with pytest.raises(ValueError):  # a date is no datetime (Django's Trunc: ValueError)
        await qs.datetimes("joined__date", "day")
