"""``ModelForm``: a form built from a model's fields, with the database's unique
checks in ``await form.is_valid()`` and ``await form.save()``; and the fields
whose choices are rows (``ModelChoiceField``, ``ModelMultipleChoiceField``),
loaded once, asynchronously, before the form is drawn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import fields as f
from . import widgets as w
from .errors import ValidationError
from .forms import DeclarativeFieldsMetaclass, Form


class _ChoicesNotLoaded:
    """A model choice field's choices before ``await form.load_choices()``: drawing
    the form then would have to query inside the template, which never happens."""

    def __init__(self, field_label: str) -> None:
        self.field_label = field_label

    def __iter__(self) -> Iterator[Any]:
        raise RuntimeError(
            f"the choices of {self.field_label} are rows not loaded yet: "
            "`await form.load_choices()` (or `await form.is_valid()`) before drawing the form"
        )


class ModelChoiceField(f.ChoiceField):
    """One row of ``queryset``: the cleaned value is the model instance (or None).

    ``to_field_name`` names the field whose value identifies a row in the form
    (the key by default); ``empty_label`` is the first, empty option (None: no
    such option; a required field with an ``initial`` has none, as in Django).
    The options are the rows, loaded once by ``await form.load_choices()``,
    ``await render(...)`` or an invalid ``await form.is_valid()``; a submitted
    value is looked up in them (or, when they were not loaded, with one query).
    """

    widget = w.Select
    default_error_messages = {
        "invalid_choice": "Select a valid choice. That choice is not one of the available choices.",
        "null_characters_not_allowed": "Null characters are not allowed.",
    }

    def __init__(self, queryset: Any, *, empty_label: str | None = "---------", to_field_name: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.queryset = queryset
        self.empty_label = None if self.required and self.initial is not None else empty_label
        self.to_field_name = to_field_name
        self.rows: list[Any] | None = None
        self.widget.choices = _ChoicesNotLoaded(type(self).__name__)

    def key(self, obj: Any) -> Any:
        """The value that stands for ``obj`` in the form."""
        return getattr(obj, self.to_field_name) if self.to_field_name else obj.pk

    def label_from_instance(self, obj: Any) -> str:
        """An option's text (``str(obj)``); override to show something else."""
        return str(obj)

    def prepare_value(self, value: Any) -> Any:
        """A row (an instance given as ``initial``) is drawn as its key."""
        return self.key(value) if isinstance(value, self.queryset.model) else value

    async def load_choices(self) -> None:
        """Loads the rows (once) and makes them the widget's options."""
        if self.rows is None:
            self.use_rows(list(await self.queryset.all()))

    def use_rows(self, rows: list[Any]) -> None:
        """Makes ``rows`` (the queryset's, loaded already) the options: a formset's
        forms share one query this way."""
        self.rows = rows
        empty = [("", self.empty_label)] if self.empty_label is not None else []
        self.choices = empty + [(self.key(obj), self.label_from_instance(obj)) for obj in rows]
        if isinstance(self.widget.choices, _ChoicesNotLoaded) or not self.widget.choices:
            self.widget.choices = self.choices  # options a view gave the widget itself stay

    async def rows_for(self, values: list[str]) -> dict[str, Any]:
        """The rows whose keys are ``values``, by key as text (in the queryset's order).
        ValueError/TypeError when a value cannot be a key at all."""
        if self.rows is None:
            lookup = f"{self.to_field_name or 'pk'}__in"
            rows = await self.queryset.filter(**{lookup: values})
        else:
            rows = self.rows
        wanted = set(values)
        return {str(self.key(obj)): obj for obj in rows if str(self.key(obj)) in wanted}

    def key_text(self, value: Any) -> str:
        """A submitted value as the text of a key (a row given stands for its own key);
        a NUL character, which no database column takes, is Django's error."""
        text = str(self.prepare_value(value))
        if "\x00" in text:
            raise self.error("null_characters_not_allowed")
        return text

    async def aclean(self, value: Any) -> Any:
        if value in f.EMPTY_VALUES:
            self.validate(None)
            return None
        text = self.key_text(value)
        try:
            found = await self.rows_for([text])
        except (ValueError, TypeError):  # a value the key's type cannot take
            found = {}
        if text not in found:
            raise self.error("invalid_choice", value=value)
        await self.run_validators(found[text])
        return found[text]

    def validate(self, value: Any) -> None:
        f.Field.validate(self, value)  # membership is checked against the rows in aclean

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        return str(self.prepare_value(initial if initial is not None else "")) != str(data if data is not None else "")


