"""Is a server's answer right? One check per workload, each raising :class:`WrongAnswer`
with what differed; run.py calls them on every server before measuring it, so no server
is measured doing less work than the others.

The fortunes page must be byte-for-byte the expected page, with one allowance: the quote
characters may be spelled as any of their HTML character references (Jinja2 writes
``&#34;``, Django ``&quot;`` and ``&#x27;``); those are the same document to a browser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

WORLD_ROWS = 10_000
HELLO = "Hello, World!"

_QUOTE_SPELLINGS = re.compile(r"&(?:#34|#x22|quot|#39|#x27|apos);")
_CANONICAL_QUOTE = {"&#34;": '"', "&#x22;": '"', "&quot;": '"', "&#39;": "'", "&#x27;": "'", "&apos;": "'"}


class WrongAnswer(AssertionError):
    """A server answered something other than what the workload requires."""


def check_status(workload: str, status: int, content_type: str, media_type: str) -> None:
    if status != 200:
        raise WrongAnswer(f"/{workload}: status {status}, expected 200")
    if content_type.split(";")[0].strip().lower() != media_type:
        raise WrongAnswer(f"/{workload}: content-type {content_type!r}, expected {media_type}")


def check_plaintext(body: bytes) -> None:
    if body != HELLO.encode():
        raise WrongAnswer(f"/plaintext: body {body[:80]!r}, expected {HELLO!r}")


def check_json(body: bytes) -> None:
    if _decode(body, "json") != {"message": HELLO}:
        raise WrongAnswer(f"/json: body {body[:80]!r}, expected {{'message': {HELLO!r}}}")


def check_world(value: object, workload: str) -> tuple[int, int]:
    """One ``{"id": ..., "randomNumber": ...}`` object; returns (id, number)."""
    if not isinstance(value, dict) or set(value) != {"id", "randomNumber"}:
        raise WrongAnswer(f"/{workload}: {value!r} is not an object of exactly 'id' and 'randomNumber'")
    ident, number = value["id"], value["randomNumber"]
    for name, field in (("id", ident), ("randomNumber", number)):
        if type(field) is not int or not 1 <= field <= WORLD_ROWS:
            raise WrongAnswer(f"/{workload}: {name} {field!r} is not an integer in 1..{WORLD_ROWS}")
    return ident, number


def check_db(body: bytes, stored: Mapping[int, int]) -> None:
    _as_stored(*check_world(_decode(body, "db"), "db"), stored, "db")


def check_queries(body: bytes, count: int, stored: Mapping[int, int]) -> None:
    for ident, number in _worlds(body, count, "queries"):
        _as_stored(ident, number, stored, "queries")


def check_updates(body: bytes, count: int, before: Mapping[int, int], after: Mapping[int, int]) -> None:
    """``before``: the table before the request, every number 0 (see data.zero_world_numbers);
    ``after``: the table after it. Every row answered must hold a number the answer gave it
    (an id drawn twice holds either of its two), and no other row may have changed."""
    answered: dict[int, set[int]] = {}
    for ident, number in _worlds(body, count, "updates"):
        answered.setdefault(ident, set()).add(number)
    for ident, numbers in answered.items():
        if after.get(ident) not in numbers:
            raise WrongAnswer(f"/updates: row {ident} holds {after.get(ident)} after the request, "
                              f"the answer says {sorted(numbers)}: the update was not persisted")
    changed = sorted(i for i, n in after.items() if n != before.get(i) and i not in answered)
    if changed:
        raise WrongAnswer(f"/updates: rows {changed[:5]} changed but were not in the answer")


def check_fortunes(body: bytes, expected: str) -> None:
    try:
        page = body.decode()
    except UnicodeDecodeError as exc:
        raise WrongAnswer(f"/fortunes: not UTF-8 ({exc})") from None
    page, expected = canonical_quotes(page), canonical_quotes(expected)
    if page != expected:
        at = next((i for i, (a, b) in enumerate(zip(page, expected)) if a != b), min(len(page), len(expected)))
        raise WrongAnswer(f"/fortunes differs from the expected page at character {at}: "
                          f"got {page[max(0, at - 30):at + 50]!r}, expected {expected[max(0, at - 30):at + 50]!r}")


def canonical_quotes(page: str) -> str:
    """``page`` with every character reference of a quote written as ``&#34;`` or ``&#39;``."""
    return _QUOTE_SPELLINGS.sub(lambda m: "&#34;" if _CANONICAL_QUOTE[m.group()] == '"' else "&#39;", page)


def _as_stored(ident: int, number: int, stored: Mapping[int, int], workload: str) -> None:
    if stored.get(ident) != number:
        raise WrongAnswer(f"/{workload}: row {ident} holds randomNumber {stored.get(ident)}, the answer says {number}")


def _decode(body: bytes, workload: str) -> object:
    try:
        return json.loads(body)
    except ValueError:
        raise WrongAnswer(f"/{workload}: not JSON: {body[:80]!r}") from None


def _worlds(body: bytes, count: int, workload: str) -> list[tuple[int, int]]:
    value = _decode(body, workload)
    if not isinstance(value, list) or len(value) != count:
        raise WrongAnswer(f"/{workload}: expected a list of {count} objects, got {str(value)[:80]}")
    return [check_world(item, workload) for item in value]
