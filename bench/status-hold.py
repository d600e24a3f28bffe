"""Holds sockets or plain fds open for bench/status.sh, then sleeps until killed (at most DEADLINE s).

    status-hold.py conns PORT N   listen on 127.0.0.1:PORT and hold N established connections (2N fds)
    status-hold.py fds N          hold N open descriptors of /dev/null (fds that are not sockets)
    status-hold.py mix PORT TW CW EST
                                  listen on 127.0.0.1:PORT..PORT+3 and leave TW connections in TIME-WAIT
                                  (the client ends; they last 60 s), CW in CLOSE-WAIT (the server ends
                                  held; the clients' ends are orphaned FIN-WAIT-2 sockets for
                                  tcp_fin_timeout) and hold EST established (2 sockets each): about
                                  TW + 2 CW + 2 EST + 4 sockets (bench/floor.sh)
"""

import os
import resource
import signal
import socket
import sys
import time

DEADLINE = 1800


def listener(port):
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port))
    lst.listen(4096)
    return lst


def mix(port, time_wait, close_wait, established):
    # Four ports: each takes at most one connection per ephemeral port of the client address.
    listeners = [listener(port + i) for i in range(4)]
    held = list(listeners)

    def pair(i):
        c = socket.create_connection(("127.0.0.1", port + i % 4))
        a, _ = listeners[i % 4].accept()
        return c, a

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
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = []
    if sys.argv[1] == "conns":
        port, n = int(sys.argv[2]), int(sys.argv[3])
        lst = listener(port)
        held.append(lst)
        for _ in range(n):
            c = socket.create_connection(("127.0.0.1", port))
            a, _ = lst.accept()
            held += [c, a]
    elif sys.argv[1] == "mix":
        held = mix(*map(int, sys.argv[2:6]))
    else:
        n = int(sys.argv[2])
        held = [os.open("/dev/null", os.O_RDONLY) for _ in range(n)]
    print("READY", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
