#!/usr/bin/env bash
# Benchmarks `tcpdoctor trace` under RATE new TCP connections per second (default 20,000) on the
# loopback of a network namespace this script creates: events expected vs reported, events the kernel
# lost (ring-buffer drops), tcpdoctor's CPU time, and the whole machine's CPU time against the same load
# without tracing. For comparison, the text interface: `cat trace_pipe` on an instance with the same
# tracepoints (the kernel formats every line; a parser would come on top of that).
#
# Each connection: the client connects, the server accepts and closes at once, the client reads the
# FIN and closes — 10 state changes (client CLOSED→SYN-SENT→ESTABLISHED→CLOSE-WAIT→LAST-ACK→CLOSED,
# server LISTEN→SYN-RECEIVED→ESTABLISHED→FIN-WAIT-1→FIN-WAIT-2→CLOSED), and TIME-WAIT on the server
# side only, so that client ports never run out. Client connections are spread over 127.0.0.1..DESTS.
#
# CPU cost: the reader's own CPU time, and the load's (client and server processes, which also pay the
# tracepoints: they fire in the sending and receiving contexts), both from /usr/bin/time. Whole-machine
# figures would include other users of a shared machine.
#
# Needs root, gcc, python3 and /usr/bin/time. Kills only what it started; removes its namespace and
# its text-mode tracefs instance on exit.
# Usage: bench/trace.sh [OUT.md]   (env: RATE, SECS, CLIENTS, DESTS, PORT, BUFFER_KB)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-/tmp/bench-trace.md}
RATE=${RATE:-20000}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-4}
DESTS=${DESTS:-16}
PORT=${PORT:-47990}
BUFFER_KB=${BUFFER_KB:-16384}   # tcpdoctor's default on 2 CPUs
NS=tcpd-tbench-$$
TRACEFS=/sys/kernel/tracing
TEXT_INSTANCE=$TRACEFS/instances/tcpd-bench-text-$$
BIN=$PWD/target/release/tcpdoctor
WORK=$(mktemp -d)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    [ -d "$TEXT_INSTANCE" ] && rmdir "$TEXT_INSTANCE" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, tracefs)" >&2; exit 1; }
cargo build --release -q -p tcpdoctor

cat >"$WORK/load.c" <<'C'
/* load RATE SECS NDEST NCLIENT PORT: paced connections; prints "completed failed". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
    if (argc < 6) return 2;
    double rate = atof(argv[1]), secs = atof(argv[2]);
    int ndest = atoi(argv[3]), nclient = atoi(argv[4]), port = atoi(argv[5]), one = 1;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(l, (void *)&a, sizeof a) || listen(l, 4096)) { perror("listen"); return 1; }
    pid_t server = fork();
    if (server == 0) for (;;) { int s = accept(l, 0, 0); if (s >= 0) close(s); }
    int fds[2];
    if (pipe(fds)) return 1;
    for (int c = 0; c < nclient; c++) {
        if (fork()) continue;
        double per = rate / nclient, start = now();
        long done = 0, fails = 0;
        while (now() - start < secs) {
            double due = start + done / per, t = now();
            if (due > t) { struct timespec d = { 0, (long)((due - t) * 1e9) }; nanosleep(&d, 0); }
            int s = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(port),
                .sin_addr.s_addr = htonl(0x7f000001 + (unsigned)((done * nclient + c) % ndest)) };
            if (connect(s, (void *)&b, sizeof b) == 0) { char buf[16]; while (read(s, buf, sizeof buf) > 0) {} }
            else fails++;
            done++;
            close(s);
        }
        long r[2] = { done - fails, fails };
        if (write(fds[1], r, sizeof r) != sizeof r) _exit(1);
        _exit(0);
    }
    long total = 0, failed = 0;
    for (int c = 0; c < nclient; c++) { long r[2]; if (read(fds[0], r, sizeof r) == sizeof r) { total += r[0]; failed += r[1]; } }
    for (int c = 0; c < nclient; c++) wait(0);
    kill(server, SIGKILL); waitpid(server, 0, 0);
    printf("%ld %ld\n", total, failed);
    return 0;
}
C
gcc -O2 -o "$WORK/load" "$WORK/load.c"

ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535"

# Runs the load; prints "completed failed cpu_seconds" (user+sys of the load's processes).
load() {
    /usr/bin/time -f "%U %S" -o "$WORK/time-load" \
        ip netns exec "$NS" "$WORK/load" "$RATE" "$SECS" "$DESTS" "$CLIENTS" "$PORT" >"$WORK/load-out"
    read -r done failed <"$WORK/load-out"
    echo "$done $failed $(tail -n 1 "$WORK/time-load" | awk '{printf "%.2f", $1+$2}')"
}

# 1. The load alone.
read -r base_conns base_fail base_cpu < <(load)
echo "baseline: $base_conns connections ($base_fail failed), load CPU $base_cpu s" >&2

# 2. The load under `tcpdoctor trace --json`, written to a file (as `cat` below).
/usr/bin/time -f "%U %S %M" -o "$WORK/time" \
    "$BIN" trace --json --port "$PORT" --buffer-kb "$BUFFER_KB" --duration $((SECS + 2)) \
    >"$WORK/events.json" 2>"$WORK/stderr" &
TPID=$!
PIDS+=($TPID)
for _ in $(seq 1 200); do
    ls "$TRACEFS"/instances/ | grep -q '^tcpdoctor-' && \
        grep -qs 1 "$TRACEFS"/instances/tcpdoctor-*/events/tcp/tcp_retransmit_skb/enable && break
    sleep 0.05
