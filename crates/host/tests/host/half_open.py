"""Holds a listener with N half-open connections (request sockets in SYN-RECEIVED), inside the network
namespace it is run in.

Run by the host and tcpdoctor integration tests (lab::Netns::half_open) as

    ip netns exec NS python3 half_open.py LISTEN_ADDR PORT PEER_ADDR N

after the test has given the namespace LISTEN_ADDR and a route to PEER_ADDR on a link where nothing
answers. It listens on LISTEN_ADDR:PORT, then sends N hand-built SYNs from PEER_ADDR (ports
FIRST_PEER_PORT, FIRST_PEER_PORT + 1, ...) with a raw socket. PEER_ADDR is not local, so no socket of
this host can be the client: the kernel answers each SYN with a SYN-ACK that is lost on that link, no
final ACK ever comes, and each request socket stays in SYN-RECEIVED while the kernel retransmits its
SYN-ACK (tcp_synack_retries, 5 by default in a new namespace: about 63 s).

Prints one line of JSON once /proc/net/tcp shows all N, then holds the listener (its request sockets
die with it) until killed (by pid, by the test) or until DEADLINE seconds have passed.
"""

import json
import os
import signal
import socket
import struct
import sys
import time

FIRST_PEER_PORT = 40001
DEADLINE = 120
SETTLE = 10.0


def checksum(data):
    """The Internet checksum (RFC 1071): one's complement of the one's complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn(src, sport, dst, dport, seq):
    """An IPv4 packet carrying a SYN with an MSS option, both checksums filled in."""
    options = struct.pack("!BBH", 2, 4, 1460)  # MSS, as any real client sends it
    offset = (20 + len(options)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, offset << 4, 0x02, 65535, 0, 0) + options
    # RFC 9293 §3.1: the TCP checksum covers a pseudo-header of the addresses, protocol and length.
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), sport, 0x4000, 64, socket.IPPROTO_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def syn_recv_on(port):
    """Sockets in SYN_RECV (st 03: request sockets are listed under it) whose local port is `port`."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return sum(1 for r in rows if r[3] == "03" and int(r[1].split(":")[1], 16) == port)


def main():
    listen_addr, port, peer, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    signal.alarm(DEADLINE)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((listen_addr, port))
    # A backlog well above n: the SYN queue is never full, so the kernel keeps request sockets rather
    # than answering with syncookies (which keep no state).
    lsock.listen(max(64, 4 * n))

    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    src, dst = socket.inet_aton(peer), socket.inet_aton(listen_addr)
    peer_ports = [FIRST_PEER_PORT + i for i in range(n)]
    for i, sport in enumerate(peer_ports):
        raw.sendto(syn(src, sport, dst, port, 0x1000_0000 * (i + 1)), (listen_addr, 0))
    raw.close()

    deadline = time.monotonic() + SETTLE
    while (seen := syn_recv_on(port)) != n:
        if time.monotonic() > deadline:
            sys.exit(f"{seen} request sockets on :{port} after {SETTLE} s, wanted {n}")
        time.sleep(0.02)

    print(json.dumps({"pid": os.getpid(), "port": port, "peer": peer, "peer_ports": peer_ports}), flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
