"""Form errors in Django's shape: ``ValidationError(message, code)``, and
``form.errors``, a dict of field name (``"__all__"`` for the whole form) to a list
of messages."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from .. import encoding

NON_FIELD_ERRORS = "__all__"


class ValidationError(Exception):
    """A value (or the whole form) is invalid.

    ``ValidationError("Too short", code="min_length")``; a list of them; or a dict
    of field name to messages (from ``clean()``, for several fields at once).
    ``%(name)s`` placeholders are filled from ``params``.
    """

    def __init__(self, message: Any, code: str | None = None, params: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error_dict: dict[str, list[ValidationError]] | None = None
        self.error_list: list[ValidationError]
        if isinstance(message, dict):
            self.error_dict = {field: ValidationError(messages).error_list for field, messages in message.items()}
            self.error_list = [e for errors in self.error_dict.values() for e in errors]
        elif isinstance(message, (list, tuple)):
            self.error_list = [e for item in message for e in ValidationError(item).error_list]
        elif isinstance(message, ValidationError):
            self.error_list = message.error_list
        else:
            self.message = str(message)
            self.code = code
            self.params = params
            self.error_list = [self]

    @property
    def messages(self) -> list[str]:
        """Every message, with its params filled in."""
        return [e.text() for e in self.error_list]

    def text(self) -> str:
        return self.message % self.params if self.params else self.message

    def __str__(self) -> str:
        return "; ".join(self.messages)

    def __repr__(self) -> str:
        return f"ValidationError({self.messages!r})"


class ErrorList(list):
    """The messages of one field (a list of str), with their codes in ``data``."""

    def __init__(self, errors: list[ValidationError] | None = None) -> None:
        self.data: list[ValidationError] = list(errors or [])
        super().__init__(e.text() for e in self.data)

    def append_error(self, error: ValidationError) -> None:
        self.data.append(error)
        self.append(error.text())

    def get_json_data(self) -> list[dict[str, Any]]:
        return [{"message": e.text(), "code": e.code or ""} for e in self.data]

    def __html__(self) -> str:
        if not self:
            return ""
        items = Markup("").join(Markup("<li>{}</li>").format(m) for m in self)
        return Markup('<ul class="errorlist">{}</ul>').format(items)


class ErrorDict(dict):
    """``form.errors``: field name → :class:`ErrorList` (``"__all__"`` for the form)."""

    def as_data(self) -> dict[str, list[ValidationError]]:
        return {field: errors.data for field, errors in self.items()}

    def get_json_data(self) -> dict[str, list[dict[str, Any]]]:
        return {field: errors.get_json_data() for field, errors in self.items()}

    def as_json(self) -> str:
        return encoding.dumps(self.get_json_data()).decode()

    def __html__(self) -> str:
        items = Markup("").join(Markup("<li>{}{}</li>").format(field, Markup(errors.__html__())) for field, errors in self.items())
        return Markup('<ul class="errorlist">{}</ul>').format(items) if self else ""


__all__ = ["NON_FIELD_ERRORS", "ErrorDict", "ErrorList", "ValidationError"]
