#!/usr/bin/env python3
"""The seed's situations as real kernel TCP connections on 127.0.0.1 (run inside a test's namespace).

Prints one JSON line of ground truth per connection (client, server, cause, closer, reset_by), then
"done", then keeps the CLOSE-WAIT and open sockets until standard input closes, so that a capture stopped
before that sees them still open. Every step is bounded by socket timeouts.
"""
import json, socket, struct, sys, time

HOST = "127.0.0.1"


def addr(a):
    return f"{a[0]}:{a[1]}"


lst = socket.socket()
lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lst.bind((HOST, 0))
lst.listen(16)
lst.settimeout(5)
port = lst.getsockname()[1]
keep = []


def emit(c, cause, closer, reset_by, server=None):
    print(json.dumps({"client": addr(c.getsockname()), "server": server or f"{HOST}:{port}", "cause": cause,
                      "closer": closer, "reset_by": reset_by}), flush=True)


def pair():
    c = socket.create_connection((HOST, port), timeout=5)
    s, _ = lst.accept()
    s.settimeout(5)
    return c, s


def drain(sock):
    while sock.recv(65536):
        pass


req = b"GET / HTTP/1.1\r\n\r\n"
# graceful, client closes first: the client holds TIME-WAIT
c, s = pair(); c.sendall(req); s.recv(100); s.sendall(b"ok" * 100); c.recv(1000)
emit(c, "graceful", "client", "none"); c.close(); time.sleep(0.05); drain(s); s.close()
# graceful, server closes first
c, s = pair(); c.sendall(req); s.recv(100); s.sendall(b"ok" * 100); s.close()
emit(c, "graceful", "server", "none"); time.sleep(0.05); drain(c); c.close()
# abort: the server closes with the request unread (seed §7)
c, s = pair(); c.sendall(req); time.sleep(0.05)
emit(c, "abort", "none", "server"); s.close(); time.sleep(0.05); c.close()
# abort: SO_LINGER 0 on the client
c, s = pair(); c.sendall(req); s.recv(100)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
emit(c, "abort", "none", "client"); c.close(); time.sleep(0.05); s.close()
# reset after close: the client gave up, the server writes (seed §8)
c, s = pair(); c.sendall(req); emit(c, "reset_after_close", "client", "client"); c.close()
s.recv(100); time.sleep(0.05)
try:
    s.sendall(b"late answer"); time.sleep(0.05); s.sendall(b"more")
except OSError:
    pass
s.close()
# refused
r = socket.socket(); r.settimeout(5)
try:
    r.connect((HOST, 1))
except OSError:
    pass
emit(r, "refused", "none", "server", server=f"{HOST}:1"); r.close()
# CLOSE-WAIT: the server never closes (seed §6)
c, s = pair(); c.sendall(req); s.recv(100); s.sendall(b"ok"); c.recv(10)
emit(c, "close_wait", "client", "none"); c.close(); keep.append(s)
# open
c, s = pair(); c.sendall(req); s.recv(100); emit(c, "open", "none", "none"); keep.append((c, s))
time.sleep(0.2)
print("done", flush=True)
sys.stdin.read()
