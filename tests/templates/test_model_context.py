"""Model instances and QuerySet results in a template: loaded fields and relations
render; an unloaded relation raises the ORM's own error and never queries. On both
databases."""

from __future__ import annotations

import pytest

from hyperdjango import Field, ManyToMany, Model
from hyperdjango.database import connection as _connection
from hyperdjango.templates import TemplateError, Templates


class Maker(Model):
    class Meta:
        table = "tpl_makers"

    name: str = ""


class Gadget(Model):
    class Meta:
        table = "tpl_gadgets"
        ordering = ["name"]

    name: str = ""
    maker_id: int = Field(foreign_key=Maker, on_delete="CASCADE", related_name="gadgets")
    tags = ManyToMany("Label", related_name="gadgets")


class Label(Model):
    class Meta:
        table = "tpl_labels"

    name: str = ""


MODELS = (Maker, Gadget, Label)


@pytest.fixture
async def shop(db):
    previous = _connection._default
    _connection.set_default_database(db)
    await db.drop_tables(*MODELS)
    await db.create_tables(*MODELS)
    maker = await Maker.objects.create(name="Acme")
    for name in ("Anvil", "Rocket"):
        await Gadget.objects.create(name=name, maker=maker)
    yield db
    await db.drop_tables(*MODELS)
    _connection._default = previous


@pytest.fixture
def templates(tmp_path):
    (tmp_path / "list.html").write_text("{% for g in gadgets %}{{ g.pk }}:{{ g.name }} by {{ g.maker.name }};{% endfor %}")
    (tmp_path / "fields.html").write_text("{% for g in gadgets %}{{ g.name }}/{{ g.maker_id == g.maker_id }};{% endfor %}")
    (tmp_path / "tags.html").write_text("{% for g in gadgets %}{{ g.tags|length }};{% endfor %}")
    return Templates(tmp_path)


async def test_queryset_results_with_select_related_render(shop, templates):
    gadgets = await Gadget.objects.select_related("maker").all()
    out = templates.render_to_string("list.html", {"gadgets": gadgets})
    assert out == f"{gadgets[0].pk}:Anvil by Acme;{gadgets[1].pk}:Rocket by Acme;"


async def test_loaded_fields_render_without_the_relation(shop, templates):
    gadgets = await Gadget.objects.all()
    assert templates.render_to_string("fields.html", {"gadgets": gadgets}) == "Anvil/True;Rocket/True;"


async def test_an_unloaded_foreign_key_raises_the_orm_error_and_no_query(shop, templates):
    gadgets = await Gadget.objects.all()
    with pytest.raises(TemplateError, match=r"Gadget.maker is not loaded .*select_related\('maker'\)") as info:
        templates.render_to_string("list.html", {"gadgets": gadgets})
    assert info.value.template == "list.html"


async def test_an_unprefetched_many_to_many_raises_and_a_prefetched_one_renders(shop, templates):
    with pytest.raises(TemplateError, match=r"Gadget.tags is not loaded .*prefetch_related\('tags'\)"):
        templates.render_to_string("tags.html", {"gadgets": await Gadget.objects.all()})
    gadgets = await Gadget.objects.prefetch_related("tags").all()
    assert templates.render_to_string("tags.html", {"gadgets": gadgets}) == "0;0;"


async def test_an_unevaluated_queryset_is_refused(shop, templates):
    with pytest.raises(TypeError, match="await it before rendering"):
        templates.render_to_string("fields.html", {"gadgets": Gadget.objects.all()})
