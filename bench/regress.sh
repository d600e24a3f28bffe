#!/usr/bin/env bash
# The per-segment cost regression check (issue 15): instructions, counted by callgrind (the same count
# on a busy machine as on an idle one), for
#   1. the tracker alone: the tracker bench's workload (crates/lifecycle/benches/tracker_count.rs,
#      46,000 segments), per segment: (I(6 iterations) - I(1)) / 5 / segments;
#   2. the whole `analyze` of the corpus's mix.pcap (7,576 frames), per frame: reading,
#      decoding, tracking and the summary.
# Each is compared with bench/regress.baseline; the script fails (exit 1) when one grew by more than
# 10 %. On demand, not in CI (about 10 s; the counts move by a few instructions from run to run:
# hash seeds are random).
#   bench/regress.sh            # check
#   bench/regress.sh --record   # write the current counts as the new baseline
# Needs valgrind (Debian package) and ../shared/corpus beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=bench/regress.baseline
segments=46000
frames=7576
limit_pct=10

command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }
cargo build --release -q -p tcpdoctor
bench_bin=$(cargo bench -q -p lifecycle --bench tracker_count --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "tracker_count":
        print(m["executable"])')

count() { # instructions of a command under callgrind
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

one=$(count "$bench_bin" 1)
six=$(count "$bench_bin" 6)
tracker=$(( (six - one) / 5 / segments ))
whole=$(( $(count target/release/tcpdoctor analyze ../shared/corpus/mix.pcap) / frames ))
echo "tracker: $tracker instructions per segment"
echo "analyze: $whole instructions per frame"

if [ "${1:-}" = "--record" ]; then
    printf 'tracker %s\nanalyze %s\n' "$tracker" "$whole" > "$baseline"
    echo "recorded in $baseline"
    exit 0
fi
status=0
while read -r name base; do
    now=$tracker
    [ "$name" = analyze ] && now=$whole
    if [ $(( now * 100 )) -gt $(( base * (100 + limit_pct) )) ]; then
        echo "REGRESSION: $name $base -> $now (more than $limit_pct % more)"
        status=1
    else
        echo "ok: $name $base -> $now"
    fi
done < "$baseline"
exit $status
