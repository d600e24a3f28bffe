# Sourced by the benchmarks that fill a network namespace with sockets (status.sh, exporter.sh, top.sh): makes
# the namespace $NS with loopback up, builds the release binary, and removes the namespace and kills the
# processes listed in PIDS (only those this script started) on exit.

PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
cargo build --release -q -p tcpdoctor

ip netns add "$NS"
ip -n "$NS" link set lo up

# start one holder (status-hold.py), wait (at most 300 s) for its READY line; a holder that died
# first (each holds 2 x its connections in fds, under the fd limit of 20k) stops the benchmark
start() {
    local fifo line
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    "$@" >"$fifo" &
    PIDS+=($!)
    line=$(timeout 300 head -n1 "$fifo" || true)
    rm -f "$fifo"
    [ "$line" = READY ] || { echo "a holder failed: $*" >&2; exit 1; }
}
