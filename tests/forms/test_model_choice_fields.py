"""ModelChoiceField and ModelMultipleChoiceField on both databases: the options are rows
loaded once, asynchronously, before drawing (never a query in the template); the
cleaned values are instances; ModelForm uses them for foreign keys and many-to-many."""

from __future__ import annotations

import pytest

from hyperdjango import Field, ManyToMany, Model, forms
from hyperdjango.database import connection as _connection


class Region(Model):
    class Meta:
        table = "mcf_regions"

    name: str = Field(max_length=30, unique=True)

    def __str__(self) -> str:
        return self.name


class Flavour(Model):
    class Meta:
        table = "mcf_flavours"

    name: str = Field(max_length=30)

    def __str__(self) -> str:
        return self.name


class Leaf(Model):
    class Meta:
        table = "mcf_leaves"

    name: str = Field(max_length=30)
    region_id: int = Field(foreign_key=Region, on_delete="CASCADE")
    flavours = ManyToMany(Flavour, related_name="leaves")


class LeafForm(forms.ModelForm):
    class Meta:
        model = Leaf
        fields = ["name", "region_id", "flavours"]


class PickForm(forms.Form):
    region = forms.ModelChoiceField(Region.objects.order_by("name"), empty_label="(choose)")
    by_name = forms.ModelChoiceField(Region.objects.all(), to_field_name="name", required=False, empty_label=None)
    flavours = forms.ModelMultipleChoiceField(Flavour.objects.order_by("name"), required=False)


@pytest.fixture
async def rows(db):
    previous = _connection._default
    _connection.set_default_database(db)
    models = (Leaf, Flavour, Region)  # Leaf's link table goes with it
    await db.drop_tables(*models)
    await db.create_tables(Region, Flavour, Leaf)
    uji = await Region.objects.create(name="Uji")
    assam = await Region.objects.create(name="Assam")
    grassy = await Flavour.objects.create(name="grassy")
    malty = await Flavour.objects.create(name="malty")
    yield {"uji": uji, "assam": assam, "grassy": grassy, "malty": malty}
    await db.drop_tables(*models)
    _connection._default = previous


async def test_the_options_are_the_rows_loaded_before_drawing(rows):
    form = PickForm()
    await form.load_choices()
    html = str(form["region"])
    assert html.index(">(choose)<") < html.index(">Assam<") < html.index(">Uji<")
    assert f'<option value="{rows["uji"].pk}">Uji</option>' in html
    assert '<option value="Uji">Uji</option>' in str(form["by_name"]) and "---------" not in str(form["by_name"])
    assert '<select name="flavours"' in str(form["flavours"]) and "multiple" in str(form["flavours"])


async def test_drawing_before_the_choices_are_loaded_is_a_clear_error_not_a_query(rows):
    with pytest.raises(RuntimeError, match="await form.load_choices()"):
        str(PickForm()["region"])


async def test_the_cleaned_values_are_instances(rows):
    form = PickForm({"region": str(rows["assam"].pk), "by_name": "Uji", "flavours": [str(rows["malty"].pk), str(rows["grassy"].pk)]})
    assert await form.is_valid(), form.errors
    assert form.cleaned_data["region"].name == "Assam"
    assert form.cleaned_data["by_name"].pk == rows["uji"].pk
    assert [f.name for f in form.cleaned_data["flavours"]] == ["malty", "grassy"]  # in the order sent


async def test_a_value_that_is_not_a_row_is_django_s_invalid_choice(rows):
    form = PickForm({"region": "999999", "by_name": "Darjeeling", "flavours": [str(rows["malty"].pk), "999999"]})
    assert not await form.is_valid()
    assert form.errors == {
        "region": ["Select a valid choice. That choice is not one of the available choices."],
        "by_name": ["Select a valid choice. That choice is not one of the available choices."],
        "flavours": ["Select a valid choice. 999999 is not one of the available choices."],
    }
    assert ">Assam<" in str(form["region"])  # an invalid form has its options loaded, to be drawn again


async def test_a_value_that_cannot_be_a_key_is_named(rows):
    form = PickForm({"region": "nope", "flavours": [str(rows["malty"].pk), "nope"]})
    assert not await form.is_valid()
    assert form.errors == {
        "region": ["Select a valid choice. That choice is not one of the available choices."],
        "flavours": ["“nope” is not a valid value."],
    }


async def test_required_and_empty(rows):
    form = PickForm({"region": "", "by_name": "", "flavours": []})
    assert not await form.is_valid()
    assert form.errors == {"region": ["This field is required."]}


async def test_a_model_form_edits_a_foreign_key_and_many_to_many(rows):
    form = LeafForm({"name": "Gyokuro", "region_id": str(rows["uji"].pk), "flavours": [str(rows["grassy"].pk)]})
    assert isinstance(form.fields["region_id"], forms.ModelChoiceField)
    assert isinstance(form.fields["flavours"], forms.ModelMultipleChoiceField)
    assert await form.is_valid(), form.errors
    leaf = await form.save()
    assert leaf.region_id == rows["uji"].pk
    assert [f.name for f in await leaf.flavours.all()] == ["grassy"]

    edit = LeafForm(instance=leaf)
    await edit.load_choices()
    assert f'<option value="{rows["uji"].pk}" selected>Uji</option>' in str(edit["region_id"])
    assert f'<option value="{rows["grassy"].pk}" selected>grassy</option>' in str(edit["flavours"])

    changed = LeafForm({"name": "Gyokuro", "region_id": str(rows["assam"].pk), "flavours": [str(rows["malty"].pk)]}, instance=leaf)
    assert await changed.is_valid(), changed.errors
    await changed.save()
    again = await Leaf.objects.get(pk=leaf.pk)
    assert again.region_id == rows["assam"].pk
    assert [f.name for f in await again.flavours.all()] == ["malty"]


async def test_save_without_commit_leaves_the_links_to_save_m2m(rows):
    form = LeafForm({"name": "Bancha", "region_id": str(rows["uji"].pk), "flavours": [str(rows["malty"].pk)]})
    assert await form.is_valid()
    leaf = await form.save(commit=False)
    assert leaf.pk is None
    await leaf.save()
    await form.save_m2m()
    assert [f.name for f in await leaf.flavours.all()] == ["malty"]
