"""``Form``: declared fields, binding to submitted data, validation in Django's
order (each field's ``clean``, then ``clean_<field>``, then ``clean``), async
validators, and rendering through overridable templates."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from .errors import NON_FIELD_ERRORS, ErrorDict, ErrorList, ValidationError
from .fields import Field, FileField, run_sync


class DeclarativeFieldsMetaclass(type):
    """Collects the declared :class:`Field` attributes (inherited ones first) into ``base_fields``."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> type:
        declared = sorted(((k, v) for k, v in attrs.items() if isinstance(v, Field)), key=lambda kv: kv[1].creation_counter)
        for key, _ in declared:
            attrs.pop(key)
        cls = super().__new__(mcs, name, bases, attrs)
        fields: dict[str, Field] = {}
        for base in reversed(cls.__mro__[1:]):
            fields.update(getattr(base, "declared_fields", {}))
        fields.update(declared)
        cls.declared_fields = fields  # type: ignore[attr-defined]
        cls.base_fields = dict(fields)  # type: ignore[attr-defined]
        return cls


class BoundField:
    """A field together with the form's data: ``form["name"]``. In a template,
    ``{{ form.name }}`` is its widget and ``form.name.errors``, ``.label_tag``,
    ``.value``, ``.help_text`` its parts."""

    def __init__(self, form: Form, field: Field, name: str) -> None:
        self.form, self.field, self.name = form, field, name
        self.html_name = form.add_prefix(name)
        self.label = field.label if field.label is not None else name.replace("_", " ").capitalize()
        self.help_text = field.help_text

    @property
    def id_for_label(self) -> str:
        return f"id_{self.html_name}"

    @property
    def errors(self) -> ErrorList:
        return self.form.errors.get(self.name, ErrorList()) if self.form.is_bound else ErrorList()

    @property
    def is_hidden(self) -> bool:
        return self.field.widget.is_hidden

    def data(self) -> Any:
        return self.field.widget.value_from_data(self.form.data, self.form.files, self.html_name)

    def value(self) -> Any:
        """What the widget shows: the submitted value if bound, else the initial one
        (as the field prepares it: a row's key for a model choice field)."""
        if self.form.is_bound and not self.field.disabled:
            return self.field.prepare_value(self.data())
        return self.field.prepare_value(self.form.get_initial(self.name))

    def widget(self) -> Markup:
        attrs = {"id": self.id_for_label, **self.field.widget_attrs()}
        if self.errors:
            attrs["aria-invalid"] = "true"
        return self.field.widget.render(self.html_name, self.value(), attrs)

    def label_tag(self) -> Markup:
        return Markup('<label for="{}">{}:</label>').format(self.id_for_label, self.label)

    def __html__(self) -> str:
        return self.widget()

    __str__ = __html__

    def __template__(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "html_name": self.html_name,
            "label": self.label,
            "label_tag": self.label_tag(),
            "id_for_label": self.id_for_label,
            "value": self.value(),
            "errors": list(self.errors),
            "help_text": self.help_text,
            "is_hidden": self.is_hidden,
            "widget": self.widget(),
        }


