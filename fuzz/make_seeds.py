#!/usr/bin/env python3
"""Builds the fuzz targets' seed corpora in fuzz/corpus/<target>/ (gitignored).

    python3 fuzz/make_seeds.py [SHARED_DIR]     # default: ../shared beside the repository, or /work/shared

Seeds come from the shared captures (corpus/*.pcap*, peers/zeek/**/*.pcap*), the trace format files in
crates/host/src/trace/testdata/, this host's /proc/net files and a live sock_diag dump (when netlink is
available), plus inputs written here in each target's own input format (see the `fuzzing` module of
each crate for the formats). A handful of these are committed under fuzz/regressions/<target>/ as the
replay tests' seed set; the rest only start the fuzzer off.
"""

import glob
import os
import socket
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
TESTDATA = os.path.join(ROOT, "crates", "host", "src", "trace", "testdata")


def shared_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    beside = os.path.join(ROOT, "..", "shared")
    return beside if os.path.isdir(os.path.join(beside, "corpus")) else "/work/shared"


def out(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- captures -------------------------------------------------------------------------------------

def pcap_frames(data):
    """(link type, frame) of a classic pcap file, either byte order."""
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return []
    link = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    frames, at = [], 24
    while at + 16 <= len(data):
        incl = struct.unpack(e + "I", data[at + 8:at + 12])[0]
        frame = data[at + 16:at + 16 + incl]
        if len(frame) < incl:
            break
        frames.append((link, frame))
        at += 16 + incl
    return frames


# packet::fuzzing::LINKS order.
SEL = {0: 0, 1: 1, 9: 2, 12: 3, 14: 4, 50: 5, 101: 6, 104: 7, 108: 8, 113: 9, 228: 10, 229: 11, 276: 12}


def rewrap(ip):
    """One IP packet under every link header packet::decode knows."""
    v6 = ip[0] >> 4 == 6
    et = 0x86DD if v6 else 0x0800
    af = 30 if v6 else 2
    return [
        (0, struct.pack("<I", af) + ip),
        (1, b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + struct.pack(">H", et) + ip),
        # 802.1Q VLAN, then QinQ (802.1ad outer tag).
        (1, b"\x00" * 12 + b"\x81\x00\x00\x64" + struct.pack(">H", et) + ip),
        (1, b"\x00" * 12 + b"\x88\xa8\x00\x0a\x81\x00\x00\x64" + struct.pack(">H", et) + ip),
        # MPLS label stack of one, bottom of stack set.
        (1, b"\x00" * 12 + b"\x88\x47\x00\x01\x01\x40" + ip),
        # PPPoE session.
        (1, b"\x00" * 12 + b"\x88\x64\x11\x00\x00\x01" + struct.pack(">H", len(ip) + 2)
         + (b"\x00\x57" if v6 else b"\x00\x21") + ip),
        (9, (b"\x00\x57" if v6 else b"\x00\x21") + ip),
        (9, b"\xff\x03" + (b"\x00\x57" if v6 else b"\x00\x21") + ip),
        (12, ip),
        (14, ip),
        (50, b"\xff\x03" + (b"\x00\x57" if v6 else b"\x00\x21") + ip),
        (101, ip),
        (104, b"\x0f\x00" + struct.pack(">H", et) + ip),
        (108, struct.pack(">I", 24 if v6 else 2) + ip),
        (113, b"\x00\x00\x00\x01\x00\x06" + b"\x00" * 8 + struct.pack(">H", et) + ip),
        (229 if v6 else 228, ip),
        (276, struct.pack(">HHI", et, 0, 2) + b"\x00\x01\x00\x06" + b"\x00" * 8 + ip),
    ]


def ip_of(link, frame):
    if link == 1 and len(frame) > 14 and frame[12:14] in (b"\x08\x00", b"\x86\xdd"):
        return frame[14:]
    if link in (101, 228, 229, 12, 14):
        return frame
    return None


def captures(shared):
    files = sorted(glob.glob(os.path.join(shared, "peers", "zeek", "**", "*.pcap*"), recursive=True))
    files += [os.path.join(shared, "corpus", n) for n in ("mix.pcap", "mix.pcapng", "scenarios.pcap", "scenarios.pcapng")]
    n_decode = 0
    for path in files:
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read(1 << 21)
        base = os.path.basename(path).replace(".", "_")
        # Capture seeds: small files whole, the others cut to their first 4 KB (a truncated last record
        # is itself a useful seed).
        out("pcap_slice", base, data if len(data) <= 4096 else data[:4096])
        out("pcap_stream", base, data if len(data) <= 4096 else data[:4096])
        seen = set()
        for link, frame in pcap_frames(data)[:400]:
            key = (link, frame[:54])
            if key in seen or link not in SEL:
                continue
            seen.add(key)
            if len(seen) > 12:
                break
            out("decode", f"{base}_{len(seen)}", bytes([SEL[link]]) + frame)
            n_decode += 1
            ip = ip_of(link, frame)
            if ip is not None and len(seen) <= 2:
                for i, (l2, f2) in enumerate(rewrap(ip)):
                    out("decode", f"{base}_{len(seen)}_wrap{i}", bytes([SEL[l2]]) + f2)
                    # The same frame with the other original-length modes.
                    if i == 0:
                        for mode in (1, 2, 3):
                            out("decode", f"{base}_{len(seen)}_mode{mode}", bytes([SEL[l2] | mode << 6]) + f2)
    return n_decode


# --- tracker --------------------------------------------------------------------------------------

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def chunk(src, dst, flags, seq=0, ack=0, rel_seq=True, rel_ack=True, payload=0, opts=0, window=65535, step=20, back=False, timeouts=False):
    b0 = src | dst << 3 | (0x40 if rel_seq else 0) | (0x80 if rel_ack else 0)
    b15 = step | (0x40 if back else 0) | (0x80 if timeouts else 0)
    return struct.pack(">BBIIHBHB", b0, flags, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, payload, opts, window, b15)


def handshake(c, s, isn_c=1000, isn_s=5000):
    return [
        chunk(c, s, SYN, isn_c, 0, False, False, opts=0x0F | 0x70),
        chunk(s, c, SYN | ACK, isn_s, 0, False, True, opts=0x0F | 0x70),
        chunk(c, s, ACK, 0, 0),
    ]


def tracker_seeds():
    seeds = {}
    hs = handshake(0, 1)
    data = [chunk(0, 1, PSH | ACK, payload=100), chunk(1, 0, PSH | ACK, payload=1400), chunk(0, 1, ACK)]
    close = [chunk(0, 1, FIN | ACK), chunk(1, 0, ACK), chunk(1, 0, FIN | ACK), chunk(0, 1, ACK)]
    seeds["clean_close"] = hs + data + close + [chunk(0, 1, 0, step=36, timeouts=True)]
    seeds["reset"] = hs + data + [chunk(1, 0, RST | ACK)]
    seeds["refused"] = [chunk(2, 3, SYN, 77, 0, False, False), chunk(3, 2, RST | ACK, 0, 0, False, True)]
    seeds["close_wait"] = hs + [chunk(1, 0, FIN | ACK), chunk(0, 1, ACK), chunk(0, 1, PSH | ACK, payload=10)]
    seeds["v6_retransmit"] = handshake(4, 5) + [chunk(4, 5, PSH | ACK, payload=500)] * 3 + [chunk(5, 4, ACK, step=30)]
    seeds["midstream"] = [chunk(0, 1, ACK, 123456, 654321, False, False, payload=50), chunk(1, 0, ACK, payload=0)]
    # More connections than the cap of 8: every endpoint pair opens one.
    flood = []
    for s in range(8):
        for d in range(8):
            flood.append(chunk(s, d, SYN, s * 1000 + d, 0, False, False, step=1))
    seeds["flood_evictions"] = b"".join(flood)
    seeds["time_backwards"] = b"".join(hs[:1] + [chunk(1, 0, SYN | ACK, 9, 0, False, True, step=30, back=True)] + hs[2:])
    seeds["jumbo"] = b"".join(hs + [struct.pack(">BBIIBBBHB", 0xC0, PSH | ACK, 0, 0, 0xFF, 0x28, 0, 65535, 5)])
    seeds["simultaneous_open"] = [chunk(0, 1, SYN, 10, 0, False, False), chunk(1, 0, SYN, 20, 0, False, False),
                                  chunk(0, 1, SYN | ACK, 10, 0, False, True), chunk(1, 0, SYN | ACK, 20, 0, False, True)]
    for name, parts in seeds.items():
        out("tracker", name, parts if isinstance(parts, bytes) else b"".join(parts))


# --- sock_diag ------------------------------------------------------------------------------------

def nlmsg(msg_type, flags, payload, seq=1):
    return struct.pack("=IHHII", 16 + len(payload), msg_type, flags, seq, 0) + payload


def sockdiag_seeds():
    # Netlink error and done messages, written by hand (NLMSG_ERROR = 2, NLMSG_DONE = 3).
    out("sockdiag", "error_eperm", b"\x00" + nlmsg(2, 0, struct.pack("=i", -1) + nlmsg(20, 0x301, b"")[:16]))
    out("sockdiag", "done", b"\x00" + nlmsg(3, 2, struct.pack("=i", 0)))
    try:
        live_sockdiag()
    except OSError as e:
        print(f"sock_diag seeds from this host skipped: {e}", file=sys.stderr)


def live_sockdiag():
    """Dumps of this host's TCP sockets (with a few made here), as the kernel sends them."""
    keep = []
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        srv = socket.socket(family, socket.SOCK_STREAM)
        srv.bind((addr, 0))
        srv.listen()
        cli = socket.create_connection(srv.getsockname()[:2])
        acc, _ = srv.accept()
        acc.close()  # the client is left in CLOSE-WAIT
        keep += [srv, cli]
    for family, fam_bit in ((socket.AF_INET, 0), (socket.AF_INET6, 1)):
        for ext, ext_name in ((0, "plain"), (2, "info")):
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)  # NETLINK_SOCK_DIAG
            s.bind((0, 0))
            req = struct.pack("=BBBBI", family, 6, ext, 0, 0xFFFFFFFF) + b"\0" * 48
            s.send(nlmsg(20, 0x301, req))  # SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP
            for i in range(4):
                d = s.recv(1 << 16)
                out("sockdiag", f"live_{'v6' if fam_bit else 'v4'}_{ext_name}_{i}", bytes([fam_bit]) + d)
                if struct.unpack("=H", d[4:6])[0] in (2, 3):
                    break
            s.close()
    for k in keep:
        k.close()


