#!/usr/bin/env bash
# The commands of the README:
#   ./dev.sh serve   build, install into .venv, migrate and serve the example app on http://127.0.0.1:8000
#   ./dev.sh test    build everything, run the static checks (tools/lint.sh), the fuzz targets
#                    briefly and the whole test suite (cargo test + pytest); SKIP_LINT=1 leaves
#                    the checks out
#   ./dev.sh lint    the static checks alone: ruff, mypy, stubtest, clippy, cargo fmt --check
#                    (LINT_SKIP_FMT=1 leaves the fmt check out)
#   ./dev.sh docs    build the documentation site into site/ (--serve: serve it on 127.0.0.1:8001)
# Everything they need (venv, maturin, uvloop, orjson, test dependencies) they install themselves.
set -euo pipefail
cd "$(dirname "$0")"

# Rust builds are cached outside the checkout so a fresh clone (CI) reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hyperdjango/target}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
# maturin's PEP 517 backend runs the `maturin` executable found on PATH.
export PATH="$PWD/.venv/bin:$PATH"

setup() {
  if ! command -v cargo >/dev/null; then
    echo "dev.sh: cargo is missing; install Rust first (rustup)" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
      # Debian ships venv separately.
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        rm -rf .venv && "$PYTHON" -m venv .venv
      else
        echo "dev.sh: '$PYTHON -m venv' failed; install python3-venv" >&2
        exit 1
      fi
    fi
  fi
  # The engine links the system SQLite, the one Python's sqlite3 uses (one copy per process).
  if ! ls /usr/lib/*/libsqlite3.so /usr/lib/libsqlite3.so >/dev/null 2>&1; then
    need_debian_package libsqlite3-dev
  fi
  .venv/bin/python -m pip install -q -U pip "maturin>=1.7,<2"
  # No build isolation: maturin is already in the venv, and the cargo cache above is reused.
  .venv/bin/python -m pip install -q --no-build-isolation -e ".[dev]"
}

need_debian_package() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    echo "dev.sh: the tests need Debian's $1; install it (apt-get install $1)" >&2
    exit 1
  fi
}

case "${1:-}" in
  serve)
    setup
    .venv/bin/hyper migrate examples.shop
    exec .venv/bin/hyper run examples.shop:app --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
    ;;
  lint)
    setup
    exec tools/lint.sh
    ;;
  test)
    setup
    [ "${SKIP_LINT:-0}" = 1 ] || tools/lint.sh
    # The tests need PostgreSQL's client and, when no server answers, its binaries for a
    # throwaway cluster; redis-server likewise for the Redis channel layer; Debian's chromium
    # for the example chat's browser test.
    if ! command -v psql >/dev/null || { ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then
      need_debian_package postgresql
    fi
    command -v redis-server >/dev/null || need_debian_package redis-server
    [ -x /usr/bin/chromium ] || need_debian_package chromium
    export HYPERDJANGO_REQUIRE_CHROMIUM=1
    # One PostgreSQL server for cargo and pytest: the local one, or a throwaway
    # cluster (initdb/pg_ctl) when none answers. Its tests may not skip.
    eval "$(.venv/bin/python tests/support/postgres.py env)"
    export HYPERDJANGO_REQUIRE_PG=1
    # One Redis server likewise: $REDIS_URL, the local one, or a throwaway.
    eval "$(.venv/bin/python tests/support/redis.py env)"
    export HYPERDJANGO_REQUIRE_REDIS=1
    trap '.venv/bin/python tests/support/postgres.py cleanup; .venv/bin/python tests/support/redis.py cleanup' EXIT
    cargo test -p hyperdjango-engine -p hyperdjango-templates
    shift
    # The fuzz targets when the whole suite runs (fuzz/run.sh, which installs cargo-fuzz when
    # missing): `ci` explores a fixed number of inputs per target from the committed seeds with
    # a fixed random seed, so a commit always fuzzes the same inputs. HYPERDJANGO_FUZZ_SECONDS=N
    # explores N s per target instead, `replay` runs the seeds alone, 0 skips.
    fuzz_seconds="${HYPERDJANGO_FUZZ_SECONDS:-$([ "$#" -eq 0 ] && echo ci || echo 0)}"
    if [ "$fuzz_seconds" != 0 ]; then
      fuzz/run.sh "$fuzz_seconds"
    fi
    .venv/bin/python -m pytest "$@"
    ;;
  docs)
    setup
    export NO_MKDOCS_2_WARNING=1  # material's banner about its successor
    if [ "${2:-}" = "--serve" ]; then
      exec .venv/bin/mkdocs serve --strict --dev-addr "${HOST:-127.0.0.1}:${PORT:-8001}"
    fi
    exec .venv/bin/mkdocs build --strict
    ;;
  *)
    echo "usage: ./dev.sh serve | ./dev.sh test [pytest args] | ./dev.sh lint | ./dev.sh docs [--serve]" >&2
    exit 2
    ;;
esac
