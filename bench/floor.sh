#!/usr/bin/env bash
# `tcpdoctor status --json` beside the socket table's floor: bench/floor.c, the bare sock_diag dump
# (both families in one walk, every state, no extensions, replies read and discarded), and `ss -tan`,
# in one hyperfine run, with the ratios to the floor (issue 15). The namespace holds a mix like a busy
# server's: TW connections in TIME-WAIT, CW in CLOSE-WAIT (their peers' ends in FIN-WAIT-2) and EST
# established (both ends), about TW + 2 CW + 2 EST sockets, built by bench/status-hold.py mix. TIME-WAIT
# lasts 60 s: the runs must end before it does, and the socket count is taken before and after. For
# larger tables, HOLDERS processes first hold CONNS_PER_HOLDER more established connections each (both
# ends; ESTABLISHED sockets do not expire).
#
# Needs root, gcc, python3, iproute2 and hyperfine. Everything runs on loopback inside a namespace this
# script creates; it kills only the processes it started and removes the namespace on exit.
# Usage: bench/floor.sh [OUT.md]   (env: TW, CW, EST, HOLDERS, CONNS_PER_HOLDER, RUNS,
# OTHER_BIN: another build's binary, also run)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-/tmp/bench-floor.md}
TW=${TW:-20000}
CW=${CW:-500}
EST=${EST:-1000}
HOLDERS=${HOLDERS:-0}
CONNS_PER_HOLDER=${CONNS_PER_HOLDER:-9500}  # < 20k fds a process
RUNS=${RUNS:-20}
NS=tcpd-floor-$$
BIN=$PWD/target/release/tcpdoctor
FLOOR=$PWD/target/release/floor
source bench/netns.sh
gcc -O2 -Wall -Wextra -o "$FLOOR" bench/floor.c

# Room for the population: the whole port range but the listeners' (7000-7199), TIME-WAIT sockets never
# dropped for lack of buckets.
ip netns exec "$NS" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" \
    net.ipv4.ip_local_reserved_ports=7000-7199 net.ipv4.tcp_max_tw_buckets=2000000
for i in $(seq 1 "$HOLDERS"); do
    start ip netns exec "$NS" python3 bench/status-hold.py conns $((7100 + i)) "$CONNS_PER_HOLDER"
done
start ip netns exec "$NS" python3 bench/status-hold.py mix 7000 "$TW" "$CW" "$EST"

count() { ip netns exec "$NS" ss -tanH | awk '{++n; ++s[$1]} END {printf "%d sockets (", n; for (k in s) printf "%s %d, ", k, s[k]; print ")"}' | sed 's/, )/)/'; }
BEFORE=$(count)
echo "namespace $NS: $BEFORE" >&2

cmds=(
    -n "floor (bench/floor.c)" "$FLOOR"
    -n "tcpdoctor status --json" "$BIN status --json"
    -n "tcpdoctor status --json --no-owners" "$BIN status --json --no-owners"
    -n "ss -tan" "ss -tan"
)
if [ -n "${OTHER_BIN:-}" ]; then
    # The --state rows take the tcp_info pass as a second walk (ESTABLISHED is not dumped).
    cmds+=(-n "other build: status --json" "$OTHER_BIN status --json"
        -n "other build: status --json --no-owners" "$OTHER_BIN status --json --no-owners"
        -n "this build: status --json --state close-wait,time-wait" "$BIN status --json --state close-wait,time-wait"
        -n "other build: status --json --state close-wait,time-wait" "$OTHER_BIN status --json --state close-wait,time-wait")
fi
# -N: no shell; hyperfine itself runs inside the namespace, and discards the output.
ip netns exec "$NS" hyperfine --runs "$RUNS" --warmup 2 -N --export-json "$OUT.json" \
    --export-markdown "$OUT.table" "${cmds[@]}" >&2
AFTER=$(count)

{
    echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), Linux $(uname -r)."
    echo "Namespace with $BEFORE before the runs, $AFTER after."
    echo "Reproduce: \`TW=$TW CW=$CW EST=$EST HOLDERS=$HOLDERS CONNS_PER_HOLDER=$CONNS_PER_HOLDER RUNS=$RUNS bench/floor.sh\`."
    echo
    cat "$OUT.table"
    echo
    echo "| Command | mean / floor | user + system / floor's |"
    echo "|:---|---:|---:|"
    python3 - "$OUT.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
floor = results[0]
cpu = lambda r: r["user"] + r["system"]
for r in results:
    print(f"| `{r['command']}` | {r['mean'] / floor['mean']:.2f}x | {cpu(r) / cpu(floor):.2f}x |")
PY
} >"$OUT"
rm -f "$OUT.table" "$OUT.json"
cat "$OUT"