class ModelMultipleChoiceField(ModelChoiceField):
    """Rows of ``queryset``: the cleaned value is the list of instances, in the
    queryset's order (Django gives a QuerySet of them; ours is evaluated already)."""

    widget = w.SelectMultiple
    default_error_messages = {
        "invalid_list": "Enter a list of values.",
        "invalid_choice": "Select a valid choice. %(value)s is not one of the available choices.",
        "invalid_pk_value": "“%(pk)s” is not a valid value.",
    }

    def __init__(self, queryset: Any, **options: Any) -> None:
        options.pop("empty_label", None)  # a multiple select has no empty option
        super().__init__(queryset, empty_label=None, **options)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [super(ModelMultipleChoiceField, self).prepare_value(v) for v in value]
        return super().prepare_value(value)

    async def aclean(self, value: Any) -> Any:
        value = self.prepare_value(value)
        if value in f.EMPTY_VALUES:
            if self.required:
                raise self.error("required")
            return []
        if not isinstance(value, (list, tuple)):
            raise self.error("invalid_list")
        values = list(dict.fromkeys(self.key_text(v) for v in value))
        try:
            found = await self.rows_for(values)
        except (ValueError, TypeError):  # one of them cannot be a key at all: say which
            for text in values:
                try:
                    await self.rows_for([text])
                except (ValueError, TypeError):
                    raise self.error("invalid_pk_value", pk=text) from None
            raise
        for text in values:
            if text not in found:
                raise self.error("invalid_choice", value=text)
        await self.run_validators(value)  # on the keys sent, as Django's
        return list(found.values())

    def has_changed(self, initial: Any, data: Any) -> bool:
        return not self.disabled and f.multiple_choices_changed(self.prepare_value(initial), data)


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
    if model_field.foreign_key is not None:
        return ModelChoiceField(model_field.related_model.objects.all(), **options)
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
        many = {relation.name: relation for relation in model._meta.many_to_many}
        every = [*by_name, *many]
        names = [n for n in every if n not in exclude] if wanted in (None, "__all__") else list(wanted)
        generated: dict[str, f.Field] = {}
        for field_name in names:
            if field_name not in by_name and field_name not in many:
                raise TypeError(f"{name}.Meta.fields names {field_name!r}, which {model.__name__} does not have")
            if field_name in cls.declared_fields or (field_name in by_name and by_name[field_name].primary_key):
                continue
            if field_name in many:
                target_fk = many[field_name].target_fk
                if target_fk is None:
                    raise TypeError(f"{name}.Meta.fields names {field_name!r}, whose model is not defined yet: define it before the form")
                form_field: f.Field | None = ModelMultipleChoiceField(
                    target_fk.related_model.objects.all(), required=False, label=field_name.replace("_", " ").capitalize()
                )
            else:
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
        cls._many_to_many = {n: many[n] for n in generated if n in many}
        return cls


class ModelForm(Form, metaclass=ModelFormMetaclass):
    """A form for a model: ``class Meta: model = Product; fields = ["name", "price"]``.

    ``ProductForm(data, instance=product)`` edits a row (its values are the initial
    ones); ``await form.is_valid()`` also checks against the database that unique
    fields do not repeat; ``await form.save()`` saves and returns the instance.
    A foreign key is a :class:`ModelChoiceField` (a ``<select>`` of the related
    rows), a many-to-many relation a :class:`ModelMultipleChoiceField`, whose
    links ``save()`` sets after saving the row (``save(commit=False)`` leaves
    them to ``await form.save_m2m()``). ``await form.load_choices()`` loads the
    rows (and, for an instance, its current links) before the form is drawn.
    """

    _model_fields: dict[str, Any]
    _many_to_many: dict[str, Any]

    def __init__(self, data: Any = None, files: Any = None, *, instance: Any = None, **options: Any) -> None:
        model = self.Meta.model  # type: ignore[attr-defined]
        self.instance = instance if instance is not None else model()
        initial = {name: self.instance.__dict__[name] for name in self.base_fields if name in self.instance.__dict__}
        initial.update(options.pop("initial", None) or {})
        super().__init__(data, files, initial=initial, **options)

    async def load_choices(self) -> None:
        """Loads the rows of the choice fields and, for a saved instance, the rows its
        many-to-many relations link to now (the initial selection)."""
        await super().load_choices()
        if self.instance.pk is None:
            return
        for name in self._many_to_many:
            if name not in self.initial:
                field = self.fields[name]
                assert isinstance(field, ModelMultipleChoiceField)  # generated by the metaclass
                self.initial[name] = [field.key(obj) for obj in await getattr(self.instance, name).all()]

    async def _post_clean(self) -> None:
        """The check that asks the database: a unique field must not repeat another
        row's value (a foreign key's row is checked by its ModelChoiceField)."""
        model = type(self.instance)
        for name, value in list(self.cleaned_data.items()):
            model_field = self._model_fields.get(name)
            if model_field is None or value is None:
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
            model_field = self._model_fields.get(name)
            if model_field is not None:
                if model_field.foreign_key is not None and value is not None:
                    value = value.pk  # the row's key goes in the column
                setattr(self.instance, name, value)
        if commit:
            await self.instance.save()
            await self.save_m2m()
        return self.instance

    async def save_m2m(self) -> None:
        """Sets the many-to-many links from the form (the row must be saved)."""
        for name in self._many_to_many:
            if name in self.cleaned_data:
                await getattr(self.instance, name).set(self.cleaned_data[name])
