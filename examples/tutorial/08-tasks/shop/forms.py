"""The shop's forms: Django's forms, with async validation where the database is asked."""

from hyperdjango import forms

from .models import Category, Product


class ProductForm(forms.ModelForm):
    """A new product. Its fields and their limits come from the model: a name of at most 200
    characters, a price of at least 0 with 2 decimal places, a stock of at least 0."""

    class Meta:
        model = Product
        fields = ["name", "price", "stock", "category_id"]
        labels = {"category_id": "Category"}
        widgets = {"category_id": forms.Select()}

    def clean_name(self):
        """Names are stored without surrounding spaces, and need a letter."""
        name = self.cleaned_data["name"].strip()
        if not any(c.isalpha() for c in name):
            raise forms.ValidationError("A name needs at least one letter.", code="no_letter")
        return name


async def product_form(data=None) -> ProductForm:
    """A ProductForm whose category menu lists the categories, bound to ``data`` if given."""
    form = ProductForm(data)
    shelves = await Category.objects.all()
    form.fields["category_id"].widget.choices = [("", "---------"), *((c.id, c.name) for c in shelves)]
    return form
