#!/usr/bin/env bash
# Benchmarks `tcpdoctor status --json` against the seed's netstat|awk one-liner, `ss -tan | awk` and
# `ss -tanp` in a network namespace holding about 100k TCP sockets, with about 100k more open fds
# (not sockets) in other processes, started first so that owner lookups meet them first. HOGS_IN_NS=1
# puts those processes in the same namespace (a plain host); by default they are outside it (other
# containers), where tcpdoctor's namespace-first owner lookup skips them.
#
# Needs root, python3, iproute2, net-tools (netstat) and hyperfine. Everything runs on loopback inside
# a namespace this script creates; it kills only the processes it started and removes the namespace on
# exit. Usage: bench/status.sh [OUT.md]   (env: HOLDERS, CONNS_PER_HOLDER, HOGS, FDS_PER_HOG, RUNS, BANDS, OTHER_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-/tmp/bench-status.md}
HOLDERS=${HOLDERS:-5}              # processes holding connections
CONNS_PER_HOLDER=${CONNS_PER_HOLDER:-9500}  # each: 2 sockets (both ends) per connection, < 20k fds
HOGS=${HOGS:-5}                    # processes holding plain fds
FDS_PER_HOG=${FDS_PER_HOG:-19500}
RUNS=${RUNS:-10}
HOGS_IN_NS=${HOGS_IN_NS:-0}
NS=tcpd-bench-$$
BIN=$PWD/target/release/tcpdoctor
source bench/netns.sh

IN_NS=()
[ "$HOGS_IN_NS" = 1 ] && IN_NS=(ip netns exec "$NS")
for i in $(seq 1 "$HOGS"); do start "${IN_NS[@]}" python3 bench/status-hold.py fds "$FDS_PER_HOG"; done
for i in $(seq 1 "$HOLDERS"); do
    start ip netns exec "$NS" python3 bench/status-hold.py conns $((7000 + i)) "$CONNS_PER_HOLDER"
done

SOCKETS=$(ip netns exec "$NS" ss -tanH | wc -l)
FDS=$(for p in "${PIDS[@]}"; do ls /proc/"$p"/fd 2>/dev/null | wc -l; done | awk '{s+=$1} END {print s}')
echo "namespace $NS: $SOCKETS TCP sockets; $FDS fds held by the ${#PIDS[@]} helper processes" >&2

# Every command runs inside the namespace (hyperfine itself is started there).
ip netns exec "$NS" hyperfine --runs "$RUNS" --warmup 1 -N --export-markdown "$OUT.table" \
    -n "netstat -n | awk (seed)" "sh -c \"netstat -n | awk '/^tcp/{++S[\\\$NF]}END{for (key in S) print key,S[key]}'\"" \
    -n "ss -tan | awk" "sh -c \"ss -tan | awk 'NR>1{++S[\\\$1]}END{for (k in S) print k,S[k]}'\"" \
    -n "ss -tanp" "sh -c 'ss -tanp >/dev/null'" \
    -n "tcpdoctor status --json" "sh -c '$BIN status --json >/dev/null'" \
    -n "tcpdoctor status --json -p" "sh -c '$BIN status --json -p >/dev/null'" \
    -n "tcpdoctor status --json --no-owners" "sh -c '$BIN status --json --no-owners >/dev/null'" \
    -n "tcpdoctor status --json --state time-wait,close-wait" "sh -c '$BIN status --json --state time-wait,close-wait >/dev/null'"

# OTHER_BIN=path: also `status --json` of another build (a previous commit's, to compare).
if [ -n "${OTHER_BIN:-}" ]; then
    ip netns exec "$NS" hyperfine --runs "$RUNS" --warmup 1 -N --export-markdown "$OUT.other" \
        -n "this build: status --json -p" "$BIN status --json -p" \
        -n "this build: status --json" "$BIN status --json" \
        -n "other build: status --json" "$OTHER_BIN status --json" \
        -n "other build: status --json --no-owners" "$OTHER_BIN status --json --no-owners"
fi

# BANDS="1 2 3 4": also the socket dump alone (no owners) split into that many dumps side by side.
if [ -n "${BANDS:-}" ]; then
    band_cmds=()
    for n in $BANDS; do
        band_cmds+=(-n "no owners, $n dump bands" "$BIN status --json --no-owners --dump-bands $n")
    done
    ip netns exec "$NS" hyperfine --runs "$RUNS" --warmup 1 -N --export-markdown "$OUT.bands" \
        "${band_cmds[@]}"
fi

{
    echo "## \`tcpdoctor status\` (issue 3)"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, Linux $(uname -r). Namespace with $SOCKETS TCP sockets (ESTABLISHED pairs on"
    echo "loopback, $HOLDERS processes) and $FDS open fds in ${#PIDS[@]} processes ($HOGS of them holding only /dev/null"
    echo "fds, started first, $([ "$HOGS_IN_NS" = 1 ] && echo "inside" || echo "outside") the namespace). \`tcpdoctor status --json\` looks up the owners of"
    echo "CLOSE-WAIT and listening sockets, \`-p\` (as \`ss -p\`) of every socket that has one."
    echo "Reproduce: \`bench/status.sh\`."
    echo
    cat "$OUT.table"
    for extra in "$OUT.other" "$OUT.bands"; do
        if [ -f "$extra" ]; then
            echo
            cat "$extra"
        fi
    done
} >"$OUT"
rm -f "$OUT.table" "$OUT.other" "$OUT.bands"
cat "$OUT"
