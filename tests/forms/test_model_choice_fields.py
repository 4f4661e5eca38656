"""ModelChoiceField and ModelMultipleChoiceField on both databases: the options are rows
loaded once, asynchronously, before drawing (never a query in the template); the
cleaned values are instances; ModelForm uses them for foreign keys and many-to-many."""

from __future__ import annotations

import pytest

from hyperdjango import Field, HyperApp, ManyToMany, Model, forms
from hyperdjango.database import connection as _connection
from hyperdjango.templates import Templates, render
from hyperdjango.testing import TestClient
from support.orm import CountingDatabase


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


async def test_the_cleaned_values_are_instances_and_the_multiple_ones_in_the_queryset_s_order(rows):
    form = PickForm({"region": str(rows["assam"].pk), "by_name": "Uji", "flavours": [str(rows["malty"].pk), str(rows["grassy"].pk)]})
    assert await form.is_valid(), form.errors
    assert form.cleaned_data["region"].name == "Assam"
    assert form.cleaned_data["by_name"].pk == rows["uji"].pk
    assert [f.name for f in form.cleaned_data["flavours"]] == ["grassy", "malty"]  # the queryset's order, as Django's QuerySet


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


async def test_a_required_field_with_an_initial_value_has_no_empty_option(rows):
    class Initial(forms.Form):
        region = forms.ModelChoiceField(Region.objects.order_by("name"), initial=rows["uji"])

    form = Initial()
    await form.load_choices()
    html = str(form["region"])
    assert "---------" not in html
    assert f'<option value="{rows["uji"].pk}" selected>Uji</option>' in html  # an instance as initial is drawn as its key


async def test_an_instance_given_as_the_value_is_its_row(rows):
    form = PickForm({"region": rows["uji"], "flavours": [rows["malty"]]})
    assert await form.is_valid(), form.errors
    assert form.cleaned_data["region"].pk == rows["uji"].pk
    assert [f.pk for f in form.cleaned_data["flavours"]] == [rows["malty"].pk]


async def test_the_invalid_choice_error_carries_the_value_for_custom_messages(rows):
    class Custom(forms.Form):
        region = forms.ModelChoiceField(Region.objects.all(), error_messages={"invalid_choice": "No region %(value)s."})

    form = Custom({"region": "424242"})
    assert not await form.is_valid()
    assert form.errors == {"region": ["No region 424242."]}
    assert form.errors.get_json_data() == {"region": [{"message": "No region 424242.", "code": "invalid_choice"}]}


async def test_a_null_character_is_django_s_error_not_a_database_error(rows):
    form = PickForm({"region": str(rows["uji"].pk), "by_name": "Uji\x00", "flavours": ["1\x00"]})
    assert not await form.is_valid()
    assert form.errors == {"by_name": ["Null characters are not allowed."], "flavours": ["Null characters are not allowed."]}
    assert form.has_error("by_name", "null_characters_not_allowed")


async def test_multiple_validators_see_the_keys_sent_as_django_s(rows):
    seen = []

    class Limited(forms.Form):
        flavours = forms.ModelMultipleChoiceField(Flavour.objects.all(), validators=[seen.append])

    form = Limited({"flavours": [str(rows["malty"].pk), str(rows["malty"].pk)]})
    assert await form.is_valid(), form.errors
    assert seen == [[str(rows["malty"].pk), str(rows["malty"].pk)]]
    assert [f.name for f in form.cleaned_data["flavours"]] == ["malty"]  # once


async def test_has_changed_compares_keys_with_initial_rows(rows):
    same = PickForm({"region": str(rows["uji"].pk), "flavours": [str(rows["malty"].pk)]}, initial={"region": rows["uji"], "flavours": [rows["malty"]]})
    assert same.changed_data == [] and not same.has_changed()
    other = PickForm({"region": str(rows["assam"].pk), "flavours": []}, initial={"region": rows["uji"], "flavours": [rows["malty"]]})
    assert other.changed_data == ["region", "flavours"]


async def test_render_loads_the_options_of_the_forms_it_draws(rows, db, tmp_path):
    (tmp_path / "leaf.html").write_text("<form>{{ form }}</form>")
    app = HyperApp(database="sqlite:///:memory:")
    _connection.set_default_database(db)  # the app made its own the default; the rows are in this one
    app.templates = Templates(tmp_path)

    @app.route("/leaves/new", methods=["GET", "POST"])
    async def new_leaf(request):
        form = LeafForm(await request.form() if request.method == "POST" else None)
        if request.method == "POST" and await form.is_valid():
            form.add_error("name", "Taken after all.")  # e.g. a save that failed: drawn again
        return await render(request, "leaf.html", {"form": form})

    async with TestClient(app) as client:
        page = await client.get("/leaves/new")
        assert page.status_code == 200 and ">Uji</option>" in page.text and ">malty</option>" in page.text
        again = await client.post("/leaves/new", data={"name": "Sencha", "region_id": str(rows["uji"].pk)})
        assert again.status_code == 200 and "Taken after all." in again.text
        assert f'<option value="{rows["uji"].pk}" selected>Uji</option>' in again.text


async def test_a_formset_s_forms_share_one_query_per_field(rows, db):
    counted = CountingDatabase(db)
    _connection.set_default_database(counted)
    PickFormSet = forms.formset_factory(PickForm, extra=3)
    formset = PickFormSet()
    await formset.load_choices()
    assert len(counted.statements) == 3  # region, by_name, flavours: not one per form
    assert all(">Uji</option>" in str(form["region"]) for form in formset)


async def test_options_a_view_gave_the_widget_stay_when_the_rows_load(rows):
    form = PickForm()
    form.fields["region"].widget.choices = [("", "pick one"), (rows["uji"].pk, "Uji (Kyoto)")]
    await form.load_choices()
    assert ">Uji (Kyoto)</option>" in str(form["region"]) and ">Assam<" not in str(form["region"])
