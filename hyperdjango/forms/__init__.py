"""Forms: declared fields, validation with Django's hooks and error shape, async
validators for the database, ModelForm and formsets; drawn through templates.

>>> class Contact(Form):
...     email = EmailField()
...     age = IntegerField(min_value=18, required=False)
>>> form = Contact({"email": "nope", "age": "12"})
>>> form.errors
{'email': ['Enter a valid email address.'], 'age': ['Ensure this value is greater than or equal to 18.']}
"""

from .errors import NON_FIELD_ERRORS, ErrorDict, ErrorList, ValidationError
from .fields import (
    BooleanField,
    CharField,
    ChoiceField,
    DateField,
    DateTimeField,
    DecimalField,
    EmailField,
    Field,
    FileField,
    FloatField,
    IntegerField,
    JSONField,
    MultipleChoiceField,
    SlugField,
    TimeField,
    URLField,
)
from .forms import BoundField, Form
from .formsets import BaseFormSet, formset_factory
from .models import ModelChoiceField, ModelForm, ModelMultipleChoiceField
from .widgets import (
    CheckboxInput,
    DateInput,
    DateTimeInput,
    EmailInput,
    FileInput,
    HiddenInput,
    NumberInput,
    PasswordInput,
    Select,
    SelectMultiple,
    Textarea,
    TextInput,
    TimeInput,
    URLInput,
    Widget,
)

__all__ = [
    "NON_FIELD_ERRORS", "BaseFormSet", "BooleanField", "BoundField", "CharField", "CheckboxInput", "ChoiceField",
    "DateField", "DateInput", "DateTimeField", "DateTimeInput", "DecimalField", "EmailField", "EmailInput",
    "ErrorDict", "ErrorList", "Field", "FileField", "FileInput", "FloatField", "Form", "HiddenInput",
    "IntegerField", "JSONField", "ModelChoiceField", "ModelForm", "ModelMultipleChoiceField", "MultipleChoiceField", "NumberInput", "PasswordInput", "Select",
    "SelectMultiple", "SlugField", "TextInput", "Textarea", "TimeField", "TimeInput", "URLField", "URLInput",
    "ValidationError", "Widget", "formset_factory",
]
