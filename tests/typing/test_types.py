"""The public API's types, as ``mypy --strict`` sees them in a user's project.

``check_*.py`` pin the inferred types with ``assert_type`` (a regression is an
error there); ``errors_misuse.py`` lists misuses that must stay errors, each
marked ``# error: [code]`` on its line.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent.parent
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")
EXPECTED = re.compile(r"#\s*error:\s*\[(?P<code>[a-z-]+)\]")


def run_mypy(*files: pathlib.Path) -> list[tuple[str, int, str]]:
    """mypy --strict on ``files`` as a user's code: the package's own modules are
    followed for their types (their errors are tools/lint.sh's business)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
         "--config-file=", "--show-error-codes", "--no-pretty", *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 2: mypy itself failed
    errors = []
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        if match:
            errors.append((pathlib.Path(match["file"]).name, int(match["line"]), match["code"]))
    return errors


def test_inferred_types_hold() -> None:
    files = sorted(HERE.glob("check_*.py"))
    assert files
    assert run_mypy(*files) == []


def test_misuses_are_errors() -> None:
    path = HERE / "errors_misuse.py"
    expected = {
        (path.name, number, match["code"])
        for number, text in enumerate(path.read_text().splitlines(), 1)
        if (match := EXPECTED.search(text))
    }
    assert len(expected) >= 5
    assert set(run_mypy(path)) == expected
