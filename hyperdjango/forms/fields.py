"""Form fields: each turns what the browser sent into a Python value, or raises
:class:`ValidationError` with Django's message and code."""

from __future__ import annotations

import datetime
import decimal
import inspect
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import ValidationError
from . import widgets as w

EMPTY_VALUES: tuple[Any, ...] = (None, "", [], (), {})


def run_sync(coroutine: Any, what: str) -> Any:
    """Runs a coroutine that never waits (sync validators only) to its result; one
    that does wait needed the event loop: TypeError saying to use ``await form.is_valid()``."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise TypeError(f"{what} is async (it waits, e.g. for the database): use `await form.is_valid()` first")


class Field:
    """A declared field of a form.

    ``required``, ``label``, ``initial``, ``help_text``, ``widget``, ``validators``
    (callables raising ValidationError, sync or async — async ones run in
    ``await form.is_valid()``), ``disabled`` and ``error_messages`` as in Django.
    """

    #: A Widget class on the class; each field holds an instance of it (or of the one given).
    widget: Any = w.TextInput
    default_error_messages = {"required": "This field is required."}
    creation_counter = 0

    def __init__(
        self,
        *,
        required: bool = True,
        label: str | None = None,
        initial: Any = None,
        help_text: str = "",
        widget: w.Widget | type[w.Widget] | None = None,
        validators: Iterable[Callable[[Any], Any]] = (),
        disabled: bool = False,
        error_messages: dict[str, str] | None = None,
    ) -> None:
        self.required = required
        self.label = label
        self.initial = initial
        self.help_text = help_text
        widget = widget or self.widget
        self.widget = widget() if isinstance(widget, type) else widget
        self.validators = list(validators)
        self.disabled = disabled
        self.error_messages: dict[str, str] = {}
        for cls in reversed(type(self).__mro__):
            self.error_messages.update(getattr(cls, "default_error_messages", {}))
        self.error_messages.update(error_messages or {})
        # Declaration order, for forms that list fields as written.
        Field.creation_counter += 1
        self.creation_counter = Field.creation_counter

    def error(self, code: str, **params: Any) -> ValidationError:
        return ValidationError(self.error_messages[code], code=code, params=params or None)

    def to_python(self, value: Any) -> Any:
        return value

    def prepare_value(self, value: Any) -> Any:
        """The value as the widget draws it (a model choice field draws a row as its key)."""
        return value

    def has_changed(self, initial: Any, data: Any) -> bool:
        """Whether the submitted ``data`` differs from ``initial`` (Django's comparison:
        the data converted, None taken as empty; data that does not convert has changed)."""
        if self.disabled:
            return False
        try:
            data = self.to_python(data)
        except ValidationError:
            return True
        return (initial if initial is not None else "") != (data if data is not None else "")

    def validate(self, value: Any) -> None:
        if value in EMPTY_VALUES and self.required:
            raise self.error("required")

    def clean(self, value: Any) -> Any:
        """Converts and validates (validators must be sync here; see :meth:`aclean`)."""
        return run_sync(self.aclean(value), "a validator")

    async def aclean(self, value: Any) -> Any:
        """Converts and validates, awaiting async validators (a database lookup)."""
        value = self.to_python(value)
        self.validate(value)
        await self.run_validators(value)
        return value

    async def run_validators(self, value: Any) -> None:
        """Runs every validator on a non-empty ``value``, collecting all their errors."""
        if value in EMPTY_VALUES:
            return
        errors = []
        for validator in self.validators:
            try:
                result = validator(value)
                if inspect.isawaitable(result):
                    await result
            except ValidationError as e:
                errors.extend(e.error_list)
        if errors:
            raise ValidationError(errors)

    def widget_attrs(self) -> dict[str, Any]:
        return {"required": self.required and not self.disabled, "disabled": self.disabled}


class CharField(Field):
    """Text, stripped of surrounding spaces by default; ``max_length``/``min_length`` bound it."""

    default_error_messages = {
        "max_length": "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "min_length": "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
    }

    def __init__(self, *, max_length: int | None = None, min_length: int | None = None, strip: bool = True, **options: Any) -> None:
        self.max_length, self.min_length, self.strip = max_length, min_length, strip
        super().__init__(**options)

    def to_python(self, value: Any) -> str:
        if value in EMPTY_VALUES:
            return ""
        value = str(value)
        return value.strip() if self.strip else value

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and self.max_length is not None and len(value) > self.max_length:
            raise self.error("max_length", limit_value=self.max_length, show_value=len(value))
        if value and self.min_length is not None and len(value) < self.min_length:
            raise self.error("min_length", limit_value=self.min_length, show_value=len(value))

    def widget_attrs(self) -> dict[str, Any]:
        return {**super().widget_attrs(), "maxlength": self.max_length, "minlength": self.min_length}


class RegexField(CharField):
    pattern = re.compile("")
    default_error_messages = {"invalid": "Enter a valid value."}

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not self.pattern.fullmatch(value):
            raise self.error("invalid")


class EmailField(RegexField):
    """An email address: text around one ``@``, with a dot in the domain part."""

    widget = w.EmailInput
    pattern = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
    default_error_messages = {"invalid": "Enter a valid email address."}


class URLField(RegexField):
    """An ``http://`` or ``https://`` URL."""

    widget = w.URLInput
    pattern = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
    default_error_messages = {"invalid": "Enter a valid URL."}