class Form(metaclass=DeclarativeFieldsMetaclass):
    """A set of fields to show and to validate.

    ``Form(data=await request.form(), initial=..., prefix=...)``; then
    ``await form.is_valid()``, ``form.cleaned_data`` and ``form.errors``
    (``{"name": ["This field is required."], "__all__": [...]}``). In a template,
    ``{{ form }}`` draws it with ``forms/div.html`` (``form.as_p()`` with
    ``forms/p.html``); an app's templates folder can override both. Its parts
    are there too: ``form.name`` (a field), ``form.visible_fields``,
    ``form.hidden_fields``, ``form.errors``, ``form.non_field_errors``.
    """

    declared_fields: dict[str, Field]
    base_fields: dict[str, Field]
    template_name_div = "forms/div.html"
    template_name_p = "forms/p.html"
    #: The Templates that draw forms; the built-in ones unless set (``Form.renderer = app.templates``).
    renderer: Any = None

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        *,
        initial: Mapping[str, Any] | None = None,
        prefix: str | None = None,
        renderer: Any = None,
    ) -> None:
        self.is_bound = data is not None or files is not None
        self.data = data if data is not None else {}
        self.files = files
        self.initial = dict(initial or {})
        self.prefix = prefix
        if renderer is not None:
            self.renderer = renderer
        self.fields: dict[str, Field] = {name: _copy(field) for name, field in self.base_fields.items()}
        self._errors: ErrorDict | None = None
        self.cleaned_data: dict[str, Any] = {}

    # -- names and values ---------------------------------------------------------------

    def add_prefix(self, name: str) -> str:
        return f"{self.prefix}-{name}" if self.prefix else name

    def get_initial(self, name: str) -> Any:
        value = self.initial.get(name, self.fields[name].initial)
        return value() if callable(value) else value

    def __getitem__(self, name: str) -> BoundField:
        return BoundField(self, self.fields[name], name)

    def __iter__(self):
        return (self[name] for name in self.fields)

    # -- validation ---------------------------------------------------------------------

    @property
    def errors(self) -> ErrorDict:
        """The errors, validating with the sync validators first if needed. Forms with
        async validators must be checked with ``await form.is_valid()`` first."""
        if self._errors is None:
            self.full_clean()
        return self._errors  # type: ignore[return-value]

    def add_error(self, field: str | None, error: ValidationError | str | list | dict) -> None:
        """Records ``error`` for ``field`` (None: the whole form) and drops the field from
        ``cleaned_data``, as Django's ``add_error``: from ``clean()`` or from a view after
        ``is_valid()`` (a failed save, say). ``error`` is a message, a ValidationError,
        a list of them, or a dict of field name to errors (``field`` must then be None).
        A bound form not validated yet is validated first; a name the form does not have
        is a ValueError.

        >>> from hyperdjango.forms import IntegerField
        >>> class Order(Form):
        ...     quantity = IntegerField()
        >>> order = Order({"quantity": "3"})
        >>> order.add_error("quantity", ValidationError("Only 2 left.", code="stock"))
        >>> order.errors, order.has_error("quantity", "stock"), order.cleaned_data
        ({'quantity': ['Only 2 left.']}, True, {})
        """
        if not isinstance(error, ValidationError):
            error = ValidationError(error)
        if error.error_dict is not None:
            if field is not None:
                raise TypeError("The argument `field` must be `None` when the `error` argument contains errors for multiple fields.")
            targets = error.error_dict
        else:
            targets = {field or NON_FIELD_ERRORS: error.error_list}
        errors = self.errors  # validates a bound form first, as Django does
        for name, error_list in targets.items():
            if name != NON_FIELD_ERRORS and name not in self.fields:
                raise ValueError(f"'{type(self).__name__}' has no field named '{name}'.")
            for e in error_list:
                errors.setdefault(name, ErrorList()).append_error(e)
            self.cleaned_data.pop(name, None)

    def has_error(self, field: str, code: str | None = None) -> bool:
        """Whether ``field`` (``"__all__"``: the form) has an error (of ``code``, if given)."""
        errors = self.errors.get(field)
        return errors is not None and (code is None or any(e.code == code for e in errors.data))

    def full_clean(self) -> None:
        """Validates now; every validator and hook must be sync (else use ``is_valid``)."""
        run_sync(self._full_clean(), "a validator or clean hook")

    async def is_valid(self) -> bool:
        """Validates (once) and answers whether the form has no errors. Async
        validators, async ``clean_<name>()``/``clean()`` and ModelForm's unique
        checks, which need the database, run here."""
        if self._errors is None:
            await self._full_clean()
            if self._errors:
                await self.load_choices()  # an invalid form is drawn again, with its options
        return self.is_bound and not self._errors

    async def load_choices(self) -> None:
        """Loads the options of the fields whose choices are rows (ModelChoiceField),
        once; needed before drawing such a form (``is_valid()`` does it when the
        form is invalid), since a template never queries."""
        for field in self.fields.values():
            load = getattr(field, "load_choices", None)
            if load is not None:
                await load()

    async def _full_clean(self) -> None:
        self._errors = ErrorDict()
        self.cleaned_data = {}
        if not self.is_bound:
            return
        for name, field in self.fields.items():
            raw = self.get_initial(name) if field.disabled else self[name].data()
            try:
                self.cleaned_data[name] = await field.aclean(raw)
                hook = getattr(self, f"clean_{name}", None)
                if hook is not None:
                    self.cleaned_data[name] = await _maybe_await(hook())
            except ValidationError as e:
                self.add_error(name, e)
        try:
            cleaned = await _maybe_await(self.clean())
            if cleaned is not None:
                self.cleaned_data = cleaned
        except ValidationError as e:
            self.add_error(None, e)
        await self._post_clean()

    async def _post_clean(self) -> None:
        """Validation after ``clean()`` (ModelForm's unique checks)."""

    def clean(self) -> Any:
        """Override for checks across fields; raise ValidationError or call add_error."""
        return self.cleaned_data

    def non_field_errors(self) -> ErrorList:
        return self.errors.get(NON_FIELD_ERRORS, ErrorList())

    @property
    def changed_data(self) -> list[str]:
        """The names of the fields whose submitted value differs from the initial one
        (each field's ``has_changed``, as Django compares them)."""
        return [name for name, field in self.fields.items() if field.has_changed(self.get_initial(name), self[name].data())]

    def has_changed(self) -> bool:
        """Whether any submitted value differs from the initial one."""
        return bool(self.changed_data)

    @property
    def is_multipart(self) -> bool:
        return any(isinstance(f, FileField) or f.widget.needs_multipart_form for f in self.fields.values())

    # -- rendering ----------------------------------------------------------------------

    def _render(self, template_name: str) -> Markup:
        from ..templates import Templates

        renderer = self.renderer
        if renderer is None:
            renderer = Form.renderer = Templates(None)
        return Markup(renderer.render_to_string(template_name, {"form": self._parts()}))

    def _parts(self) -> dict[str, Any]:
        fields = list(self)
        return {
            "fields": [f.__template__() for f in fields if not f.is_hidden],
            "hidden_fields": [f.widget() for f in fields if f.is_hidden],
            "non_field_errors": list(self.non_field_errors()) if self.is_bound else [],
            "hidden_errors": [f"({f.label}) {m}" for f in fields if f.is_hidden for m in f.errors],
        }

    def as_div(self) -> Markup:
        """The form's fields, each in a ``<div>`` (template ``forms/div.html``)."""
        return self._render(self.template_name_div)

    def as_p(self) -> Markup:
        """The form's fields, each in a ``<p>`` (template ``forms/p.html``)."""
        return self._render(self.template_name_p)

    def __html__(self) -> str:
        return self.as_div()

    __str__ = __html__

    def __template__(self) -> dict[str, Any]:
        parts: dict[str, Any] = {name: self[name] for name in self.fields}
        parts.update(
            visible_fields=[field for field in self if not field.is_hidden],
            hidden_fields=[field for field in self if field.is_hidden],
            errors=dict(self.errors) if self.is_bound else {},
            non_field_errors=list(self.non_field_errors()) if self.is_bound else [],
            is_multipart=self.is_multipart,
            prefix=self.prefix,
        )
        return parts


def _copy(field: Field) -> Field:
    import copy

    clone = copy.copy(field)
    clone.widget = copy.copy(field.widget)
    clone.error_messages = dict(field.error_messages)
    return clone


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value
