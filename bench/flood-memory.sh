#!/usr/bin/env bash
# Memory per tracked connection and speed on a SYN flood, at caps up to every SYN tracked at once
# (issue 15: at most 256 bytes of heap per tracked connection with a million or more of them).
#
#   bench/flood-memory.sh [CAP...]     defaults: 100000 500000 1000000 5000000
#   OTHER_BIN=/path/to/tcpdoctor bench/flood-memory.sh   # also run another build, row by row
#
# The captures are written by the ignored CLI test `floods::write_flood_captures` if $BENCH_DIR lacks
# them: bench/floods.sh's SYN flood, 5,000,000 SYNs from distinct sources, 2 us apart, none answered;
# and 1,000,000 connections that complete their handshake, 2 us apart, then stay idle (all established
# at the end; run with the summary and with --json, which keeps Zeek's view of each). Captures are
# read from stdin, so the RSS is the program's, not the mapped file's. "bytes per connection" is the
# peak RSS above the flood's run with a cap of 1,000 (the binary, its buffers, 1,000 connections),
# divided by the connections added: the cost of one more tracked connection. Needs GNU time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/tmp/tcpdoctor-floods}
flood=$dir/syn-flood-5000000.pcap
syns=5000000
caps=("$@")
[ ${#caps[@]} -gt 0 ] || caps=(100000 500000 1000000 5000000)
idle=$dir/idle-connections.pcap
[ -f "$flood" ] || "$here/bench/floods.sh" "$syns" 1000 >/dev/null
if [ ! -f "$idle" ]; then
  (cd "$here" && TCPDOCTOR_FLOOD_DIR="$dir/idle" TCPDOCTOR_FLOOD_SYNS=1 TCPDOCTOR_FLOOD_RETRANSMISSIONS=1 \
    cargo test -q --release -p tcpdoctor --test cli write_flood_captures -- --ignored >/dev/null)
  mv "$dir/idle/idle-connections.pcap" "$idle"
fi
(cd "$here" && cargo build --release -q -p tcpdoctor)
builds=("$here/target/release/tcpdoctor")
[ -z "${OTHER_BIN:-}" ] || builds+=("$OTHER_BIN")

declare -A base
echo "| build | capture | output | --max-connections | tracked at most | wall s | segments/s | peak RSS MiB | bytes per connection |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
row() { # build capture segments cap [flag]
  local b=$1 capture=$2 segments=$3 m=$4 out t kib tracked
  shift 4
  out=$({ /usr/bin/time -f '%e %M' "$b" analyze --no-progress --max-connections "$m" "$@" - <"$capture" >"$dir/flood-out.txt"; } 2>&1 | tail -1)
  t=${out% *}; kib=${out#* }
  if [ "$m" = 1000 ] && [ -z "${base[$b]:-}" ]; then base[$b]=$kib; return; fi
  # The summary says how many were tracked at once; --json's output does not, so it is asked again.
  [ $# -eq 0 ] || "$b" analyze --no-progress --max-connections "$m" - <"$capture" >"$dir/flood-out.txt"
  tracked=$(sed -n 's/.*tracked at most \([0-9]*\) at once.*/\1/p' "$dir/flood-out.txt")
  printf '| %s | %s | %s | %s | %s | %s | %s M | %.1f | %s |\n' "$b" "$(basename "$capture")" "${1:-summary}" "$m" "$tracked" "$t" \
    "$(awk -v n="$segments" -v t="$t" 'BEGIN { printf "%.2f", n / t / 1e6 }')" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" \
    "$(awk -v k="$kib" -v b="${base[$b]}" -v n="$tracked" 'BEGIN { printf "%.0f", (k - b) * 1024 / (n - 1000) }')"
}
for m in 1000 "${caps[@]}"; do
  for b in "${builds[@]}"; do row "$b" "$flood" "$syns" "$m"; done
done
for flag in "" --json; do
  for b in "${builds[@]}"; do row "$b" "$idle" 3000000 1000000 $flag; done
done
