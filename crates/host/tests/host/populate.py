"""Builds a known TCP socket population on loopback, inside the network namespace it is run in.

Run by the host and tcpdoctor integration tests as `ip netns exec NS python3 populate.py`. Prints one
line of JSON with the pids and expected numbers once every socket is in place, then holds the sockets
until killed (by pid, by the test) or until DEADLINE seconds have passed.

    :7001  server-first close x SERVER_FIRST   -> TIME-WAIT on the listening port (this host as server)
    :7002  client-first close x CLIENT_FIRST   -> TIME-WAIT on ephemeral ports to 127.0.0.1:7002
    :7003  a child process connects CLOSE_WAIT times; the parent sends UNREAD bytes on each and closes
           -> CLOSE-WAIT held by the child with unread data; orphaned FIN-WAIT-2 on the parent's side
    :7004  listen(BACKLOG), never accepts; FULL_CLIENTS non-blocking connects -> a full accept queue
    [::1]:7005  one IPv6 connection kept open -> two ESTABLISHED IPv6 sockets
"""

import json
import os
import signal
import socket
import sys
import time

SERVER_FIRST = 5
CLIENT_FIRST = 7
CLOSE_WAIT = 12
UNREAD = 100
BACKLOG = 2
FULL_CLIENTS = 5
DEADLINE = 120


def listener(port, backlog=16, family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(backlog)
    return s


def settle(expected, timeout=10.0):
    """Waits (at most `timeout` s) until /proc/net/tcp{,6} show the expected count per state (hex st)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = {}
        for name in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(name) as f:
                for line in f.readlines()[1:]:
                    st = line.split()[3]
                    counts[st] = counts.get(st, 0) + 1
        if all(counts.get(st, 0) == n for st, n in expected.items()):
            return
        time.sleep(0.05)
    sys.exit(f"sockets did not settle: {counts} (wanted {expected})")


def main():
    signal.alarm(DEADLINE)
    keep = []

    l1 = listener(7001)
    keep.append(l1)
    for _ in range(SERVER_FIRST):
        c = socket.create_connection(("127.0.0.1", 7001), timeout=5)
        a, _ = l1.accept()
        a.close()  # the server closes first
        c.recv(1)  # its FIN
        c.close()

    l2 = listener(7002)
    keep.append(l2)
    for _ in range(CLIENT_FIRST):
        c = socket.create_connection(("127.0.0.1", 7002), timeout=5)
        a, _ = l2.accept()
        c.close()  # the client closes first
        a.recv(1)
        a.close()

    l3 = listener(7003)
    keep.append(l3)
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        signal.alarm(DEADLINE)
        # Drop the listeners inherited from the parent: the tests want each socket to have one holder
        # (sockets held by several processes are prefork.py's).
        for s in keep:
            s.close()
        held = [socket.create_connection(("127.0.0.1", 7003), timeout=5) for _ in range(CLOSE_WAIT)]
        os.write(ready_w, b"x")
        while True:
            time.sleep(1)
            del_unused = held  # keep the sockets referenced, never read them
    os.read(ready_r, 1)
    for _ in range(CLOSE_WAIT):
        a, _ = l3.accept()
        a.sendall(b"u" * UNREAD)
        a.close()

    l4 = listener(7004, backlog=BACKLOG)
    keep.append(l4)
    for _ in range(FULL_CLIENTS):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", 7004))
        keep.append(c)
        time.sleep(0.05)

    l6 = listener(7005, family=socket.AF_INET6, host="::1")
    keep.append(l6)
    c6 = socket.create_connection(("::1", 7005), timeout=5)
    a6, _ = l6.accept()
    keep += [c6, a6]

    settle({"06": SERVER_FIRST + CLIENT_FIRST, "08": CLOSE_WAIT, "05": CLOSE_WAIT, "02": FULL_CLIENTS - BACKLOG - 1})
    print(json.dumps({
        "parent": os.getpid(), "child": child,
        "server_first": SERVER_FIRST, "client_first": CLIENT_FIRST,
        "close_wait": CLOSE_WAIT, "unread": UNREAD, "backlog": BACKLOG,
    }), flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