# --- tracefs --------------------------------------------------------------------------------------

FORMATS = ["inet_sock_set_state.6.18", "tcp_send_reset.6.18", "tcp_receive_reset.6.18", "tcp_retransmit_skb.6.18"]


def parse_format(text):
    fields, ident = {}, 0
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("ID:"):
            ident = int(line[3:])
        if line.startswith("field:"):
            parts = dict(p.strip().split(":", 1) for p in line.split(";") if ":" in p)
            name = parts["field"].strip().replace("*", " ").split()[-1].split("[")[0]
            fields[name] = (int(parts["offset"]), int(parts["size"]))
    return ident, fields


def record(ident, fields, family, state=1, reason=2):
    size = max(o + s for o, s in fields.values())
    r = bytearray(size + (-size) % 4)

    def put(name, value):
        if name in fields:
            o, s = fields[name]
            r[o:o + len(value)] = value[:s]

    put("common_type", struct.pack("=H", ident))
    put("common_pid", struct.pack("=i", 4242))
    put("oldstate", struct.pack("=i", 7))
    put("newstate", struct.pack("=i", 2))
    put("state", struct.pack("=i", state))
    put("reason", struct.pack("=I", reason))
    put("sport", struct.pack("=H", 40000))
    put("dport", struct.pack("=H", 80))
    put("family", struct.pack("=H", family))
    put("protocol", struct.pack("=H", 6))
    v4s, v4d = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    v6s, v6d = bytes(15) + b"\x01", bytes(15) + b"\x02"
    if "saddr" in fields and fields["saddr"][1] >= 24:
        if family == 2:
            put("saddr", struct.pack("=H", 2) + struct.pack(">H", 40000) + v4s)
            put("daddr", struct.pack("=H", 2) + struct.pack(">H", 80) + v4d)
        else:
            put("saddr", struct.pack("=H", 10) + struct.pack(">H", 40000) + bytes(4) + v6s)
            put("daddr", struct.pack("=H", 10) + struct.pack(">H", 80) + bytes(4) + v6d)
    else:
        put("saddr", v4s)
        put("daddr", v4d)
        put("saddr_v6", b"\0" * 10 + b"\xff\xff" + v4s if family == 2 else v6s)
        put("daddr_v6", b"\0" * 10 + b"\xff\xff" + v4d if family == 2 else v6d)
    return bytes(r)


