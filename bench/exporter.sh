#!/usr/bin/env bash
# Benchmarks a scrape of `tcpdoctor exporter` beside node_exporter's tcpstat collector (Debian's
# prometheus-node-exporter, --collector.tcpstat and nothing else) on one network namespace holding
# HOLDERS x CONNS_PER_HOLDER established loopback connections (both ends: twice as many sockets); then
# the exporter's memory (VmRSS) after 10, 500 and 1,000 scrapes.
#
# Both exporters run inside the namespace, and so do hyperfine and curl; every scrape collects afresh
# (--min-interval 0). Needs root, python3, iproute2, curl, hyperfine, prometheus-node-exporter. Kills
# only the processes it started; removes the namespace on exit.
# Usage: bench/exporter.sh [OUT.md]   (env: HOLDERS, CONNS_PER_HOLDER, RUNS, SCRAPES)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-/tmp/bench-exporter.md}
HOLDERS=${HOLDERS:-2}
CONNS_PER_HOLDER=${CONNS_PER_HOLDER:-5000}
RUNS=${RUNS:-20}
SCRAPES=${SCRAPES:-1000}
NS=tcpd-bench-exp-$$
BIN=$PWD/target/release/tcpdoctor
source bench/netns.sh
for i in $(seq 1 "$HOLDERS"); do
    start ip netns exec "$NS" python3 bench/status-hold.py conns $((7000 + i)) "$CONNS_PER_HOLDER"
done

ip netns exec "$NS" "$BIN" exporter --listen 127.0.0.1:9543 --min-interval 0 2>/dev/null &
PIDS+=($!)
EXPORTER=$!
ip netns exec "$NS" prometheus-node-exporter --collector.disable-defaults --collector.tcpstat \
    --web.listen-address=127.0.0.1:9100 2>/dev/null &
PIDS+=($!)
for url in http://127.0.0.1:9543/healthz http://127.0.0.1:9100/; do
    for _ in $(seq 1 50); do
        ip netns exec "$NS" curl -sf -o /dev/null "$url" && break
        sleep 0.2
    done
done

SOCKETS=$(ip netns exec "$NS" ss -tanH | wc -l)
echo "namespace $NS: $SOCKETS TCP sockets" >&2
ip netns exec "$NS" hyperfine --runs "$RUNS" --warmup 2 -N --export-markdown "$OUT.table" \
    -n "tcpdoctor exporter" "curl -sf -o /dev/null http://127.0.0.1:9543/metrics" \
    -n "node_exporter tcpstat" "curl -sf -o /dev/null http://127.0.0.1:9100/metrics" >&2

rss() { awk '/^VmRSS/ {print $2 " " $3}' /proc/"$EXPORTER"/status; }
{
    echo "$SOCKETS TCP sockets in the namespace"
    echo
    cat "$OUT.table"
    echo
    done_scrapes=$((RUNS + 2)) # hyperfine's warm-up and runs
    for target in "$done_scrapes" 500 "$SCRAPES"; do
        while [ "$done_scrapes" -lt "$target" ]; do
            ip netns exec "$NS" curl -sf -o /dev/null http://127.0.0.1:9543/metrics
            done_scrapes=$((done_scrapes + 1))
        done
        echo "exporter VmRSS after $done_scrapes scrapes: $(rss)"
    done
} >"$OUT"
rm -f "$OUT.table"
cat "$OUT"
