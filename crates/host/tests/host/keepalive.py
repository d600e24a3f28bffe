"""Holds ESTABLISHED connections with and without TCP keepalive, idle, inside the network namespace it is
run in.

Run by the host and tcpdoctor integration tests (lab::Netns::keepalive_population) as

    ip netns exec NS python3 keepalive.py

    :7100  the parent listens with SO_KEEPALIVE (its accepted sockets inherit it, timer armed);
           a child connects PLAIN times without keepalive and KEEPALIVE times with SO_KEEPALIVE,
           then sends nothing -> PLAIN idle client sockets without a keepalive timer, held by the child

Prints one line of JSON with the pids and counts once every connection is accepted, then holds the
sockets, silent, until killed (by pid, by the test) or until DEADLINE seconds have passed. The tests
wait for the idleness they need themselves.
"""

import json
import os
import signal
import socket
import sys
import time

PORT = 7100
PLAIN = 6
KEEPALIVE = 4
DEADLINE = 120


def main():
    signal.alarm(DEADLINE)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    listener.bind(("127.0.0.1", PORT))
    listener.listen(64)

    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        signal.alarm(DEADLINE)
        # Only the clients are the child's: a socket held by two processes is listed under whichever the
        # owner scan meets first.
        listener.close()
        held = [socket.create_connection(("127.0.0.1", PORT), timeout=5) for _ in range(PLAIN)]
        for _ in range(KEEPALIVE):
            s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            held.append(s)
        os.write(ready_w, b"x")
        while True:
            time.sleep(1)
            del_unused = held  # keep the sockets referenced, never use them

    os.read(ready_r, 1)
    accepted = [listener.accept()[0] for _ in range(PLAIN + KEEPALIVE)]
    print(json.dumps({
        "parent": os.getpid(), "child": child, "port": PORT,
        "plain": PLAIN, "keepalive": KEEPALIVE,
    }), flush=True)
    while True:
        time.sleep(1)
        del_unused = accepted


if __name__ == "__main__":
    sys.exit(main())