class SlugField(RegexField):
    """Letters, digits, hyphens and underscores only."""

    pattern = re.compile(r"[-a-zA-Z0-9_]+")
    default_error_messages = {
        "invalid": "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
    }


class _NumberField(Field):
    widget = w.NumberInput
    default_error_messages = {
        "max_value": "Ensure this value is less than or equal to %(limit_value)s.",
        "min_value": "Ensure this value is greater than or equal to %(limit_value)s.",
    }

    def __init__(self, *, max_value: Any = None, min_value: Any = None, **options: Any) -> None:
        self.max_value, self.min_value = max_value, min_value
        super().__init__(**options)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        if self.max_value is not None and value > self.max_value:
            raise self.error("max_value", limit_value=self.max_value)
        if self.min_value is not None and value < self.min_value:
            raise self.error("min_value", limit_value=self.min_value)

    def widget_attrs(self) -> dict[str, Any]:
        return {**super().widget_attrs(), "max": self.max_value, "min": self.min_value}


class IntegerField(_NumberField):
    """A whole number; ``min_value``/``max_value`` bound it."""

    default_error_messages = {"invalid": "Enter a whole number."}

    def to_python(self, value: Any) -> int | None:
        if value in EMPTY_VALUES:
            return None
        try:
            return int(str(value).strip())
        except ValueError:
            raise self.error("invalid") from None


class FloatField(_NumberField):
    """A floating-point number (no infinities or NaN); ``min_value``/``max_value`` bound it."""

    default_error_messages = {"invalid": "Enter a number."}

    def to_python(self, value: Any) -> float | None:
        if value in EMPTY_VALUES:
            return None
        try:
            number = float(str(value).strip())
        except ValueError:
            raise self.error("invalid") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise self.error("invalid")
        return number


class DecimalField(_NumberField):
    """An exact ``Decimal``, checked against ``max_digits`` and ``decimal_places``."""

    default_error_messages = {
        "invalid": "Enter a number.",
        "max_digits": "Ensure that there are no more than %(max)s digits in total.",
        "max_decimal_places": "Ensure that there are no more than %(max)s decimal places.",
    }

    def __init__(self, *, max_digits: int | None = None, decimal_places: int | None = None, **options: Any) -> None:
        self.max_digits, self.decimal_places = max_digits, decimal_places
        super().__init__(**options)

    def to_python(self, value: Any) -> decimal.Decimal | None:
        if value in EMPTY_VALUES:
            return None
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise self.error("invalid") from None
        if not number.is_finite():
            raise self.error("invalid")
        return number

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        _, digits, exponent = value.as_tuple()
        places = max(0, -exponent)
        if self.decimal_places is not None and places > self.decimal_places:
            raise self.error("max_decimal_places", max=self.decimal_places)
        if self.max_digits is not None and max(len(digits), places) > self.max_digits:
            raise self.error("max_digits", max=self.max_digits)


