#!/usr/bin/env bash
# Memory per tracked connection and speed on a SYN flood, at caps up to every SYN tracked at once
# (issue 15: at most 256 bytes of heap per tracked connection with a million or more of them).
#
#   bench/flood-memory.sh [CAP...]     defaults: 100000 500000 1000000 5000000
#   OTHER_BIN=/path/to/tcpdoctor bench/flood-memory.sh   # also run another build, row by row
#
# The capture is bench/floods.sh's: 5,000,000 SYNs from distinct sources, 2 us apart, none answered
# (written there by the ignored CLI test `floods::write_flood_captures` if $BENCH_DIR lacks it). It is
# read from stdin, so the RSS is the program's, not the mapped file's. "bytes per connection" is the
# peak RSS above the run with a cap of 1,000 (the binary, its buffers, 1,000 connections), divided by
# the connections added: the cost of one more tracked connection. Needs GNU time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/tmp/tcpdoctor-floods}
flood=$dir/syn-flood-5000000.pcap
syns=5000000
caps=("$@")
[ ${#caps[@]} -gt 0 ] || caps=(100000 500000 1000000 5000000)
[ -f "$flood" ] || "$here/bench/floods.sh" "$syns" 1000 >/dev/null
(cd "$here" && cargo build --release -q -p tcpdoctor)
builds=("$here/target/release/tcpdoctor")
[ -z "${OTHER_BIN:-}" ] || builds+=("$OTHER_BIN")

declare -A base
echo "| build | --max-connections | tracked at most | wall s | segments/s | peak RSS MiB | bytes per connection |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for m in 1000 "${caps[@]}"; do
  for b in "${builds[@]}"; do
    out=$({ /usr/bin/time -f '%e %M' "$b" analyze --no-progress --max-connections "$m" - <"$flood" >"$dir/flood-summary.txt"; } 2>&1 | tail -1)
    t=${out% *}; kib=${out#* }
    tracked=$(sed -n 's/.*tracked at most \([0-9]*\) at once.*/\1/p' "$dir/flood-summary.txt")
    if [ "$m" = 1000 ] && [ -z "${base[$b]:-}" ]; then base[$b]=$kib; continue; fi
    printf '| %s | %s | %s | %s | %s M | %.1f | %s |\n' "$b" "$m" "$tracked" "$t" \
      "$(awk -v n=$syns -v t="$t" 'BEGIN { printf "%.2f", n / t / 1e6 }')" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" \
      "$(awk -v k="$kib" -v b="${base[$b]}" -v n="$tracked" 'BEGIN { printf "%.0f", (k - b) * 1024 / (n - 1000) }')"
  done
done
