#!/usr/bin/env bash
# `tcpdoctor status --json` beside the socket table's floor: bench/floor.c, the bare sock_diag dump
# (both families in one walk, every state, no extensions, replies read and discarded), and `ss -tan`,
# in one hyperfine run, with the ratios to the floor (issue 15). The namespace holds a mix like a busy
# server's: TW connections in TIME-WAIT, CW in CLOSE-WAIT (their peers' ends in FIN-WAIT-2) and EST
# established (both ends), about TW + 2 CW + 2 EST sockets, built by bench/status-hold.py mix, to ADDRS
# loopback addresses. TIME-WAIT lasts 60 s: the runs must end before it does, and the socket count is
# taken before and after. For larger tables, HOLDERS processes first hold CONNS_PER_HOLDER more
# established connections each (both ends, so 2 fds each: a process may hold 20k fds here; ESTABLISHED
# sockets do not expire), spread over ADDRS addresses; HOGS processes hold FDS_PER_HOG fds of /dev/null
# each (not sockets: a database's files), in the namespace's processes, started first. With
# FDSCAN=1, bench/fdscan.c (one readlink of every fd of every process, one thread: the fd scan any
# `-p` costs at least) and `ss -tanp` are run too. A million sockets:
#   TW=100000 ADDRS=4 HOLDERS=45 CONNS_PER_HOLDER=9900 RUNS=3 WARMUP=1 bench/floor.sh
#
# Needs root, gcc, python3, iproute2 and hyperfine. Everything runs on loopback inside a namespace this
# script creates; it kills only the processes it started and removes the namespace on exit, however it
# exits. The build is bounded: BUILD_SECS (default 900) for all holders, and it stops once the holders
# have taken MAX_GIB (default 10) GiB of memory (MemAvailable, so the kernel's sockets included).
# Usage: bench/floor.sh [OUT.md]   (env: TW, CW, EST, ADDRS, HOLDERS, CONNS_PER_HOLDER, HOGS,
# FDS_PER_HOG, FDSCAN, RUNS, WARMUP, BUILD_SECS, MAX_GIB, OTHER_BIN: another build's binary, also run,
# with the --state rows unless STATE_ROWS=0 (at a million sockets the runs must fit in TIME-WAIT's
# 60 s); EXTRA: more `status --json` rows, one per ;-separated list of arguments (with OTHER_BIN, for
# both builds); PROFILE=DIR: instead of the hyperfine run, profile `status --json` into DIR with
# `perf stat`, `perf record --call-graph dwarf` (its report by symbol, --no-children) and `strace -c
# -f`, and the floor with `perf record -g`: needs Debian's linux-perf and strace)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-/tmp/bench-floor.md}
TW=${TW:-20000}
CW=${CW:-500}
EST=${EST:-1000}
ADDRS=${ADDRS:-1}
HOLDERS=${HOLDERS:-0}
CONNS_PER_HOLDER=${CONNS_PER_HOLDER:-9500}  # < 20k fds a process
HOGS=${HOGS:-0}
FDS_PER_HOG=${FDS_PER_HOG:-19000}
FDSCAN=${FDSCAN:-0}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-2}
BUILD_SECS=${BUILD_SECS:-900}
MAX_GIB=${MAX_GIB:-10}
NS=tcpd-floor-$$
BIN=$PWD/target/release/tcpdoctor
FLOOR=$PWD/target/release/floor
FDSCAN_BIN=$PWD/target/release/fdscan
source bench/netns.sh
gcc -O2 -Wall -Wextra -o "$FLOOR" bench/floor.c
gcc -O2 -Wall -Wextra -o "$FDSCAN_BIN" bench/fdscan.c

# Room for the population: the whole port range but the listeners' (7000-7199); TIME-WAIT sockets
# neither dropped for lack of buckets nor reused by new connections (tw_reuse would end them early);
# the CLOSE-WAIT sockets' orphaned FIN-WAIT-2 peers kept for 10 minutes instead of 60 s, so that their
# count stays put during the runs.
ip netns exec "$NS" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" \
    net.ipv4.ip_local_reserved_ports=7000-7199 net.ipv4.tcp_max_tw_buckets=2000000 \
    net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_fin_timeout=600

available_kib() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }
AVAILABLE_AT_START=$(available_kib)
BUILD_END=$((SECONDS + BUILD_SECS))
# Starts one holder with what is left of the build's time; stops the build if it is over, or if the
# holders have taken MAX_GIB of memory.
hold() {
    local left=$((BUILD_END - SECONDS)) taken=$(((AVAILABLE_AT_START - $(available_kib)) / 1048576))
    [ "$left" -gt 0 ] || { echo "the build took more than BUILD_SECS=$BUILD_SECS s" >&2; exit 1; }
    [ "$taken" -lt "$MAX_GIB" ] || { echo "the holders took $taken GiB (MAX_GIB=$MAX_GIB)" >&2; exit 1; }
    START_TIMEOUT=$left start ip netns exec "$NS" python3 bench/status-hold.py "$@"
}
for i in $(seq 1 "$HOGS"); do
    START_TIMEOUT=60 start ip netns exec "$NS" python3 bench/status-hold.py fds "$FDS_PER_HOG"
done
for i in $(seq 1 "$HOLDERS"); do
    hold conns $((7100 + i)) "$CONNS_PER_HOLDER" "$ADDRS"
    if [ $((i % 10)) = 0 ]; then
        echo "$i of $HOLDERS holders; $(((AVAILABLE_AT_START - $(available_kib)) / 1024)) MiB taken; $(free -g | awk '/^Mem:/ {print $3 " GiB used, " $7 " GiB available"}')" >&2
    fi
