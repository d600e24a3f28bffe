# Sourced by the benchmarks that fill a network namespace with sockets (status.sh, exporter.sh, top.sh): makes
# the namespace $NS with loopback up, builds the release binary, and removes the namespace and kills the
# processes listed in PIDS (only those this script started) on exit.

PIDS=()
FIFO=

cleanup() {
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    [ -z "$FIFO" ] || rm -f "$FIFO"
}
trap cleanup EXIT
# A signal ends the script through its EXIT trap, which cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
cargo build --release -q -p tcpdoctor

ip netns add "$NS"
ip -n "$NS" link set lo up

# start one holder (status-hold.py), wait (at most START_TIMEOUT s, default 300) for its READY line; a
# holder that died first (each holds 2 x its connections in fds, under the fd limit of 20k) stops the
# benchmark
start() {
    local line
    FIFO=$(mktemp -u)
    mkfifo "$FIFO"
    "$@" >"$FIFO" &
    PIDS+=($!)
    line=$(timeout "${START_TIMEOUT:-300}" head -n1 "$FIFO" || true)
    rm -f "$FIFO"
    FIFO=
    [ "$line" = READY ] || { echo "a holder failed: $*" >&2; exit 1; }
}
