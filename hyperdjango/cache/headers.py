"""HTTP caching headers on responses (Django's ``django.utils.cache``).

``patch_cache_control``, ``get_max_age``, ``patch_response_headers``,
``add_never_cache_headers``, ``patch_vary_headers``, ``has_vary_header`` and
``set_response_etag``, with Django's answers, on hyperdjango responses.
"""

from __future__ import annotations

import hashlib
import time
from email.utils import formatdate
from typing import Any

from ..responses import Response


def parse_cache_control(header: str) -> dict[str, Any]:
    """``"max-age=60, private"`` as ``{"max-age": "60", "private": True}`` (names lower-cased)."""
    directives: dict[str, Any] = {}
    for field in header.split(","):
        name, sep, value = field.strip().partition("=")
        if name:
            directives[name.strip().lower()] = value.strip().strip('"') if sep else True
    return directives


def patch_cache_control(response: Response, **directives: Any) -> None:
    """Adds or changes ``Cache-Control`` directives: ``patch_cache_control(r, max_age=60, public=True)``.

    >>> r = Response.text("hi", headers={"Cache-Control": "max-age=600, public"})
    >>> patch_cache_control(r, max_age=60, private=True)
    >>> r.headers["cache-control"]
    'max-age=60, private'

    As in Django: underscores become dashes, ``True`` is a bare directive,
    ``False`` removes one, a lower existing ``max-age`` wins, and ``private``
    and ``public`` replace each other.
    """
    current = parse_cache_control(response.headers.get("cache-control", ""))
    if "max-age" in current and "max_age" in directives:
        try:
            directives["max_age"] = min(int(current["max-age"]), directives["max_age"])
        except ValueError:
            pass
    if directives.get("private") is True:
        current.pop("public", None)
    if directives.get("public") is True:
        current.pop("private", None)
    for name, value in directives.items():
        name = name.replace("_", "-")
        if value is False:
            current.pop(name, None)
        else:
            current[name] = value
    response.headers["cache-control"] = ", ".join(name if value is True else f"{name}={value}" for name, value in current.items())


def get_max_age(response: Response) -> int | None:
    """The ``max-age`` of ``Cache-Control`` as an int, or ``None`` when absent or malformed."""
    value = parse_cache_control(response.headers.get("cache-control", "")).get("max-age")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def patch_response_headers(response: Response, cache_timeout: int) -> None:
    """Sets ``Expires`` (unless present) and ``Cache-Control: max-age`` for ``cache_timeout`` seconds."""
    cache_timeout = max(0, cache_timeout)
    if "expires" not in response.headers:
        response.headers["expires"] = formatdate(time.time() + cache_timeout, usegmt=True)
    patch_cache_control(response, max_age=cache_timeout)


def add_never_cache_headers(response: Response) -> None:
    """Headers that tell every cache never to keep the response (Django's list)."""
    patch_response_headers(response, cache_timeout=-1)
    patch_cache_control(response, no_cache=True, no_store=True, must_revalidate=True, private=True)


def vary_headers(response: Response) -> list[str]:
    """The header names listed in ``Vary``, lower-cased."""
    return [name.strip().lower() for value in response.headers.getlist("vary") for name in value.split(",") if name.strip()]


def patch_vary_headers(response: Response, new_headers: list[str] | tuple[str, ...]) -> None:
    """Adds names to ``Vary`` without repeating any (``*`` replaces them all, as in Django)."""
    existing = [name.strip() for value in response.headers.getlist("vary") for name in value.split(",") if name.strip()]
    names, lowered = list(existing), {name.lower() for name in existing}
    for name in new_headers:
        if name.lower() not in lowered:
            names.append(name)
            lowered.add(name.lower())
    response.headers["vary"] = "*" if "*" in names else ", ".join(names)


def has_vary_header(response: Response, header: str) -> bool:
    """Whether ``Vary`` lists ``header``."""
    return header.lower() in vary_headers(response)


def set_response_etag(response: Response) -> None:
    """Sets ``ETag`` to a hash of the body, unless the response has one."""
    if "etag" not in response.headers:
        response.headers["etag"] = '"' + hashlib.md5(response.body, usedforsecurity=False).hexdigest() + '"'
