#!/usr/bin/env bash
# `tcpdoctor analyze` on hostile captures: a SYN flood from distinct random sources (millions of
# segments), a full port scan, and one connection retransmitting one segment a million times, next to
# the normal corpus (shared/corpus/mix.pcap). Prints segments/s and peak RSS per run as a markdown
# table for BENCHMARKS.md.
#
#   bench/floods.sh [SYNS] [CAP...]      defaults: 5000000 SYNs; caps 1000 100000 500000 (the default)
#
# The captures are written by the ignored CLI test `floods::write_flood_captures` (the same generator
# the flood tests use) into $BENCH_DIR (default /tmp/tcpdoctor-floods). Runs read stdin, so the RSS is
# the tracker's, not the mapped file's. Needs GNU time (installed here if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/tmp/tcpdoctor-floods}
syns=${1:-5000000}
shift || true
caps=("$@")
[ ${#caps[@]} -gt 0 ] || caps=(1000 100000 500000)
mkdir -p "$dir"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }

(cd "$here" && cargo build --release -q -p tcpdoctor)
bin=$here/target/release/tcpdoctor
if [ ! -f "$dir/syn-flood-$syns.pcap" ]; then
  (cd "$here" && TCPDOCTOR_FLOOD_DIR="$dir" TCPDOCTOR_FLOOD_SYNS="$syns" TCPDOCTOR_FLOOD_RETRANSMISSIONS=1000000 \
    cargo test -q --release -p tcpdoctor --test cli write_flood_captures -- --ignored >/dev/null)
  mv "$dir/syn-flood.pcap" "$dir/syn-flood-$syns.pcap"
fi

# One row: CAPTURE is read from stdin, or, for the normal corpus, NAME is read as file arguments.
echo "| capture | segments | --max-connections | wall s | segments/s | peak RSS MiB | evicted |"
echo "|---|---:|---:|---:|---:|---:|---:|"
run() { # name cap [files...]: with files, analyze them as arguments; else stdin from $dir/name
  local name=$1 m=$2 out n t rss ev
  shift 2
  local cmd=("$bin" analyze --no-progress --max-connections "$m")
  if [ $# -gt 0 ]; then cmd+=("$@"); exec 3</dev/null; else cmd+=(-); exec 3<"$dir/$name"; fi
  "${cmd[@]}" <&3 >/dev/null || true # warm the page cache
  [ $# -gt 0 ] || exec 3<"$dir/$name"
  out=$({ /usr/bin/time -f '%e %M' "${cmd[@]}" <&3 >"$dir/summary.txt"; } 2>&1 | tail -1)
  exec 3<&-
  t=${out% *}; rss=${out#* }
  n=$(sed -n 's/.* in \([0-9]*\) TCP segments.*/\1/p' "$dir/summary.txt")
  ev=$(sed -n 's/.*evicted by the cap: \([0-9]*\).*/\1/p' "$dir/summary.txt")
  printf '| %s | %s | %s | %s | %s | %.1f | %s |\n' "$name" "$n" "$m" "$t" \
    "$(awk -v n="$n" -v t="$t" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$ev"
}
# The normal traffic: the corpus' mix.pcap (real Linux loopback traffic, 7,576 segments) read 100 times
# in a row as one capture (NORMAL=FILE for another one, e.g. bench/analyze.sh's 1 GB capture).
normal=${NORMAL:-$here/../shared/corpus/mix.pcap}
reps=1
[ -n "${NORMAL:-}" ] || reps=100
files=(); for _ in $(seq "$reps"); do files+=("$normal"); done
run "$(basename "$normal") x$reps" 500000 "${files[@]}"
for m in "${caps[@]}"; do run "syn-flood-$syns.pcap" "$m"; done
run port-scan.pcap 500000
run port-scan.pcap 1000
run retransmissions.pcap 500000