done
read -r conns fail trace_load_cpu < <(load)
wait "$TPID"
tail -n 1 "$WORK/events.json" >"$WORK/summary"
rm -f "$WORK/events.json"
read -r tu ts trss < <(tail -n 1 "$WORK/time")
read -r events states resets retransmits lost undecoded < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(s["events"], sum(t["count"] for t in s["transitions"]), sum(r["count"] for r in s["resets"]),
      s["retransmits"], s["lost_events"], s["undecoded"])' "$WORK/summary")
expected=$((conns * 10 + 2))   # + the listener's CLOSED -> LISTEN and LISTEN -> CLOSED
reset_reasons=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(", ".join(" ".join(str(x) for x in (r["count"], r["direction"], r["reason"]) if x) for r in s["resets"]) or "none")' "$WORK/summary")
echo "trace: $conns connections, $states state changes of $expected expected ($events events), lost $lost, tcpdoctor ${tu}u+${ts}s" >&2

# 3. The text interface: `cat trace_pipe` on an instance with the same tracepoints and buffer.
mkdir "$TEXT_INSTANCE"
echo "$BUFFER_KB" >"$TEXT_INSTANCE/buffer_size_kb"
echo 0 >"$TEXT_INSTANCE/options/overwrite"
echo 'protocol == 6' >"$TEXT_INSTANCE/events/sock/inet_sock_set_state/filter"
for e in sock/inet_sock_set_state tcp/tcp_send_reset tcp/tcp_receive_reset tcp/tcp_retransmit_skb; do
    echo 1 >"$TEXT_INSTANCE/events/$e/enable"
done
/usr/bin/time -f "%U %S" -o "$WORK/time-text" \
    timeout -s INT $((SECS + 2)) cat "$TEXT_INSTANCE/trace_pipe" >"$WORK/text" 2>/dev/null &
CPID=$!
PIDS+=($CPID)
sleep 0.2
read -r tconns tfail text_load_cpu < <(load)
wait "$CPID" || true
read -r cu cs < <(tail -n 1 "$WORK/time-text")
tlines=$(grep -c "inet_sock_set_state: .*port=$PORT " "$WORK/text" || true)
rm -f "$WORK/text"
tlost=$(cat "$TEXT_INSTANCE"/per_cpu/cpu*/stats | awk -F: '/^(overrun|commit overrun|dropped events)/{s+=$2} END{print s+0}')
for e in sock/inet_sock_set_state tcp/tcp_send_reset tcp/tcp_receive_reset tcp/tcp_retransmit_skb; do
    echo 0 >"$TEXT_INSTANCE/events/$e/enable"
done
rmdir "$TEXT_INSTANCE"
texpected=$((tconns * 10 + 2))
echo "text: $tconns connections, lines $tlines of $texpected expected, lost $tlost, cat ${cu}u+${cs}s" >&2

per_event_us() { awk -v c="$1" -v n="$2" 'BEGIN{ if (n>0) printf "%.2f", c*1e6/n; else print "-" }'; }
tcpu=$(awk -v u="$tu" -v s="$ts" 'BEGIN{printf "%.2f", u+s}')
ccpu=$(awk -v u="$cu" -v s="$cs" 'BEGIN{printf "%.2f", u+s}')
{
    echo "Load: $RATE connections/s for $SECS s, $CLIENTS client processes, $DESTS server addresses, 10 state"
    echo "changes per connection; ring buffer $BUFFER_KB KiB per CPU; $(nproc) CPUs; Linux $(uname -r); $(date -u +%F)."
    echo
    echo "| run | connections | state changes expected | reported | lost (kernel) | reader CPU (user+sys) | reader CPU per event | load CPU | load CPU per connection |"
    echo "|:---|---:|---:|---:|---:|---:|---:|---:|---:|"
    echo "| load alone | $base_conns | – | – | – | – | – | $base_cpu s | $(per_event_us "$base_cpu" "$base_conns") µs |"
    echo "| \`tcpdoctor trace --json\` (raw ring buffer) | $conns | $expected | $states (+ $resets resets, $retransmits retransmits) | $lost | $tcpu s (${tu}u + ${ts}s, peak RSS ${trss} KiB) | $(per_event_us "$tcpu" "$events") µs | $trace_load_cpu s | $(per_event_us "$trace_load_cpu" "$conns") µs |"
    echo "| \`cat trace_pipe\` (kernel text, no parsing) | $tconns | $texpected | $tlines lines | $tlost | $ccpu s (${cu}u + ${cs}s) | $(per_event_us "$ccpu" "$tlines") µs | $text_load_cpu s | $(per_event_us "$text_load_cpu" "$tconns") µs |"
    echo
    echo "Achieved rates: $((base_conns / SECS)) connections/s alone, $((conns / SECS)) under tcpdoctor, $((tconns / SECS)) under cat."
    echo "Resets seen by tcpdoctor: $reset_reasons."
    [ "$undecoded" = 0 ] || echo "Records not decoded: $undecoded."
} | tee "$OUT"
