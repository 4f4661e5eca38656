"""Password validators, Django's four: length, similarity, common and numeric.

    validate_password("hunter22", user)   # raises ValidationError listing every failure

:func:`set_password_validators` replaces the list (Django's ``AUTH_PASSWORD_VALIDATORS``).
Validation is a CPU-light, synchronous check; hashing is what runs off the loop.
"""

from __future__ import annotations

import functools
import gzip
import re
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any


class ValidationError(ValueError):
    """Every reason a password was refused, in ``messages``."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


class MinimumLengthValidator:
    """At least ``min_length`` characters (8, as Django)."""

    def __init__(self, min_length: int = 8) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError([f"This password is too short. It must contain at least {self.min_length} characters."])


class UserAttributeSimilarityValidator:
    """Not too close to the user's username, names or email (Django's ratio, 0.7)."""

    DEFAULT_USER_ATTRIBUTES = ("username", "first_name", "last_name", "email")

    def __init__(self, user_attributes: tuple[str, ...] = DEFAULT_USER_ATTRIBUTES, max_similarity: float = 0.7) -> None:
        if max_similarity < 0.1:
            raise ValueError("max_similarity must be at least 0.1")
        self.user_attributes = user_attributes
        self.max_similarity = max_similarity

    def validate(self, password: str, user: Any = None) -> None:
        if user is None:
            return
        lowered = password.lower()
        for attribute in self.user_attributes:
            value = getattr(user, attribute, None)
            if not value or not isinstance(value, str):
                continue
            parts = [value, *re.split(r"\W+", value)]
            for part in parts:
                # Cheap bound first: a much shorter password cannot be similar enough.
                if len(lowered) * 2 < self.max_similarity * (len(lowered) + len(part)):
                    continue
                if SequenceMatcher(a=lowered, b=part.lower()).quick_ratio() >= self.max_similarity:
                    raise ValidationError([f"The password is too similar to the {attribute.replace('_', ' ')}."])


#: The default list: 30,000 common passwords (source and licence in common-passwords.README.md).
DEFAULT_PASSWORD_LIST_PATH = Path(__file__).resolve().parent / "common-passwords.txt.gz"


@functools.lru_cache(maxsize=8)
def _load_password_list(path: Path) -> frozenset[str]:
    """The passwords in ``path``, gzipped or plain (as Django reads it), read once per process."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except gzip.BadGzipFile:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    return frozenset(stripped.lower() for line in lines if (stripped := line.strip()))


class CommonPasswordValidator:
    """Not one of the common passwords (case-insensitive, surrounding spaces ignored).

    The default list has 30,000 passwords; ``password_list_path`` names another
    (one password per line, plain or gzipped: Django's file works). A list is read
    the first time a password is checked against it, once per process.

    >>> CommonPasswordValidator().validate("  Dragon ")
    Traceback (most recent call last):
    ...
    hyperdjango.auth.validators.ValidationError: This password is too common.
    """

    def __init__(self, password_list_path: str | Path = DEFAULT_PASSWORD_LIST_PATH) -> None:
        self.password_list_path = Path(password_list_path).resolve()

    @property
    def passwords(self) -> frozenset[str]:
        """The lower-cased passwords of the list (loaded on first use)."""
        return _load_password_list(self.password_list_path)

    def validate(self, password: str, user: Any = None) -> None:
        if password.lower().strip() in self.passwords:
            raise ValidationError(["This password is too common."])


class NumericPasswordValidator:
    """Not only digits."""

    def validate(self, password: str, user: Any = None) -> None:
        if password.isdigit():
            raise ValidationError(["This password is entirely numeric."])


_validators: list[Any] = [
    UserAttributeSimilarityValidator(),
    MinimumLengthValidator(),
    CommonPasswordValidator(),
    NumericPasswordValidator(),
]


def set_password_validators(validators: list[Any]) -> None:
    """The validators :func:`validate_password` runs (objects with ``validate(password, user)``)."""
    global _validators
    _validators = list(validators)


def validate_password(password: str, user: Any = None, validators: list[Any] | None = None) -> None:
    """Raises ValidationError with the message of every validator that refuses ``password``."""
    errors: list[str] = []
    for validator in _validators if validators is None else validators:
        try:
            validator.validate(password, user)
        except ValidationError as e:
            errors.extend(e.messages)
    if errors:
        raise ValidationError(errors)
