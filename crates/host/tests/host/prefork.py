"""A pre-fork server for the owner tests (lab::Netns::prefork): a listener on 127.0.0.1:PORT, one
connection to it (the client's end and the accepted end), then WORKERS processes forked with all three
open, as a pre-fork server's workers inherit its listener. Prints one JSON line when every worker is up:
{"parent": pid, "workers": [pids], "port": PORT, "fds": {"listener": fd, "client": fd, "accepted": fd}},
then sleeps. Every process ends within DEADLINE s, and a worker as soon as the parent is gone.

    prefork.py PORT WORKERS
"""

import json
import os
import signal
import socket
import sys
import time

DEADLINE = 120


def main():
    signal.alarm(DEADLINE)
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port))
    lst.listen(16)
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    accepted, _ = lst.accept()
    parent = os.getpid()
    ready_r, ready_w = os.pipe()
    pids = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            signal.alarm(DEADLINE)  # alarms are not inherited
            os.write(ready_w, b"x")
            for _ in range(DEADLINE):
                if os.getppid() != parent:
                    break
                time.sleep(1)
            os._exit(0)
        pids.append(pid)
    for _ in range(workers):
        os.read(ready_r, 1)
    fds = {"listener": lst.fileno(), "client": client.fileno(), "accepted": accepted.fileno()}
    print(json.dumps({"parent": parent, "workers": pids, "port": port, "fds": fds}), flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