done
hold mix 7000 "$TW" "$CW" "$EST" "$ADDRS"
echo "built in $SECONDS s; $(((AVAILABLE_AT_START - $(available_kib)) / 1024)) MiB taken; $(free -g | awk '/^Mem:/ {print $3 " GiB used, " $7 " GiB available"}')" >&2

count() { ip netns exec "$NS" ss -tanH | awk '{++n; ++s[$1]} END {printf "%d sockets (", n; for (k in s) printf "%s %d, ", k, s[k]; print ")"}' | sed 's/, )/)/'; }
BEFORE=$(count)
echo "namespace $NS: $BEFORE" >&2

if [ -n "${PROFILE:-}" ]; then
    mkdir -p "$PROFILE"
    in_ns() { ip netns exec "$NS" "$@"; }
    in_ns perf stat -r 3 -o "$PROFILE/stat.txt" -- "$BIN" status --json >/dev/null
    # DWARF: the release build keeps line tables but no frame pointers.
    in_ns perf record -q --call-graph dwarf -o "$PROFILE/perf.data" -- "$BIN" status --json >/dev/null
    perf report -i "$PROFILE/perf.data" --no-children --stdio -g none --percent-limit 0.5 \
        --sort dso,sym >"$PROFILE/report.txt" 2>/dev/null
    perf report -i "$PROFILE/perf.data" --no-children --stdio -g caller,0.5,callee,function,percent \
        --percent-limit 2 >"$PROFILE/callers.txt" 2>/dev/null
    in_ns strace -c -f -o "$PROFILE/strace.txt" -- "$BIN" status --json >/dev/null
    in_ns perf record -q -g -o "$PROFILE/floor.data" -- "$FLOOR"
    perf report -i "$PROFILE/floor.data" --no-children --stdio -g none --percent-limit 0.5 \
        --sort dso,sym >"$PROFILE/floor-report.txt" 2>/dev/null
    echo "namespace $NS: $(count) after profiling into $PROFILE" >&2
    exit 0
fi
# With OTHER_BIN, each of its rows follows this build's, so that the two see the same table.
other() { [ -z "${OTHER_BIN:-}" ] || cmds+=(-n "other build: $1" "$OTHER_BIN $1"); }
cmds=(-n "floor (bench/floor.c)" "$FLOOR" -n "tcpdoctor status --json" "$BIN status --json")
other "status --json"
cmds+=(-n "tcpdoctor status --json --no-owners" "$BIN status --json --no-owners")
other "status --json --no-owners"
if [ -n "${OTHER_BIN:-}" ] && [ "${STATE_ROWS:-1}" != 0 ]; then
    # The --state rows take the tcp_info pass as a second walk (ESTABLISHED is not dumped).
    cmds+=(-n "this build: status --json --state close-wait,time-wait" "$BIN status --json --state close-wait,time-wait")
    other "status --json --state close-wait,time-wait"
fi
# EXTRA: more `status --json` rows, one per ;-separated list of arguments (e.g. "--dump-bands 1").
IFS=';' read -ra extra <<<"${EXTRA:-}"
for args in "${extra[@]}"; do
    cmds+=(-n "tcpdoctor status --json $args" "$BIN status --json $args")
    other "status --json $args"
done
cmds+=(-n "ss -tan" "ss -tan")
if [ "$FDSCAN" = 1 ]; then
    cmds+=(-n "fd scan (bench/fdscan.c)" "$FDSCAN_BIN" -n "ss -tanp" "ss -tanp")
fi
# -N: no shell; hyperfine itself runs inside the namespace, and discards the output.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
ip netns exec "$NS" hyperfine --runs "$RUNS" --warmup "$WARMUP" -N --export-json "$OUT.json" \
    --export-markdown "$OUT.table" "${cmds[@]}" >&2
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
AFTER=$(count)

{
    echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), Linux $(uname -r)."
    echo "Namespace with $BEFORE before the runs, $AFTER after. Load average $LOAD_BEFORE before, $LOAD_AFTER after."
    echo "Reproduce: \`${OTHER_BIN:+OTHER_BIN=$OTHER_BIN STATE_ROWS=${STATE_ROWS:-1} }${EXTRA:+EXTRA=\"$EXTRA\" }TW=$TW CW=$CW EST=$EST ADDRS=$ADDRS HOLDERS=$HOLDERS CONNS_PER_HOLDER=$CONNS_PER_HOLDER HOGS=$HOGS FDS_PER_HOG=$FDS_PER_HOG FDSCAN=$FDSCAN RUNS=$RUNS WARMUP=$WARMUP bench/floor.sh\`."
    echo
    cat "$OUT.table"
    echo
    # Other engineers' builds share the cores: the fastest run and the CPU time are the steadier ratios.
    echo "| Command | mean / floor's | min / floor's | user + system / floor's |"
    echo "|:---|---:|---:|---:|"
    python3 - "$OUT.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
floor = results[0]
cpu = lambda r: r["user"] + r["system"]
for r in results:
    print(f"| `{r['command']}` | {r['mean'] / floor['mean']:.2f}x | {r['min'] / floor['min']:.2f}x | {cpu(r) / cpu(floor):.2f}x |")
PY
} >"$OUT"
rm -f "$OUT.table" "$OUT.json"
cat "$OUT"
