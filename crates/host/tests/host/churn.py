"""Sockets that keep changing state, inside the network namespace it is run in, beside a stable set.

Run by the host integration tests (lab::Netns::churn) as

    ip netns exec NS python3 churn.py

    :7200  stable: STABLE established connections (both ends held) and HELD_CLOSE_WAIT connections the
           client closed (the server end held in CLOSE-WAIT, the client end an orphaned FIN-WAIT-2 for
           tcp_fin_timeout, 60 s): 1 + 2 * (STABLE + HELD_CLOSE_WAIT) sockets with port 7200
    :7201  churn, in rounds of BATCH connections: connect and accept (ESTABLISHED), the client closes
           (the server end goes to CLOSE-WAIT), a moment later the server end closes (LAST-ACK, then
           gone; the client end FIN-WAIT-2, then TIME-WAIT)

Prints one line of JSON once the stable set is built and churning has begun, then churns until killed
(by pid, by the test), until DEADLINE seconds have passed, or after MAX_ROUNDS rounds.
"""

import json
import os
import signal
import socket
import time

STABLE_PORT = 7200
CHURN_PORT = 7201
STABLE = 20
HELD_CLOSE_WAIT = 10
BATCH = 32
DEADLINE = 60
MAX_ROUNDS = 5000


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(BATCH * 2)
    return s


def pair(listener, port):
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    a, _ = listener.accept()
    return c, a


def churn_round(listener):
    pairs = [pair(listener, CHURN_PORT) for _ in range(BATCH)]
    time.sleep(0.001)
    for c, _ in pairs:
        c.close()
    time.sleep(0.002)  # the server ends sit in CLOSE-WAIT
    for _, a in pairs:
        a.close()


def main():
    signal.alarm(DEADLINE)
    stable_listener = listen(STABLE_PORT)
    churn_listener = listen(CHURN_PORT)
    held = [pair(stable_listener, STABLE_PORT) for _ in range(STABLE)]
    for _ in range(HELD_CLOSE_WAIT):
        c, a = pair(stable_listener, STABLE_PORT)
        c.close()
        held.append(a)
    churn_round(churn_listener)
    print(json.dumps({
        "pid": os.getpid(), "stable_port": STABLE_PORT, "churn_port": CHURN_PORT,
        "stable": STABLE, "held_close_wait": HELD_CLOSE_WAIT,
    }), flush=True)
    for _ in range(MAX_ROUNDS):
        churn_round(churn_listener)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
