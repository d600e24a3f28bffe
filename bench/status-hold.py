"""Holds sockets or plain fds open for bench/status.sh, then sleeps until killed (at most DEADLINE s).

    status-hold.py conns PORT N   listen on 127.0.0.1:PORT and hold N established connections (2N fds)
    status-hold.py fds N          hold N open descriptors of /dev/null (fds that are not sockets)
"""

import os
import resource
import signal
import socket
import sys
import time

DEADLINE = 1800


def main():
    signal.alarm(DEADLINE)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = []
    if sys.argv[1] == "conns":
        port, n = int(sys.argv[2]), int(sys.argv[3])
        lst = socket.socket()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", port))
        lst.listen(4096)
        held.append(lst)
        for _ in range(n):
            c = socket.create_connection(("127.0.0.1", port))
            a, _ = lst.accept()
            held += [c, a]
    else:
        n = int(sys.argv[2])
        held = [os.open("/dev/null", os.O_RDONLY) for _ in range(n)]
    print("READY", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
