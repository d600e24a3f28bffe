/* The socket table's floor for bench/floor.sh: the bare sock_diag dump that any snapshot of it costs at
 * least. One TCPDIAG_GETSOCK request with AF_UNSPEC (IPv4 and IPv6 in one walk of the kernel's tables,
 * as `tcpdoctor status` asks), every state, no extensions, no filter; the replies are read and
 * discarded, only their records counted. Falls back to one SOCK_DIAG_BY_FAMILY walk per family when a
 * kernel refuses the two-family request. Prints the number of sockets on stderr with -v.
 *
 * Build: gcc -O2 -o floor bench/floor.c      Run: floor [-v]   (needs no privilege)
 */
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TCPDIAG_GETSOCK
#define TCPDIAG_GETSOCK 18
#endif

static char buf[64 * 1024];

/* Sends one dump request; returns the records read, or -1 when the kernel refused it. */
static long dump(int fd, unsigned short type, unsigned char family) {
    struct {
        struct nlmsghdr nlh;
        union {
            struct inet_diag_req old;    /* TCPDIAG_GETSOCK */
            struct inet_diag_req_v2 v2;  /* SOCK_DIAG_BY_FAMILY */
        } r;
    } req;
    memset(&req, 0, sizeof(req));
    req.nlh.nlmsg_type = type;
    req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    if (type == TCPDIAG_GETSOCK) {
        req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req.r.old));
        req.r.old.idiag_family = family;
        req.r.old.idiag_states = ~0u;
    } else {
        req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req.r.v2));
        req.r.v2.sdiag_family = family;
        req.r.v2.sdiag_protocol = IPPROTO_TCP;
        req.r.v2.idiag_states = ~0u;
    }
    if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0) {
        perror("send");
        return -1;
    }
    long records = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            perror("recv");
            return -1;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                int err = 0;
                if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) memcpy(&err, NLMSG_DATA(h), sizeof(int));
                return err < 0 ? -1 : records;
            }
            if (h->nlmsg_type == NLMSG_ERROR) return -1;
            records++;
        }
    }
}

int main(int argc, char **argv) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) {
        perror("socket(NETLINK_SOCK_DIAG)");
        return 1;
    }
    long records = dump(fd, TCPDIAG_GETSOCK, AF_UNSPEC);
    if (records < 0) {
        long v4 = dump(fd, SOCK_DIAG_BY_FAMILY, AF_INET);
        long v6 = dump(fd, SOCK_DIAG_BY_FAMILY, AF_INET6);
        if (v4 < 0 || v6 < 0) {
            fprintf(stderr, "floor: the kernel refused the inet_diag dump\n");
            return 1;
        }
        records = v4 + v6;
    }
    if (argc > 1 && strcmp(argv[1], "-v") == 0) fprintf(stderr, "%ld sockets\n", records);
    close(fd);
    return 0;
}
