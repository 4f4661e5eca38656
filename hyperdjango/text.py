"""Text helpers Django users reach for.

>>> slugify(" Héllo,  World! -- 2024 ")
'hello-world-2024'
>>> slugify("Привет мир", allow_unicode=True)
'привет-мир'
>>> slugify("__init__")
'init'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_NOT_SLUG = re.compile(r"[^\w\s-]")
_SEPARATORS = re.compile(r"[-\s]+")


def slugify(value: Any, allow_unicode: bool = False) -> str:
    """A URL slug, as Django's ``slugify`` makes it.

    Non-ASCII letters are folded to ASCII (dropped when they have no ASCII form)
    unless ``allow_unicode``; then lower case; characters other than letters,
    digits, underscores, hyphens and whitespace are removed; runs of whitespace
    and hyphens become one hyphen; leading and trailing hyphens and underscores
    are stripped.
    """
    text = str(value)
    if allow_unicode:
        text = unicodedata.normalize("NFKC", text)
    else:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _NOT_SLUG.sub("", text.lower())
    return _SEPARATORS.sub("-", text).strip("-_")
