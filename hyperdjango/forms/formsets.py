"""Formsets: one form repeated for rows (``formset_factory``), with Django's
management form (``<prefix>-TOTAL_FORMS`` ...) and its limits."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from .errors import ErrorList, ValidationError
from .fields import BooleanField, IntegerField
from .forms import Form
from .models import ModelChoiceField
from .widgets import HiddenInput

TOTAL_FORMS = "TOTAL_FORMS"
INITIAL_FORMS = "INITIAL_FORMS"
MIN_NUM_FORMS = "MIN_NUM_FORMS"
MAX_NUM_FORMS = "MAX_NUM_FORMS"


class ManagementForm(Form):
    """How many forms the page holds; the browser sends it back."""

    TOTAL_FORMS = IntegerField(widget=HiddenInput, min_value=0)
    INITIAL_FORMS = IntegerField(widget=HiddenInput, min_value=0)
    MIN_NUM_FORMS = IntegerField(required=False, widget=HiddenInput)
    MAX_NUM_FORMS = IntegerField(required=False, widget=HiddenInput)


class BaseFormSet:
    """Forms of one class for repeating rows. Made by :func:`formset_factory`."""

    form: type[Form]
    extra = 1
    min_num = 0
    max_num = 1000
    absolute_max = 2000
    can_delete = False
    validate_min = False
    validate_max = False

    def __init__(self, data: Any = None, files: Any = None, *, initial: list[dict[str, Any]] | None = None, prefix: str = "form") -> None:
        self.is_bound = data is not None or files is not None
        self.data, self.files, self.prefix = data if data is not None else {}, files, prefix
        self.initial = list(initial or [])
        self._non_form_errors = ErrorList()
        self.management_form = ManagementForm(
            self.data if self.is_bound else None,
            prefix=prefix,
            initial={
                TOTAL_FORMS: min(max(len(self.initial), self.min_num) + self.extra, self.max_num),
                INITIAL_FORMS: len(self.initial),
                MIN_NUM_FORMS: self.min_num,
                MAX_NUM_FORMS: self.max_num,
            },
        )
        self.forms = [self._form(i) for i in range(self.total_form_count())]

    def management_form_ok(self) -> bool:
        return not self.management_form.errors

    def total_form_count(self) -> int:
        if self.is_bound:
            if not self.management_form_ok():
                return 0
            # Never more than absolute_max, whatever the client claims.
            return min(self.management_form.cleaned_data[TOTAL_FORMS], self.absolute_max)
        return self.management_form.get_initial(TOTAL_FORMS)

    def _form(self, i: int) -> Form:
        form = self.form(
            self.data if self.is_bound else None,
            self.files,
            prefix=f"{self.prefix}-{i}",
            initial=self.initial[i] if i < len(self.initial) else None,
        )
        if self.can_delete:
            form.fields["DELETE"] = BooleanField(required=False, label="Delete")
        if i >= len(self.initial) and i >= self.min_num:
            form.empty_permitted = True  # type: ignore[attr-defined]
        return form

    def _skipped(self, form: Form) -> bool:
        deleted = self.can_delete and form["DELETE"].data()
        return bool(deleted) or (getattr(form, "empty_permitted", False) and not form.has_changed())

    async def is_valid(self) -> bool:
        """Every kept form valid (an untouched extra form and a deleted one are skipped),
        the management form intact, and the min/max counts respected."""
        if not self.is_bound:
            return False
        self._non_form_errors = ErrorList()
        if not self.management_form_ok():
            self._non_form_errors.append_error(
                ValidationError("ManagementForm data is missing or has been tampered with.", code="missing_management_form")
            )
            return False
        valid = True
        for form in self.forms:
            if self._skipped(form):
                continue
            valid = await form.is_valid() and valid
        kept = [f for f in self.forms if not self._skipped(f)]
        if self.validate_max and len(kept) > self.max_num or self.management_form.cleaned_data[TOTAL_FORMS] > self.absolute_max:
            self._non_form_errors.append_error(
                ValidationError(f"Please submit at most {self.max_num} forms.", code="too_many_forms")
            )
        if self.validate_min and len(kept) < self.min_num:
            self._non_form_errors.append_error(
                ValidationError(f"Please submit at least {self.min_num} forms.", code="too_few_forms")
            )
        return valid and not self._non_form_errors

    async def load_choices(self) -> None:
        """Loads the options of the forms' model choice fields before the formset is
        drawn: one query per field for the whole formset, the forms sharing its rows."""
        loaded: dict[int, list[Any]] = {}  # by the queryset the forms' copies of a field share
        for form in self.forms:
            choice_fields = [field for field in form.fields.values() if isinstance(field, ModelChoiceField)]
            for field in choice_fields:
                if field.rows is None and id(field.queryset) in loaded:
                    field.use_rows(loaded[id(field.queryset)])
            await form.load_choices()
            for field in choice_fields:
                loaded.setdefault(id(field.queryset), field.rows or [])

    @property
    def errors(self) -> list[dict[str, list[str]]]:
        """Each form's errors, in order (``{}`` for a valid or skipped form)."""
        return [{} if self._skipped(form) else dict(form.errors) for form in self.forms]

    def non_form_errors(self) -> ErrorList:
        return self._non_form_errors

    @property
    def cleaned_data(self) -> list[dict[str, Any]]:
        """The cleaned data of each kept form."""
        return [form.cleaned_data for form in self.forms if not self._skipped(form)]

    @property
    def deleted_forms(self) -> list[Form]:
        return [form for form in self.forms if self.can_delete and form["DELETE"].data()]

    def __iter__(self):
        return iter(self.forms)

    def __len__(self) -> int:
        return len(self.forms)

    def __html__(self) -> str:
        return Markup("").join([Markup(self.management_form.as_div()), *(Markup(f.as_div()) for f in self.forms)])

    __str__ = __html__


def formset_factory(
    form: type[Form],
    *,
    extra: int = 1,
    min_num: int = 0,
    max_num: int = 1000,
    absolute_max: int | None = None,
    can_delete: bool = False,
    validate_min: bool = False,
    validate_max: bool = False,
) -> type[BaseFormSet]:
    """A FormSet class for ``form`` (Django's arguments and defaults)."""
    attrs = {
        "form": form,
        "extra": extra,
        "min_num": min_num,
        "max_num": max_num,
        "absolute_max": absolute_max if absolute_max is not None else max_num + 1000,
        "can_delete": can_delete,
        "validate_min": validate_min,
        "validate_max": validate_max,
    }
    return type(f"{form.__name__}FormSet", (BaseFormSet,), attrs)
