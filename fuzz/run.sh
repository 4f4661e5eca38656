#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/fuzz_targets/.
#
#   fuzz/run.sh ci [TARGET...]        what CI runs: a fixed number of inputs per target
#                                     (fuzz/ci-runs, about 20 s each), explored from the
#                                     committed seeds with a fixed -seed: a given commit
#                                     always fuzzes the same inputs, so CI is never red at random
#   fuzz/run.sh replay [TARGET...]    the committed seeds only, each run once
#   fuzz/run.sh SECONDS [TARGET...]   free exploration, SECONDS per target (default 20)
#
# Every mode reads the seeds in fuzz/corpus/<target>/ and never writes there.
# Free exploration keeps what it finds in the build cache, so later runs start
# where the last one stopped; `ci` starts from the seeds alone each time and
# throws its finds away. A crash stops the run with the input saved under
# fuzz/artifacts/<target>/ (replay it: cargo fuzz run <target> <file>).
#
# Environment: FUZZ_SANITIZER (none by default: the engine is Rust, and the
# targets look for panics, overflows and wrong answers; "address" for AddressSanitizer), HYPERDJANGO_FUZZ_TARGET_DIR (the cached build, by default
# under ~/.cache/hyperdjango), FUZZ_JOBS (parallel fuzzing processes per target,
# free exploration only: parallel workers would make `ci` depend on timing).
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
# libFuzzer's random seed in `ci` mode: change it (in a commit) to explore other inputs.
CI_SEED=1
# The number of inputs `ci` runs for a target: its line in fuzz/ci-runs.
ci_runs() {
  local runs
  runs=$(awk -v t="$1" '$1 == t { print $2 }' fuzz/ci-runs)
  if [ -z "$runs" ]; then
    echo "fuzz: $1 has no line in fuzz/ci-runs (target runs); add one" >&2
    exit 1
  fi
  echo "$runs"
}
for target in "${targets[@]}"; do
  found="$target_dir/corpus/$target"
  mkdir -p "$found"
  # libFuzzer writes new inputs into the first folder it is given: never the repository's seeds.
  seeds=()
  if [ -d "fuzz/corpus/$target" ]; then
    seeds=("fuzz/corpus/$target")
  fi
  case "$seconds" in
    replay)
      # The committed seeds only, each run once.
      corpus=("${seeds[@]}")
      limits=(-runs=0)
      ;;
    ci)
      # A fresh scratch folder first (libFuzzer writes its finds into the first folder), the
      # seeds after it; a fixed seed and number of inputs, one process: the same inputs every run.
      scratch="$target_dir/ci-corpus/$target"
      rm -rf "$scratch" && mkdir -p "$scratch"
      corpus=("$scratch" "${seeds[@]}")
      budget=$(ci_runs "$target")
      limits=(-seed="$CI_SEED" -runs="$budget")
      parallel=()
      ;;
    *)
      corpus=("$found" "${seeds[@]}")
      limits=(-max_total_time="$seconds")
      ;;
  esac
  if ! cargo fuzz run "${build[@]}" "$target" "${corpus[@]}" -- \
    "${limits[@]}" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1; then
    grep -E -A3 "panicked|ERROR: libFuzzer|SUMMARY" "$log" >&2 || tail -n 40 "$log" >&2
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/ (replay: cargo fuzz run $target FILE)" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  case "$seconds" in
    ci) echo "fuzz: $target ok: $runs inputs (-seed=$CI_SEED), $(ls "$scratch" | wc -l) new beyond the seeds" ;;
    replay) echo "fuzz: $target ok: $runs seeds replayed" ;;
    *) echo "fuzz: $target ok: $runs inputs in ${seconds}s, corpus $(ls "$found" | wc -l) (cached) + ${#seeds[@]} seed folder" ;;
  esac
done
