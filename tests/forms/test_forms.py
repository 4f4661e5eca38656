"""Forms: fields convert and validate with Django's messages, hooks run in Django's
order, errors have Django's shape, prefixes/initial/rendering, async validators."""

from __future__ import annotations

import asyncio
import datetime
import decimal

import pytest

from hyperdjango import HyperApp, Response
from hyperdjango import forms
from hyperdjango.templates import Templates
from hyperdjango.testing import TestClient


class ProductForm(forms.Form):
    name = forms.CharField(max_length=20)
    price = forms.DecimalField(max_digits=6, decimal_places=2, min_value=0)
    email = forms.EmailField(required=False)
    kind = forms.ChoiceField(choices=[("tea", "Tea"), ("pot", "Teapot")])

    def clean_name(self):
        return self.cleaned_data["name"].title()

    def clean(self):
        data = self.cleaned_data
        if data.get("kind") == "pot" and data.get("price", 0) < 10:
            raise forms.ValidationError("A teapot costs at least 10.", code="cheap")
        return data


def test_valid_data_is_cleaned_to_python_values():
    form = ProductForm({"name": " green tea ", "price": "4.50", "kind": "tea"})
    assert form.errors == {}
    assert form.cleaned_data == {"name": "Green Tea", "price": decimal.Decimal("4.50"), "email": "", "kind": "tea"}


def test_errors_have_djangos_shape_and_messages():
    form = ProductForm({"name": "", "price": "1.234", "email": "x", "kind": "cup"})
    assert form.errors == {
        "name": ["This field is required."],
        "price": ["Ensure that there are no more than 2 decimal places."],
        "email": ["Enter a valid email address."],
        "kind": ["Select a valid choice. cup is not one of the available choices."],
    }
    assert form.errors.get_json_data()["name"] == [{"message": "This field is required.", "code": "required"}]


def test_clean_errors_are_non_field_errors():
    form = ProductForm({"name": "pot", "price": "5", "kind": "pot"})
    assert form.non_field_errors() == ["A teapot costs at least 10."]
    assert form.errors["__all__"] == ["A teapot costs at least 10."]


def test_an_unbound_form_is_not_valid_and_has_no_errors():
    assert ProductForm().errors == {}
    assert ProductForm().is_bound is False


async def test_is_valid_awaits_async_validators():
    taken = {"tea"}

    async def not_taken(value):
        await asyncio.sleep(0)  # as a database lookup would
        if value in taken:
            raise forms.ValidationError("%(value)s is taken.", code="taken", params={"value": value})

    class Signup(forms.Form):
        username = forms.SlugField(validators=[not_taken])

    assert not await Signup({"username": "tea"}).is_valid()
    form = Signup({"username": "tea"})
    await form.is_valid()
    assert form.errors == {"username": ["tea is taken."]}
    assert await Signup({"username": "coffee"}).is_valid()
    with pytest.raises(TypeError, match="await form.is_valid"):
        Signup({"username": "x"}).errors


@pytest.mark.parametrize(
    ("field", "raw", "value"),
    [
        (forms.IntegerField(), "42", 42),
        (forms.FloatField(), "1.5", 1.5),
        (forms.BooleanField(required=False), "on", True),
        (forms.DateField(), "2026-03-05", datetime.date(2026, 3, 5)),
        (forms.DateTimeField(), "2026-03-05T10:30", datetime.datetime(2026, 3, 5, 10, 30)),
        (forms.TimeField(), "10:30", datetime.time(10, 30)),
        (forms.URLField(), "https://example.com/a", "https://example.com/a"),
        (forms.JSONField(), '{"a": [1]}', {"a": [1]}),
        (forms.MultipleChoiceField(choices=["a", "b"]), ["a", "b"], ["a", "b"]),
    ],
)
def test_fields_convert(field, raw, value):
    assert field.clean(raw) == value


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        (forms.IntegerField(), "4x", "Enter a whole number."),
        (forms.IntegerField(max_value=5), "6", "Ensure this value is less than or equal to 5."),
        (forms.FloatField(), "nan", "Enter a number."),
        (forms.DecimalField(), "Infinity", "Enter a number."),
        (forms.DateField(), "2026-02-30", "Enter a valid date."),
        (forms.CharField(min_length=3), "ab", "Ensure this value has at least 3 characters (it has 2)."),
        (forms.JSONField(), "{", "Enter a valid JSON."),
        (forms.BooleanField(), "", "This field is required."),
    ],
)
def test_fields_reject_with_djangos_message(field, raw, message):
    with pytest.raises(forms.ValidationError) as info:
        field.clean(raw)
    assert info.value.messages == [message]


