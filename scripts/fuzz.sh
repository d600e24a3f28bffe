#!/usr/bin/env bash
# A bounded fuzz run of every target in fuzz/ (or of the targets named), one after another, on one core.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      # default 60 s each, every target
#   FUZZ_RUNS=10000000 scripts/fuzz.sh 3600 tracker       # stop at 10 M executions or 1 hour
# Prints, per target: executions, seconds, executions per second, new corpus units, peak RSS, the
# slowest single input (seconds), crashes.
# Exit status 1 if any target crashed; the crashing input is in fuzz/artifacts/<target>/, to minimise
# with `cargo fuzz tmin --sanitizer none -a <target> <file>` and add to fuzz/regressions/<target>/.
#
# Not part of CI: CI replays fuzz/regressions/ through the crates' own tests (`cargo test`).
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Builds on stable without a sanitizer by default
# (`--sanitizer none`: the fuzzed code is safe Rust, which needs none to show panics, overflows, hangs
# and runaway memory, and runs 3-5 times faster, so more executions per hour). FUZZ_SANITIZER=address
# builds with the address sanitizer on a nightly toolchain (`rustup toolchain install nightly`), for the
# unsafe code of dependencies; it also makes -malloc_limit_mb catch single oversized allocations.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
runs=${FUZZ_RUNS:--1} # -1: no limit on executions, only on time
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decode decode_stream pcap_slice pcap_stream tracker sockdiag tracefs proc)
fi

if ! command -v cargo-fuzz >/dev/null; then
  echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
  exit 2
fi
toolchain=()
sanitizer=(--sanitizer none)
if [ "${FUZZ_SANITIZER:-none}" != none ]; then
  toolchain=(+nightly)
  sanitizer=(--sanitizer "$FUZZ_SANITIZER")
fi
# -a: debug assertions and overflow checks, as in `cargo test`: an overflow on hostile input is a bug.
cargo "${toolchain[@]}" fuzz build "${sanitizer[@]}" -a

# Working corpora (gitignored) start from the seeds that make_seeds.py writes from the shared captures.
if [ ! -d fuzz/corpus ] && command -v python3 >/dev/null; then
  python3 fuzz/make_seeds.py >/dev/null || echo "note: seeds not built; starting from fuzz/regressions only" >&2
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0
printf '%-12s %12s %8s %10s %10s %8s %9s %s\n' target executions seconds exec/s new_units rss_mb slowest_s crashes
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  before=$(find "fuzz/artifacts/$t" -type f | wc -l)
  start=$(date +%s)
  # The first directory collects new inputs; fuzz/regressions/<t> is read only.
  # -timeout: one input taking 10 s is a hang; the memory limits catch allocation without bound (the
  # readers cap any one block at 16 MiB).
  if cargo "${toolchain[@]}" fuzz run "${sanitizer[@]}" -a "$t" "fuzz/corpus/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=512 \
    -print_final_stats=1 >"$logs/$t" 2>&1; then
    crashed=0
  else
    crashed=1
    status=1
  fi
  elapsed=$(($(date +%s) - start))
  stat() { sed -n "s/^stat::$1: *//p" "$logs/$t" | tail -1; }
  after=$(find "fuzz/artifacts/$t" -type f | wc -l)
  printf '%-12s %12s %8s %10s %10s %8s %9s %s\n' "$t" "$(stat number_of_executed_units)" "$elapsed" \
    "$(stat average_exec_per_sec)" "$(stat new_units_added)" "$(stat peak_rss_mb)" \
    "$(stat slowest_unit_time_sec)" "$((after - before))"
  if [ "$crashed" = 1 ]; then
    grep -E "panicked at|ERROR: libFuzzer|SUMMARY|Test unit written" "$logs/$t" | head -5 | sed 's/^/    /'
  fi
done
exit "$status"
