#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine: installs what the tests need, then runs them.
#   ./scripts/test.sh
# Needs: a Rust toolchain (rustup, stable) and root or sudo for apt-get (the live-host tests also need
# root: they create network namespaces; without root they skip and say why).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: ip (network namespaces for the live-host tests), ss (to cross-check
# socket counts), python3 (socket populations and seed traffic), tcpdump (an independent capture of the
# same live traffic, and the underlay and inside of a real VXLAN), setpriv (the unprivileged runs), kill
# (signals to the real binary), setcap (the least-privilege capture test), tshark (an independent decoder
# that checks the tunnel captures the tests build), nft (a router that forges resets), prometheus (a real
# Prometheus server that scrapes the exporter, and promtool, which checks its output and the alert rules),
# curl (the exporter's HTTP client in its tests), chromium (the HTML report opened in a real browser,
# driven over its DevTools protocol), tmux (a terminal for `tcpdoctor top`, read back with capture-pane).
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v ss >/dev/null || need+=(iproute2)
command -v python3 >/dev/null || need+=(python3)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v setpriv >/dev/null || need+=(util-linux)
command -v kill >/dev/null || need+=(procps)
command -v setcap >/dev/null || need+=(libcap2-bin)
command -v tshark >/dev/null || need+=(tshark)
command -v nft >/dev/null || need+=(nftables)
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v curl >/dev/null || need+=(curl)
command -v chromium >/dev/null || need+=(chromium)
command -v tmux >/dev/null || need+=(tmux)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

if [ ! -d ../shared/corpus ]; then
  echo "error: ../shared (the corpus and the peers' test data) must sit beside this repository" >&2
  exit 1
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Every intra-doc link resolves.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked -q
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --lib --bins --tests --locked 2>&1 | tee "$log"
# The doc examples (the tracker's transcript among them).
cargo test --workspace --doc --locked 2>&1 | tee -a "$log"
# One closing line over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