def test_prefix_and_initial():
    form = ProductForm(initial={"name": "Oolong"}, prefix="p")
    html = str(form)
    assert 'name="p-name"' in html and 'value="Oolong"' in html and 'id="id_p-name"' in html
    bound = ProductForm({"p-name": "x", "p-price": "1", "p-kind": "tea"}, prefix="p")
    assert bound.errors == {} and bound.cleaned_data["name"] == "X"


def test_rendering_escapes_values_and_shows_errors():
    form = ProductForm({"name": '"><script>', "price": "-1", "kind": "tea"})
    html = form.as_div()
    assert "<script>" not in html and "&#34;&gt;&lt;script&gt;" in html
    assert '<ul class="errorlist"><li>Ensure this value is greater than or equal to 0.</li></ul>' in html
    assert "<p>" in form.as_p()


def test_the_form_templates_can_be_overridden(tmp_path):
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "div.html").write_text("{% for f in form.fields %}[{{ f.name }}]{% endfor %}")
    form = ProductForm(renderer=Templates(tmp_path))
    assert form.as_div() == "[name][price][email][kind]"


def test_a_form_in_a_template_draws_itself_and_offers_its_fields(tmp_path):
    (tmp_path / "page.html").write_text(
        "<form>{{ form }}</form>|{{ form.name.errors|join(',') }}|{{ form.name.label }}"
        "|{% for f in form.visible_fields %}{{ f.name }}{% endfor %}"
    )
    form = ProductForm({"name": "", "price": "1", "kind": "tea"})
    out = Templates(tmp_path).render_to_string("page.html", {"form": form})
    assert out.startswith("<form>\n<div><label")
    assert out.endswith("|This field is required.|Name|namepriceemailkind")


def test_a_form_posted_through_http_with_a_file(tmp_path):
    class Upload(forms.Form):
        title = forms.CharField()
        attachment = forms.FileField()

    app = HyperApp()

    @app.post("/upload")
    async def upload(request):
        form = Upload(await request.form())
        if not await form.is_valid():
            return Response.json(form.errors, status=400)
        return {"title": form.cleaned_data["title"], "size": form.cleaned_data["attachment"].size}

    with TestClient(app) as client:
        ok = client.post("/upload", data={"title": "t"}, files={"attachment": ("a.txt", b"hello")})
        assert ok.json() == {"title": "t", "size": 5}
        bad = client.post("/upload", data={"title": "t"}, files={"attachment": ("a.txt", b"")})
        assert bad.status_code == 400 and bad.json() == {"attachment": ["The submitted file is empty."]}


def test_add_error_from_a_view_after_validation_drops_the_field_and_invalidates():
    form = ProductForm({"name": "tea", "price": "4", "kind": "tea"})
    assert form.errors == {}
    form.add_error("price", forms.ValidationError("Out of stock.", code="stock"))
    assert form.errors == {"price": ["Out of stock."]}
    assert "price" not in form.cleaned_data and form.has_error("price") and form.has_error("price", "stock")
    assert not form.has_error("price", "other") and not form.has_error("name")
    assert not asyncio.run(form.is_valid())


def test_add_error_validates_a_bound_form_first():
    form = ProductForm({"name": "", "price": "4", "kind": "tea"})
    form.add_error(None, "Closed today.")
    assert form.errors == {"name": ["This field is required."], "__all__": ["Closed today."]}


def test_add_error_with_a_dict_names_its_fields_and_refuses_a_field_argument():
    form = ProductForm({"name": "tea", "price": "4", "kind": "tea"})
    form.add_error(None, {"name": "Taken.", "kind": ["Gone.", "Really."]})
    assert form.errors == {"name": ["Taken."], "kind": ["Gone.", "Really."]}
    with pytest.raises(TypeError, match="The argument `field` must be `None`"):
        form.add_error("name", {"kind": "x"})


def test_add_error_for_a_field_the_form_does_not_have_is_a_value_error():
    form = ProductForm({"name": "tea", "price": "4", "kind": "tea"})
    with pytest.raises(ValueError, match="'ProductForm' has no field named 'colour'."):
        form.add_error("colour", "Red?")


def test_changed_data_compares_as_the_fields_do():
    form = ProductForm({"name": "tea", "price": "4.00", "kind": "tea"}, initial={"name": "tea", "price": decimal.Decimal("4")})
    assert form.changed_data == ["kind"]
    assert ProductForm({"price": "x"}, initial={"price": 1}).changed_data == ["price"]  # does not convert: changed