def event(rec, delta, long=False):
    if long or len(rec) > 28 * 4:
        return struct.pack("=II", 0 | delta << 5, len(rec) + 4) + rec
    return struct.pack("=I", len(rec) // 4 | delta << 5) + rec


def page(events, lost=None):
    body = b"".join(events)
    commit = len(body) | ((3 << 30) if lost is not None else 0)
    tail = struct.pack("=q", lost) if lost is not None else b""
    p = struct.pack("=QQ", 10**12, commit) + body + tail
    return p + b"\0" * (4096 - len(p)) if len(p) < 4096 else p


def tracefs_seeds():
    for i, name in enumerate(FORMATS):
        with open(os.path.join(TESTDATA, name + ".format")) as f:
            text = f.read()
        ident, fields = parse_format(text)
        evs = [event(record(ident, fields, 2), 5), event(record(ident, fields, 10), 7, long=True),
               struct.pack("=II", 30 | 3 << 5, 1),  # time extend
               struct.pack("=II", 29 | 1 << 5, 8) + b"\0" * 4,  # padding
               event(record(ident, fields, 2, state=0, reason=1), 1)]
        # With the real format text in the input, and with an empty text (the real one is used).
        out("tracefs", f"{name}_text", bytes([i]) + text.encode() + b"\0" + page(evs, lost=3))
        out("tracefs", f"{name}_short", bytes([i]) + b"\0" + page(evs))
    with open(os.path.join(TESTDATA, "header_page.6.18")) as f:
        header = f.read()
    with open(os.path.join(TESTDATA, "tcp_send_reset.pre-6.10.format")) as f:
        old = f.read()
    ident, fields = parse_format(old)
    # Bit 2: the page layout comes from the input's text (header_page fields followed by the format).
    out("tracefs", "old_send_reset_own_header", bytes([1 | 4]) + (header + old).encode() + b"\0"
        + page([event(record(ident, fields, 2), 9)]))


# --- /proc ----------------------------------------------------------------------------------------

def proc_seeds():
    for name in ("netstat", "snmp", "snmp6", "sockstat", "sockstat6"):
        try:
            with open(f"/proc/net/{name}", "rb") as f:
                out("proc", name, f.read())
        except OSError:
            pass
    out("proc", "sysctl_conf", b"# net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_tw_recycle = 1\n"
        b"net/ipv4/tcp_fin_timeout=30\n-net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.ip_local_port_range = 1024 65000\n"
        b"; comment\nkernel.pid_max = 9\n")
    out("proc", "fd_links", b"socket:[4242]\npipe:[17]\nsocket:[]\n/dev/null\nsocket:[18446744073709551615]\n"
        b"anon_inode:[eventpoll]\nsocket:[99999999999999999999]\n")


def main():
    shared = shared_dir()
    n = captures(shared)
    tracker_seeds()
    sockdiag_seeds()
    tracefs_seeds()
    proc_seeds()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print(f"{t}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
