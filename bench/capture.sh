#!/usr/bin/env bash
# Live capture throughput: `tcpdoctor capture -i lo` in a private network namespace while ~1 Gbit/s of
# mixed traffic runs on its loopback (an iperf3 bulk stream at MTU 1500 with offloads off, so frames are
# ordinary ~1500-byte packets, plus a churn of short request/response connections). Reports frames seen,
# kernel drops, and the CPU cost per frame (user + system time of tcpdoctor / frames).
#
#   bench/capture.sh [SECONDS] [RATE]        defaults: 10 s, 1G (iperf3 -b syntax)
# Needs root, iproute2, iperf3, ethtool, python3, GNU time (installed here if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}; rate=${2:-1G}
need=()
for c in iperf3:iperf3 ethtool:ethtool /usr/bin/time:time python3:python3 ip:iproute2; do
  command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
(cd "$here" && cargo build --release -q)
bin=$here/target/release/tcpdoctor
ns=tcpdoctor-capbench-$$
out=$(mktemp -d)
cleanup() {
  [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up mtu 1500
ip netns exec "$ns" ethtool -K lo tso off gso off gro off >/dev/null
ip netns exec "$ns" iperf3 -s -1 -p 5201 >/dev/null 2>&1 & srv=$!
ip netns exec "$ns" /usr/bin/time -f "%U %S %M" -o "$out/time" \
  "$bin" capture -i lo --duration $((secs + 3)) >"$out/summary" 2>"$out/err" & cap=$!
sleep 1
# Short connections in the background: connect, request, response, close, as fast as one thread goes.
ip netns exec "$ns" python3 - "$secs" >"$out/churn" <<'PY' &
import socket, sys, time, threading
end = time.time() + float(sys.argv[1])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", 8080)); l.listen(512)
def serve():
    while True:
        s, _ = l.accept(); s.recv(4096); s.sendall(b"x" * 2000); s.close()
threading.Thread(target=serve, daemon=True).start()
n = 0
while time.time() < end:
    c = socket.create_connection(("127.0.0.1", 8080)); c.sendall(b"GET / HTTP/1.1\r\n\r\n")
    while c.recv(65536): pass
    c.close(); n += 1
print(n)
PY
churn=$!
ip netns exec "$ns" iperf3 -c 127.0.0.1 -p 5201 -b "$rate" -t "$secs" -P 1 -M 1448 -J >"$out/iperf.json"
wait "$churn"
wait "$cap"
read -r user sys rss <"$out/time"
frames=$(sed -n 's/.*: \([0-9]*\) frames captured.*/\1/p' "$out/err")
dropped=$(sed -n 's/.* \([0-9]*\) dropped by the kernel/\1/p' "$out/err")
gbps=$(python3 -c "import json;d=json.load(open('$out/iperf.json'));print(round(d['end']['sum_sent']['bits_per_second']/1e9,3))")
echo "offered: iperf3 $gbps Gbit/s for $secs s, plus $(cat "$out/churn") short connections"
echo "| frames captured | kernel drops | CPU user+sys | CPU per frame | peak RSS |"
echo "|---:|---:|---:|---:|---:|"
python3 -c "u,s,f=$user,$sys,$frames;print(f'| {f} | $dropped | {u+s:.2f} s | {(u+s)/max(f,1)*1e9:.0f} ns | $((rss / 1024)) MiB |')"
grep -E "connections in|graceful|kernel:" "$out/summary" || true
