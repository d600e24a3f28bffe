#!/usr/bin/env python3
"""One TCP exchange over a test's tunnel, from inside two namespaces (run once with `server`, once with
`client`). The client sends REQUEST bytes, the server answers with REPLY bytes and closes first; the
client then closes. Every step is bounded by socket timeouts.

    tunnel_traffic.py server ADDR PORT      # prints "listening" once it accepts, then serves one client
    tunnel_traffic.py client ADDR PORT
"""
import socket, sys

REQUEST, REPLY = 20_000, 7_000
role, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
family = socket.AF_INET6 if ":" in host else socket.AF_INET


def read_exactly(s, n):
    got = 0
    while got < n:
        chunk = s.recv(min(65536, n - got))
        if not chunk:
            break
        got += len(chunk)
    return got


if role == "server":
    lst = socket.socket(family)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((host, port))
    lst.listen(1)
    lst.settimeout(10)
    print("listening", flush=True)
    s, _ = lst.accept()
    s.settimeout(10)
    read_exactly(s, REQUEST)
    s.sendall(b"r" * REPLY)
    s.close()
else:
    c = socket.create_connection((host, port), timeout=10)
    c.sendall(b"q" * REQUEST)
    read_exactly(c, REPLY + 1)
    c.close()
