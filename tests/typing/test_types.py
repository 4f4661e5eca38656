"""The public API's types, as ``mypy --strict`` sees them in a user's project.

``check_*.py`` pin the inferred types with ``assert_type`` (a regression is an
error there); ``errors_misuse.py`` lists misuses that must stay errors, each
marked ``# error: [code]`` on its line.
"""

from __future__ import annotations

import functools
import pathlib
import re
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent.parent
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")
EXPECTED = re.compile(r"#\s*error:\s*\[(?P<code>[a-z-]+)\]")


@functools.cache
def mypy_errors() -> list[tuple[str, int, str]]:
    """``(file, line, code)`` of every error of mypy --strict on this folder's files, read
    as a user's code: the package's own modules are followed for their types only (their
    errors are tools/lint.sh's business). One run serves every test here."""
    files = sorted(HERE.glob("check_*.py")) + sorted(HERE.glob("errors_*.py"))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--config-file=",
         "--cache-dir=.mypy_cache/user-view", "--show-error-codes", "--no-pretty", *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode in (0, 1) and "source file" in result.stdout, result.stdout + result.stderr  # mypy ran
    errors = []
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        if match:
            errors.append((pathlib.Path(match["file"]).name, int(match["line"]), match["code"]))
    return errors


# A cold run analyses the whole package: longer than the suite's default timeout on a busy machine.
@pytest.mark.timeout(600)
def test_inferred_types_hold() -> None:
    assert len(list(HERE.glob("check_*.py"))) >= 3
    assert [error for error in mypy_errors() if error[0].startswith("check_")] == []


@pytest.mark.timeout(600)
def test_misuses_are_errors() -> None:
    path = HERE / "errors_misuse.py"
    expected = {
        (path.name, number, match["code"])
        for number, text in enumerate(path.read_text().splitlines(), 1)
        if (match := EXPECTED.search(text))
    }
    assert len(expected) >= 5
    assert {error for error in mypy_errors() if error[0] == path.name} == expected
