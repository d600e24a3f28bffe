# Sourced by the benchmarks that fill a network namespace with sockets (status.sh, exporter.sh): makes
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

# start one holder (status-hold.py), wait (at most 300 s) for its READY line
start() {
    local fifo
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    "$@" >"$fifo" &
    PIDS+=($!)
    timeout 300 head -n1 "$fifo" >/dev/null
    rm -f "$fifo"
}
