"""Holds sockets or plain fds open for bench/status.sh, then sleeps until killed (at most DEADLINE s).

    status-hold.py conns PORT N [ADDRS]
                                  listen on 127.0.0.1..ADDRS:PORT (ADDRS loopback addresses, default 1)
                                  and hold N established connections (2N fds), spread over them
    status-hold.py fds N          hold N open descriptors of /dev/null (fds that are not sockets)
    status-hold.py mix PORT TW CW EST [ADDRS]
                                  listen on 127.0.0.1..ADDRS:PORT..PORT+3 and leave TW connections in
                                  TIME-WAIT (the client ends; they last 60 s), CW in CLOSE-WAIT (the
                                  server ends held; the clients' ends are orphaned FIN-WAIT-2 sockets for
                                  tcp_fin_timeout) and hold EST established (2 sockets each): about
                                  TW + 2 CW + 2 EST + 4 ADDRS sockets (bench/floor.sh)

The client picks an ephemeral port per destination (address, port): each destination takes at most one
connection per port of ip_local_port_range, and connect() slows down as a destination's ports fill, so
large tables spread over several addresses. The fd limit is raised to what the holder needs.
"""

import os
import resource
import signal
import socket
import sys
import time

DEADLINE = 1800


def address(k):
    """The k-th loopback address (0: 127.0.0.1)."""
    return f"127.0.{(k + 1) // 256}.{(k + 1) % 256}"


def listeners(ports, addrs):
    """One listening socket per (address, port)."""
    out = []
    for k in range(addrs):
        for port in ports:
            lst = socket.socket()
            lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lst.bind((address(k), port))
            lst.listen(4096)
            out.append(lst)
    return out


def pairer(lsts):
    """pair(i): connection i, to the listeners in turn, as (client end, server end)."""
    lsts = list(lsts)

    def pair(i):
        lst = lsts[i % len(lsts)]
        c = socket.socket()
        c.connect(lst.getsockname())  # a numeric address: no name lookup
        a, _ = lst.accept()
        return c, a

    return pair


def hold_fds(n):
    """Raises the fd limit to n (as root, up to fs.nr_open) if it is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with open("/proc/sys/fs/nr_open") as f:
        ceiling = int(f.read())
    want = min(max(n, hard), ceiling)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def mix(port, time_wait, close_wait, established, addrs=1):
    # Four ports on each address: each destination takes at most one connection per ephemeral port.
    lsts = listeners(range(port, port + 4), addrs)
    held = list(lsts)
    pair = pairer(lsts)
    for i in range(time_wait):
        c, a = pair(i)
        c.close()  # the client closes first: its end goes to TIME-WAIT
        a.close()
    for i in range(close_wait):
        c, a = pair(i)
        c.close()
        held.append(a)
    for i in range(established):
        held += pair(i)
    return held


def main():
    signal.alarm(DEADLINE)
    args = list(map(int, sys.argv[2:]))
    if sys.argv[1] == "conns":
        port, n, addrs = (args + [1])[:3]
        hold_fds(2 * n + addrs + 64)
        held = listeners([port], addrs)
        pair = pairer(held)
        for i in range(n):
            held += pair(i)
    elif sys.argv[1] == "mix":
        close_wait, established, addrs = (args + [1])[2:5]
        hold_fds(close_wait + 2 * established + 4 * addrs + 64)
        held = mix(*args)
    else:
        hold_fds(args[0] + 64)
        held = [os.open("/dev/null", os.O_RDONLY) for _ in range(args[0])]
    print("READY", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
