/* The fd scan's floor for `status -p` beside bench/floor.c (issue 15): what any owner lookup costs at
 * least, one readlink of every fd of every process, as `ss -p` and tcpdoctor's scan do. One thread:
 * each /proc/PID/fd directory is opened and listed, and every entry read with readlinkat relative to
 * it; the targets are counted (sockets and others), printed to stderr, and otherwise discarded. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
    DIR *proc = opendir("/proc");
    if (!proc) { perror("/proc"); return 1; }
    long links = 0, sockets = 0;
    char path[300], target[64];
    struct dirent *p;
    while ((p = readdir(proc))) {
        if (p->d_name[0] < '1' || p->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/fd", p->d_name);
        int dfd = open(path, O_RDONLY | O_DIRECTORY);
        if (dfd < 0) continue; /* exited, or not readable */
        DIR *fds = fdopendir(dfd);
        if (!fds) { close(dfd); continue; }
        struct dirent *f;
        while ((f = readdir(fds))) {
            if (f->d_name[0] == '.') continue;
            ssize_t n = readlinkat(dfd, f->d_name, target, sizeof target);
            if (n < 0) continue;
            links++;
            sockets += n > 8 && target[0] == 's' && target[1] == 'o' && target[6] == ':';
        }
        closedir(fds);
    }
    closedir(proc);
    fprintf(stderr, "%ld fd links, %ld sockets\n", links, sockets);
    return 0;
}
