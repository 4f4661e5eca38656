"""Widgets: how a field is drawn as HTML. Every attribute value is escaped."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup


def flatatt(attrs: dict[str, Any]) -> Markup:
    """``{"id": "x", "required": True}`` → `` id="x" required`` (False/None left out)."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(Markup(" {}").format(name))
        elif value is not False and value is not None:
            parts.append(Markup(' {}="{}"').format(name, value))
    return Markup("").join(parts)


class Widget:
    """An ``<input>``; subclasses set ``input_type`` or override :meth:`render`."""

    input_type = "text"
    is_hidden = False
    needs_multipart_form = False

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        self.attrs = dict(attrs or {})

    def format_value(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        return str(value)

    def value_from_data(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name) if data is not None else None

    def render(self, name: str, value: Any, attrs: dict[str, Any]) -> Markup:
        final = {"type": self.input_type, "name": name, **self.attrs, **attrs}
        formatted = self.format_value(value)
        if formatted is not None:
            final["value"] = formatted
        return Markup("<input{}>").format(flatatt(final))


class TextInput(Widget):
    """``<input type="text">``."""

    input_type = "text"


class EmailInput(Widget):
    """``<input type="email">``."""

    input_type = "email"


class URLInput(Widget):
    """``<input type="url">``."""

    input_type = "url"


class NumberInput(Widget):
    """``<input type="number">``."""

    input_type = "number"


class PasswordInput(Widget):
    """``<input type="password">``; the value typed is never drawn back into the page."""

    input_type = "password"

    def format_value(self, value: Any) -> str | None:
        return None  # never sent back to the page


class HiddenInput(Widget):
    """``<input type="hidden">``."""

    input_type = "hidden"
    is_hidden = True


class DateInput(Widget):
    """``<input type="date">``."""

    input_type = "date"


class DateTimeInput(Widget):
    """``<input type="datetime-local">``."""

    input_type = "datetime-local"


class TimeInput(Widget):
    """``<input type="time">``."""

    input_type = "time"


class FileInput(Widget):
    """``<input type="file">``; its value comes from the uploaded files."""

    input_type = "file"
    needs_multipart_form = True

    def format_value(self, value: Any) -> str | None:
        return None

    def value_from_data(self, data: Any, files: Any, name: str) -> Any:
        source = files if files is not None else data  # request.form() holds both
        return source.get(name) if source is not None else None


class CheckboxInput(Widget):
    """``<input type="checkbox">``; checked when the value is true."""

    input_type = "checkbox"

    def value_from_data(self, data: Any, files: Any, name: str) -> Any:
        if data is None or name not in data:
            return False  # an unchecked box sends nothing
        return str(data.get(name)).lower() not in ("", "false", "0", "off")

    def render(self, name: str, value: Any, attrs: dict[str, Any]) -> Markup:
        final = {"type": "checkbox", "name": name, **self.attrs, **attrs, "checked": bool(value)}
        return Markup("<input{}>").format(flatatt(final))


class Textarea(Widget):
    """``<textarea>``."""

    def render(self, name: str, value: Any, attrs: dict[str, Any]) -> Markup:
        final = {"name": name, "cols": 40, "rows": 10, **self.attrs, **attrs}
        return Markup("<textarea{}>\n{}</textarea>").format(flatatt(final), self.format_value(value) or "")


class Select(Widget):
    """``<select>`` with an ``<option>`` per ``(value, label)`` of ``choices``."""

    allow_multiple = False
    #: What ``render`` iterates: usually a list; a model choice field's stand-in that
    #: refuses to be drawn until its rows are loaded.
    choices: Iterable[tuple[Any, str]]

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Iterable[tuple[Any, str]] = ()) -> None:
        super().__init__(attrs)
        self.choices = list(choices)

    def render(self, name: str, value: Any, attrs: dict[str, Any]) -> Markup:
        chosen = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v is not None}
        options = Markup("").join(
            Markup("<option{}>{}</option>").format(flatatt({"value": key, "selected": str(key) in chosen}), label)
            for key, label in self.choices
        )
        final = {"name": name, **self.attrs, **attrs, "multiple": self.allow_multiple}
        return Markup("<select{}>{}</select>").format(flatatt(final), options)


class SelectMultiple(Select):
    """``<select multiple>``; its value is the list of selected options."""

    allow_multiple = True

    def value_from_data(self, data: Any, files: Any, name: str) -> Any:
        if data is None:
            return None
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)
