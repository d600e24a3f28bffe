#!/usr/bin/env python3
"""Two connections that end in a reset after a silence, for the reset-origin test (run in the test's
client and server namespaces).

    reset_traffic.py server GAP        # dual-stack on ports 8080 and 8081; prints "listening";
                                       # serves two clients, then waits until stdin closes
    reset_traffic.py client ADDR GAP   # prints "armed" before its last write to 8081, waits for a line

Port 8080: request, reply, GAP seconds of silence, then the server closes with SO_LINGER 0: a genuine
reset from the server. Port 8081: request, reply; the client prints "armed" and waits for a line on
stdin (the test adds a reject rule on the router meanwhile), then after GAP seconds writes again: the
router answers with a reset in the server's name. The client prints one line per connection:
"8080 reset" / "8081 reset" when it saw ECONNRESET. Every step is bounded by socket timeouts.
"""
import socket, struct, sys, threading, time

role = sys.argv[1]


# The connections whose client the router cut off: reset when the server ends, so that none is left
# an orphan retransmitting its FIN into the reject rule (the kernel's orphan count is host-wide).
held = []


def serve(lst, gap, hard):
    s, _ = lst.accept()
    s.settimeout(30)
    s.recv(100)
    s.sendall(b"reply")
    if hard:
        time.sleep(gap)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    else:
        held.append(s)
        try:
            s.recv(100)  # nothing comes: the router rejects the client's next write
        except OSError:
            pass


if role == "server":
    gap = float(sys.argv[2])
    listeners = []
    for port in (8080, 8081):
        lst = socket.socket(socket.AF_INET6)
        lst.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("::", port))
        lst.listen(4)
        lst.settimeout(60)
        listeners.append(lst)
    print("listening", flush=True)
    # One client per family, each opening 8080 then 8081; then wait until standard input closes.
    for _ in range(2):
        serve(listeners[0], gap, True)
        threading.Thread(target=serve, args=(listeners[1], gap, False), daemon=True).start()
    sys.stdin.read()
    for s in held:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
else:
    addr, gap = sys.argv[2], float(sys.argv[3])
    c = socket.create_connection((addr, 8080), timeout=30)
    c.sendall(b"request")
    c.recv(100)
    try:
        c.recv(100)
        print("8080 closed", flush=True)
    except ConnectionResetError:
        print("8080 reset", flush=True)
    c.close()
    c = socket.create_connection((addr, 8081), timeout=30)
    c.sendall(b"request")
    c.recv(100)
    print("armed", flush=True)
    sys.stdin.readline()
    time.sleep(gap)
    try:
        c.sendall(b"more")
        c.recv(100)
        print("8081 answered", flush=True)
    except ConnectionResetError:
        print("8081 reset", flush=True)
    c.close()
