"""N processes, each with its own name, each holding one CLOSE-WAIT socket: the population that tests
the exporter's bounded process labels.

Run as `ip netns exec NS python3 close_wait_crowd.py N`. Each child renames itself cw000, cw001, ...
(/proc/self/comm), connects to 127.0.0.1:7010 and waits; the parent accepts and closes every connection
(the children's ends go to CLOSE-WAIT), waits until /proc/net/tcp shows them, prints one line of JSON,
then holds until killed (by pid, by the test) or DEADLINE seconds. The children die with the parent
(PR_SET_PDEATHSIG) and at DEADLINE.
"""

import ctypes
import json
import os
import signal
import socket
import sys
import time

PORT = 7010
DEADLINE = 120
PR_SET_PDEATHSIG = 1


def child(i, ready_w):
    signal.alarm(DEADLINE)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    with open("/proc/self/comm", "w") as f:
        f.write(f"cw{i:03}")
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    os.write(ready_w, b"x")
    while True:
        signal.pause()
        del s


def main():
    n = int(sys.argv[1])
    signal.alarm(DEADLINE)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", PORT))
    listener.listen(n)
    ready_r, ready_w = os.pipe()
    children = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            listener.close()
            child(i, ready_w)
            os._exit(0)
        children.append(pid)
        # Accept as they come, so that the accept queue never fills.
        a, _ = listener.accept()
        a.close()
    for _ in range(n):
        os.read(ready_r, 1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as f:
            close_wait = sum(1 for line in f.readlines()[1:] if line.split()[3] == "08")
        if close_wait == n:
            break
        time.sleep(0.05)
    else:
        sys.exit(f"{close_wait} CLOSE-WAIT sockets, wanted {n}")
    print(json.dumps({"parent": os.getpid(), "children": len(children)}), flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
