#!/usr/bin/env bash
# The static checks CI runs before the tests (./dev.sh test calls this; ./dev.sh lint alone):
#   ruff         the Python rules in pyproject.toml ([tool.ruff])
#   mypy         the package, with the settings in pyproject.toml ([tool.mypy])
#   stubtest     hyperdjango/_core.pyi against the built extension (allowlist: tools/stubtest-allowlist.txt)
#   clippy       the Rust crates, warnings as errors
#   rustfmt      `cargo fmt --check`; LINT_SKIP_FMT=1 skips it (for a branch checked before the
#                tree-wide formatting pass: the default, and CI, run it)
# Needs the venv of ./dev.sh (ruff and mypy are in the dev extras) and the built extension.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"

step() { printf '\n== %s\n' "$1" >&2; }

step "ruff"
"$PY" -m ruff check .
step "mypy"
"$PY" -m mypy hyperdjango
step "stubtest"
"$PY" -m mypy.stubtest hyperdjango._core --allowlist tools/stubtest-allowlist.txt
step "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
if [ "${LINT_SKIP_FMT:-0}" = 1 ]; then
  step "rustfmt (skipped: LINT_SKIP_FMT=1)"
else
  step "rustfmt"
  cargo fmt --all --check
fi
