#!/usr/bin/env bash
# What `tcpdoctor top` costs while it refreshes: its CPU time (utime + stime from /proc/PID/stat) over
# SECS seconds, in a network namespace holding about 2 x HOLDERS x CONNS_PER_HOLDER TCP sockets, and
# how fast it answers a key meanwhile (the time from `send-keys ?` until the help is on the pane).
#
# Needs root (network namespaces; as root, top also runs its trace feed, which is measured with it),
# python3, iproute2 and tmux. Runs top in a tmux server of its own (`tmux -L`), on loopback inside a
# namespace it creates; kills only the processes it started and removes the namespace on exit.
# Usage: bench/top.sh   (env: HOLDERS, CONNS_PER_HOLDER, SECS, INTERVAL)
set -euo pipefail
cd "$(dirname "$0")/.."

HOLDERS=${HOLDERS:-2}
CONNS_PER_HOLDER=${CONNS_PER_HOLDER:-5000}
SECS=${SECS:-30}
INTERVAL=${INTERVAL:-1}
NS=tcpd-bench-top-$$
TMUX_SOCKET=tcpd-bench-top-$$
BIN=$PWD/target/release/tcpdoctor
source bench/netns.sh
trap 'tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true; cleanup' EXIT
for i in $(seq 1 "$HOLDERS"); do
    start ip netns exec "$NS" python3 bench/status-hold.py conns $((7000 + i)) "$CONNS_PER_HOLDER"
done
SOCKETS=$(ip netns exec "$NS" ss -tanH | wc -l)

tmux -L "$TMUX_SOCKET" -f /dev/null new-session -d -x 160 -y 50 "$BIN top --netns $NS --interval $INTERVAL"
TOP=$(tmux -L "$TMUX_SOCKET" display-message -p '#{pane_pid}')
screen() { tmux -L "$TMUX_SOCKET" capture-pane -p; }
for _ in $(seq 1 300); do screen | grep -q 'last scan' && break; sleep 0.1; done
sleep 3 # past the first snapshots
[ "$(cat "/proc/$TOP/comm")" = tcpdoctor ] || { echo "the pane runs $(cat "/proc/$TOP/comm"), not tcpdoctor" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$TOP/stat"; }
HZ=$(getconf CLK_TCK)
before=$(ticks)
sleep "$SECS"
after=$(ticks)
SCAN=$(screen | grep -o 'last scan [^)]*' | head -n1)

# Key latency: five times, `?` opens the help and any key closes it.
LAT=()
for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    tmux -L "$TMUX_SOCKET" send-keys '?'
    until screen | grep -q 'tcpdoctor top: keys'; do sleep 0.01; done
    LAT+=($(( ($(date +%s%N) - start) / 1000000 )))
    tmux -L "$TMUX_SOCKET" send-keys x
    until ! screen | grep -q 'tcpdoctor top: keys'; do sleep 0.01; done
    sleep 0.3
done

echo "$(date -u +%Y-%m-%d), $(nproc) cores, Linux $(uname -r): $SOCKETS TCP sockets in the namespace;"
echo "top --interval $INTERVAL used $(( after - before )) CPU ticks ($HZ/s) in $SECS s:" \
    "$(awk -v t=$(( after - before )) -v hz="$HZ" -v s="$SECS" 'BEGIN { printf "%.1f%% of one core", 100 * t / hz / s }');" \
    "$SCAN; key to screen: ${LAT[*]} ms"
