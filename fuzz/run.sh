#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/fuzz_targets/ for a bounded time each.
#
#   fuzz/run.sh [SECONDS] [TARGET...]    SECONDS per target (default 20); every target by default
#
# Each target starts from its seeds in fuzz/corpus/<target>/ (read only) and
# keeps what it finds in the build cache, so later runs start where the last
# one stopped. A crash stops the run with the input saved under
# fuzz/artifacts/<target>/ (replay it: cargo fuzz run <target> <file>).
#
# Environment: FUZZ_SANITIZER (none by default: the engine is Rust, and the
# targets look for panics, overflows and wrong answers; "address" for AddressSanitizer), HYPERDJANGO_FUZZ_TARGET_DIR (the cached build, by default
# under ~/.cache/hyperdjango), FUZZ_JOBS (parallel fuzzing processes per target).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
shift || true
# libFuzzer's flags are nightly-only (-Z); cargo-fuzz needs them on stable Rust too.
export RUSTC_BOOTSTRAP=1
target_dir="${HYPERDJANGO_FUZZ_TARGET_DIR:-$HOME/.cache/hyperdjango/fuzz-target}"
sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# -a: debug assertions and overflow checks, so unchecked arithmetic on input is a crash.
build=(-s "$sanitizer" -a --target-dir "$target_dir")
cargo fuzz build "${build[@]}"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi
parallel=()
if [ "$jobs" -gt 1 ]; then
  parallel=(-jobs="$jobs" -workers="$jobs")
fi
log="$target_dir/fuzz.log"
for target in "${targets[@]}"; do
  found="$target_dir/corpus/$target"
  mkdir -p "$found"
  # New inputs go to the first directory (the cache), never into the repository's seeds.
  seeds=()
  if [ -d "fuzz/corpus/$target" ]; then
    seeds=("fuzz/corpus/$target")
  fi
  if [ "$seconds" = replay ]; then
    # The committed seeds only, each run once: a regression check that gives the same answer
    # every time (exploration, which may find a new crash in any run, is `run.sh SECONDS`).
    corpus=("${seeds[@]}")
    limits=(-runs=0)
  else
    corpus=("$found" "${seeds[@]}")
    limits=(-max_total_time="$seconds")
  fi
  if ! cargo fuzz run "${build[@]}" "$target" "${corpus[@]}" -- \
    "${limits[@]}" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1; then
    grep -E -A3 "panicked|ERROR: libFuzzer|SUMMARY" "$log" >&2 || tail -n 40 "$log" >&2
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/ (replay: cargo fuzz run $target FILE)" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz: $target ok: $runs inputs in ${seconds}s, corpus $(ls "$found" | wc -l) (cached) + ${#seeds[@]} seed folder"
done
