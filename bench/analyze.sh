#!/usr/bin/env bash
# Whole-process speed and memory of `tcpdoctor analyze` against tshark and tcptrace on one capture.
#
#   bench/analyze.sh [CAPTURE]
#
# Without CAPTURE it makes the ~1 GB mixed-traffic capture of shared/corpus (as root: a private network
# namespace, loopback only) in $BENCH_DIR (default /tmp/tcpdoctor-bench) and uses it. Needs hyperfine, tshark,
# tcptrace and GNU time (Debian: hyperfine tshark tcptrace time; the corpus script also needs tcpdump,
# nftables, ethtool, wireshark-common), installed here if missing.
# Prints hyperfine's table (markdown) and each command's peak RSS; paste both into BENCHMARKS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/tmp/tcpdoctor-bench}
mkdir -p "$dir"

need=()
for c in hyperfine:hyperfine tshark:tshark tcptrace:tcptrace /usr/bin/time:time tcpdump:tcpdump nft:nftables \
         ethtool:ethtool editcap:wireshark-common; do
  command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

cap=${1:-}
if [ -z "$cap" ]; then
  cap=$dir/mix.pcap
  [ -f "$cap" ] || "$here/../shared/corpus/make_corpus.sh" mix "$dir" 1000
fi
(cd "$here" && cargo build --release -q)
bin=$here/target/release/tcpdoctor

echo "capture: $cap ($(du -h "$cap" | cut -f1), $(capinfos -c -M "$cap" | awk '/Number of packets/{print $NF}') packets)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/{print $2/1048576 " GiB"}' /proc/meminfo), $(uname -r)"
echo
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-markdown "$dir/analyze.md" \
  -n "cat > /dev/null" "cat '$cap' > /dev/null" \
  -n "tcpdoctor analyze" "'$bin' analyze '$cap' > /dev/null" \
  -n "tcpdoctor analyze --json" "'$bin' analyze --json '$cap' > /dev/null" \
  -n "tshark -q -z conv,tcp" "tshark -r '$cap' -q -z conv,tcp > /dev/null" \
  -n "tcptrace -n" "tcptrace -n '$cap' > /dev/null"
cat "$dir/analyze.md"
echo
echo "peak RSS (GNU time, one run each):"
rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
printf '| %s | %s MiB |\n' \
  "tcpdoctor analyze" "$(( $(rss "$bin" analyze "$cap") / 1024 ))" \
  "tcpdoctor analyze --json" "$(( $(rss "$bin" analyze --json "$cap") / 1024 ))" \
  "tshark -q -z conv,tcp" "$(( $(rss tshark -r "$cap" -q -z conv,tcp) / 1024 ))" \
  "tcptrace -n" "$(( $(rss tcptrace -n "$cap") / 1024 ))"
