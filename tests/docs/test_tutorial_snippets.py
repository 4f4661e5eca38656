"""The tutorial pages that show part of a step's file by line numbers
(``--8<-- "09-live/shop/api.py:73:88"``) still show whole definitions: the first line starts a
class, a function or its decorators, and the line after the last one ends the block. A change
to the file that moves the lines fails here instead of cutting the page mid-function."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PART = re.compile(r'^--8<-- "([^":]+):(\d+)(?::(\d+))?"$', re.M)
STARTS = ("class ", "def ", "async def ", "@")

parts = [
    (page.name, *match.groups())
    for page in sorted((ROOT / "docs" / "tutorial").glob("*.md"))
    for match in PART.finditer(page.read_text())
]


def test_there_are_parts_to_check():
    assert len(parts) >= 5


@pytest.mark.parametrize(("page", "path", "first", "last"), parts)
def test_a_part_of_a_file_is_whole_definitions(page, path, first, last):
    lines = (ROOT / "examples" / "tutorial" / path).read_text().splitlines()
    start = int(first) - 1
    assert lines[start].startswith(STARTS), f"{page}: line {first} of {path} starts no definition: {lines[start]!r}"
    if last is not None:
        after = int(last)
        assert after == len(lines) or not lines[after].startswith((" ", "\t", ")")), (
            f"{page}: line {last} of {path} ends inside a block"
        )