class BooleanField(Field):
    """A checkbox: True when checked; with ``required=True`` (the default) it must be checked."""

    widget = w.CheckboxInput

    def to_python(self, value: Any) -> bool:
        if isinstance(value, str) and value.lower() in ("false", "0", "off", ""):
            return False
        return bool(value)

    def validate(self, value: Any) -> None:
        if not value and self.required:
            raise self.error("required")

    def has_changed(self, initial: Any, data: Any) -> bool:
        return not self.disabled and self.to_python(initial) != self.to_python(data)


class _TemporalField(Field):
    parse: Callable[[str], Any]
    kind: type

    def to_python(self, value: Any) -> Any:
        if value in EMPTY_VALUES:
            return None
        if isinstance(value, self.kind):
            return value
        try:
            return type(self).parse(str(value).strip())
        except ValueError:
            raise self.error("invalid") from None


class DateField(_TemporalField):
    """A ``date``, from ISO 8601 text (``YYYY-MM-DD``)."""

    widget = w.DateInput
    kind = datetime.date
    parse = staticmethod(datetime.date.fromisoformat)
    default_error_messages = {"invalid": "Enter a valid date."}


class DateTimeField(_TemporalField):
    """A ``datetime``, from ISO 8601 text (``YYYY-MM-DDTHH:MM[:SS]``)."""

    widget = w.DateTimeInput
    kind = datetime.datetime
    parse = staticmethod(datetime.datetime.fromisoformat)
    default_error_messages = {"invalid": "Enter a valid date/time."}


class TimeField(_TemporalField):
    """A ``time``, from ISO 8601 text (``HH:MM[:SS]``)."""

    widget = w.TimeInput
    kind = datetime.time
    parse = staticmethod(datetime.time.fromisoformat)
    default_error_messages = {"invalid": "Enter a valid time."}


class ChoiceField(Field):
    """One of ``choices`` (pairs of value and label), drawn as a ``<select>``."""

    widget = w.Select
    default_error_messages = {"invalid_choice": "Select a valid choice. %(value)s is not one of the available choices."}

    def __init__(self, *, choices: Iterable[Any] = (), **options: Any) -> None:
        super().__init__(**options)
        self.choices = [c if isinstance(c, tuple) else (c, c) for c in choices]
        if isinstance(self.widget, w.Select):
            self.widget.choices = self.choices

    def to_python(self, value: Any) -> str:
        return "" if value in EMPTY_VALUES else str(value)

    def valid_value(self, value: Any) -> bool:
        return any(str(key) == str(value) for key, _ in self.choices)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not self.valid_value(value):
            raise self.error("invalid_choice", value=value)


class MultipleChoiceField(ChoiceField):
    """A list of values from ``choices``, drawn as a ``<select multiple>``."""

    widget = w.SelectMultiple
    default_error_messages = {"invalid_list": "Enter a list of values."}

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]  # a list of choices, as Django's
        if value in EMPTY_VALUES:
            return []
        if not isinstance(value, (list, tuple)):
            raise self.error("invalid_list")
        return [str(v) for v in value]

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise self.error("required")
        for item in value:
            if not self.valid_value(item):
                raise self.error("invalid_choice", value=item)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return not self.disabled and multiple_choices_changed(initial, data)


def multiple_choices_changed(initial: Any, data: Any) -> bool:
    """Whether two lists of choices differ, order aside (compared as text)."""
    initial, data = initial or [], data or []
    return len(initial) != len(data) or {str(v) for v in initial} != {str(v) for v in data}


class FileField(Field):
    """An uploaded file (an ``UploadFile``); an empty file is refused."""

    widget = w.FileInput
    default_error_messages = {
        "invalid": "No file was submitted. Check the encoding type on the form.",
        "empty": "The submitted file is empty.",
    }

    def to_python(self, value: Any) -> Any:
        if value in EMPTY_VALUES:
            return None
        if not hasattr(value, "filename"):
            raise self.error("invalid")
        if not value.filename:
            return None
        if value.size == 0:
            raise self.error("empty")
        return value

    def has_changed(self, initial: Any, data: Any) -> bool:
        return not self.disabled and data is not None


class JSONField(CharField):
    """JSON text, decoded into Python values."""

    widget = w.Textarea
    default_error_messages = {"invalid": "Enter a valid JSON."}

    def to_python(self, value: Any) -> Any:
        if value in EMPTY_VALUES:
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise self.error("invalid") from None

    def validate(self, value: Any) -> None:
        Field.validate(self, value)
