"""``ModelForm``: a form built from a model's fields, with the database's unique
checks in ``await form.is_valid()`` and ``await form.save()``."""

from __future__ import annotations

from typing import Any

from . import fields as f
from . import widgets as w
from .errors import ValidationError
from .forms import DeclarativeFieldsMetaclass, Form


def form_field_for(model_field: Any) -> f.Field | None:
    """The form field for an ORM field; None for fields a form does not edit
    (database-generated keys, ``auto_now``/``auto_now_add`` datetimes)."""
    if model_field.auto or model_field.auto_now or model_field.auto_now_add:
        return None
    required = not model_field.null and not model_field.has_default()
    label = model_field.relation_name or model_field.name
    options: dict[str, Any] = {"required": required, "label": label.replace("_", " ").capitalize()}
    if model_field.has_default() and model_field.default_factory is None:
        options["initial"] = model_field.default
    if model_field.choices:
        return f.ChoiceField(choices=list(model_field.choices), **options)
    kind = type(model_field).__name__
    if kind == "IntegerField":
        return f.IntegerField(min_value=model_field.ge, max_value=model_field.le, **options)
    if kind == "FloatField":
        return f.FloatField(min_value=model_field.ge, max_value=model_field.le, **options)
    if kind == "DecimalField":
        return f.DecimalField(
            max_digits=model_field.max_digits,
            decimal_places=model_field.decimal_places,
            min_value=model_field.ge,
            max_value=model_field.le,
            **options,
        )
    if kind == "BooleanField":
        return f.BooleanField(**{**options, "required": False})
    if kind == "DateTimeField":
        return f.DateTimeField(**options)
    if kind == "DateField":
        return f.DateField(**options)
    if kind == "TimeField":
        return f.TimeField(**options)
    if kind == "JSONField":
        return f.JSONField(**options)
    widget = w.TextInput if model_field.max_length else w.Textarea
    return f.CharField(max_length=model_field.max_length, min_length=model_field.min_length, widget=widget, **options)


class ModelFormMetaclass(DeclarativeFieldsMetaclass):
    """Adds the model's fields (``Meta.fields``/``Meta.exclude``, ``Meta.widgets``,
    ``Meta.labels``, ``Meta.help_texts``) before the declared ones."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> type:
        cls: Any = super().__new__(mcs, name, bases, attrs)  # a form class: declared_fields is set by the parent metaclass
        meta = getattr(cls, "Meta", None)
        model = getattr(meta, "model", None)
        if model is None:
            return cls
        wanted = getattr(meta, "fields", None)
        exclude = set(getattr(meta, "exclude", ()))
        if wanted is None and not exclude:
            raise TypeError(f"{name}.Meta needs `fields` (a list, or '__all__') or `exclude`")
        widgets = getattr(meta, "widgets", {})
        labels = getattr(meta, "labels", {})
        help_texts = getattr(meta, "help_texts", {})
        by_name = {mf.name: mf for mf in model._meta.fields}
        names = [n for n in by_name if n not in exclude] if wanted in (None, "__all__") else list(wanted)
        generated: dict[str, f.Field] = {}
        for field_name in names:
            if field_name not in by_name:
                raise TypeError(f"{name}.Meta.fields names {field_name!r}, which {model.__name__} does not have")
            if field_name in cls.declared_fields or by_name[field_name].primary_key:
                continue
            form_field = form_field_for(by_name[field_name])
            if form_field is None:
                continue
            if field_name in widgets:
                widget = widgets[field_name]
                form_field.widget = widget() if isinstance(widget, type) else widget
            form_field.label = labels.get(field_name, form_field.label)
            form_field.help_text = help_texts.get(field_name, form_field.help_text)
            generated[field_name] = form_field
        cls.base_fields = {**generated, **cls.declared_fields}
        cls._model_fields = by_name
        return cls


class ModelForm(Form, metaclass=ModelFormMetaclass):
    """A form for a model: ``class Meta: model = Product; fields = ["name", "price"]``.

    ``ProductForm(data, instance=product)`` edits a row (its values are the initial
    ones); ``await form.is_valid()`` also checks against the database that unique
    fields do not repeat and foreign keys name existing rows; ``await form.save()``
    saves and returns the instance.
    """

    _model_fields: dict[str, Any]

    def __init__(self, data: Any = None, files: Any = None, *, instance: Any = None, **options: Any) -> None:
        model = self.Meta.model  # type: ignore[attr-defined]
        self.instance = instance if instance is not None else model()
        initial = {name: self.instance.__dict__[name] for name in self.base_fields if name in self.instance.__dict__}
        initial.update(options.pop("initial", None) or {})
        super().__init__(data, files, initial=initial, **options)

    async def _post_clean(self) -> None:
        """The checks that ask the database: a foreign key must name an existing row
        (else the save would fail on the constraint: a 500 for the client's mistake),
        and a unique field must not repeat another row's value."""
        model = type(self.instance)
        for name, value in list(self.cleaned_data.items()):
            model_field = self._model_fields.get(name)
            if model_field is None or value is None:
                continue
            if model_field.foreign_key is not None and not await model_field.related_model.objects.filter(pk=value).exists():
                message = "Select a valid choice. That choice is not one of the available choices."
                self.add_error(name, ValidationError(message, code="invalid_choice"))
                continue
            if not model_field.unique or model_field.primary_key:
                continue
            rows = model.objects.filter(**{name: value})
            if self.instance.pk is not None:
                rows = rows.exclude(pk=self.instance.pk)
            if await rows.exists():
                label = self.fields[name].label or name
                message = f"{model.__name__} with this {label} already exists."
                self.add_error(name, ValidationError(message, code="unique"))

    async def save(self, commit: bool = True) -> Any:
        """Copies the cleaned values onto the instance and (with ``commit``) saves it."""
        if self._errors is None:
            await self.is_valid()
        if self._errors:
            verb = "changed" if self.instance.pk is not None else "created"
            raise ValueError(f"The {type(self.instance).__name__} could not be {verb} because the data didn't validate.")
        for name, value in self.cleaned_data.items():
            if name in self._model_fields:
                setattr(self.instance, name, value)
        if commit:
            await self.instance.save()
        return self.instance
