"""ModelForm on both databases (unique checks, save, edit) and formsets."""

from __future__ import annotations

import decimal

import pytest

from hyperdjango import Field, Model, forms
from hyperdjango.database import connection as _connection


class Origin(Model):
    class Meta:
        table = "form_origins"

    country: str = ""


class Tea(Model):
    class Meta:
        table = "form_teas"

    name: str = Field(max_length=40, unique=True)
    price: decimal.Decimal = Field(max_digits=6, decimal_places=2, ge=0)
    notes: str = ""
    organic: bool = False
    origin_id: int | None = Field(foreign_key=Origin, on_delete="SET_NULL", related_name="teas")


class TeaForm(forms.ModelForm):
    class Meta:
        model = Tea
        fields = ["name", "price", "organic"]
        widgets = {"name": forms.TextInput(attrs={"autofocus": True})}


@pytest.fixture
async def teas(db):
    previous = _connection._default
    _connection.set_default_database(db)
    await db.drop_tables(Tea, Origin)
    await db.create_tables(Origin, Tea)
    await Tea.objects.create(name="Sencha", price=decimal.Decimal("4.00"))
    yield db
    await db.drop_tables(Tea, Origin)
    _connection._default = previous


def test_fields_come_from_the_model():
    form = TeaForm()
    assert list(form.fields) == ["name", "price", "organic"]
    assert isinstance(form.fields["price"], forms.DecimalField) and form.fields["price"].decimal_places == 2
    assert form.fields["name"].max_length == 40 and "autofocus" in str(form["name"])
    assert form.fields["organic"].required is False


def test_meta_needs_fields_or_exclude():
    with pytest.raises(TypeError, match="needs `fields`"):

        class Bad(forms.ModelForm):
            class Meta:
                model = Tea


async def test_save_creates_a_row(teas):
    form = TeaForm({"name": "Gyokuro", "price": "9.50", "organic": "on"})
    assert await form.is_valid(), form.errors
    tea = await form.save()
    assert tea.pk is not None
    stored = await Tea.objects.get(name="Gyokuro")
    assert (stored.price, stored.organic) == (decimal.Decimal("9.50"), True)


async def test_a_duplicate_unique_value_is_a_field_error(teas):
    form = TeaForm({"name": "Sencha", "price": "1"})
    assert not await form.is_valid()
    assert form.errors == {"name": ["Tea with this Name already exists."]}
    with pytest.raises(ValueError, match="could not be created"):
        await form.save()


async def test_editing_an_instance_keeps_its_own_unique_value(teas):
    tea = await Tea.objects.get(name="Sencha")
    form = TeaForm({"name": "Sencha", "price": "5.25"}, instance=tea)
    assert form["price"].value() == "5.25"
    assert await form.is_valid(), form.errors
    await form.save()
    assert (await Tea.objects.get(pk=tea.pk)).price == decimal.Decimal("5.25")


class TeaOriginForm(forms.ModelForm):
    class Meta:
        model = Tea
        fields = ["name", "price", "origin_id"]


async def test_a_foreign_key_to_a_missing_row_is_a_field_error_not_a_500(teas):
    japan = await Origin.objects.create(country="Japan")
    form = TeaOriginForm({"name": "Bancha", "price": "2", "origin_id": str(japan.pk + 100)})
    assert not await form.is_valid()
    assert form.errors == {"origin_id": ["Select a valid choice. That choice is not one of the available choices."]}
    form = TeaOriginForm({"name": "Bancha", "price": "2", "origin_id": str(japan.pk)})
    assert await form.is_valid(), form.errors
    assert (await form.save()).origin_id == japan.pk
    assert TeaOriginForm().fields["origin_id"].required is False  # NULL allowed


def test_an_instance_gives_the_initial_values():
    form = TeaForm(instance=Tea(name="Matcha", price=decimal.Decimal("7")))
    assert 'value="Matcha"' in str(form["name"])


class LineForm(forms.Form):
    product = forms.CharField()
    quantity = forms.IntegerField(min_value=1)


LineFormSet = forms.formset_factory(LineForm, extra=2, max_num=3, validate_max=True, can_delete=True)


def management(total, initial=0):
    return {"form-TOTAL_FORMS": str(total), "form-INITIAL_FORMS": str(initial)}


async def test_a_formset_validates_each_row_and_skips_empty_extras():
    data = {**management(3), "form-0-product": "tea", "form-0-quantity": "2", "form-1-product": "pot", "form-1-quantity": "0"}
    formset = LineFormSet(data)
    assert not await formset.is_valid()
    assert formset.errors == [{}, {"quantity": ["Ensure this value is greater than or equal to 1."]}, {}]
    data["form-1-quantity"] = "1"
    formset = LineFormSet(data)
    assert await formset.is_valid()
    assert formset.cleaned_data == [{"product": "tea", "quantity": 2, "DELETE": False}, {"product": "pot", "quantity": 1, "DELETE": False}]


async def test_a_formset_without_its_management_form_is_invalid():
    formset = LineFormSet({"form-0-product": "tea"})
    assert not await formset.is_valid()
    assert formset.non_form_errors() == ["ManagementForm data is missing or has been tampered with."]


async def test_a_formset_claiming_too_many_forms_is_capped():
    formset = LineFormSet(management(10**9))
    assert len(formset) == LineFormSet.absolute_max
    assert not await formset.is_valid()
    assert formset.non_form_errors() == ["Please submit at most 3 forms."]


async def test_deleted_rows_are_skipped():
    data = {**management(1), "form-0-product": "tea", "form-0-quantity": "x", "form-0-DELETE": "on"}
    formset = LineFormSet(data)
    assert await formset.is_valid()
    assert len(formset.deleted_forms) == 1


def test_an_unbound_formset_draws_its_management_form_and_rows():
    html = str(LineFormSet())
    assert 'name="form-TOTAL_FORMS"' in html and 'value="2"' in html and 'name="form-1-product"' in html
