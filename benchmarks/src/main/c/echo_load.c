/*
 * The echo load generator of benchmarks/servers, and the trivial echo server that measures its ceiling.
 *
 *   echo_load -p PORT [-c CONNS] [-s SIZE] [-w WARMUP_S] [-d SECS]   the client
 *   echo_load -S PORT                                                 the C echo server (one thread)
 *
 * The client: one thread, one epoll set, CONNS connections to 127.0.0.1:PORT, each with one message of
 * SIZE bytes in flight: send it, read until all SIZE bytes are back, note the round trip, send the next.
 * After WARMUP_S seconds it counts for SECS seconds and prints one line:
 *   RESULT msgs_per_s=... p50_us=... p99_us=... conns=... size=...
 * Latencies go into 1 microsecond buckets up to 1 s (the last bucket holds anything slower).
 * The server: epoll, level-triggered, read and write back, a 64 KiB buffer, no queue: what the kernel
 * does not take at once is written when the socket is writable again. Exits on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 1000000

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
    (void) sig;
    stop = 1;
}

struct conn {
    int fd;
    int sent;     /* bytes of the current message written */
    int got;      /* bytes of its echo read */
    long long t0; /* when its first byte was written */
    int out_left; /* server: bytes buffered, not yet written */
    int out_off;
    char *buf;
};

static int server(int port) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(l, (struct sockaddr *) &a, sizeof a) < 0 || listen(l, 1024) < 0) die("bind/listen");
    socklen_t len = sizeof a;
    getsockname(l, (struct sockaddr *) &a, &len);
    printf("LISTENING %d\n", ntohs(a.sin_port));
    fflush(stdout);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    struct epoll_event evs[256];
    while (!stop) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    c->buf = malloc(65536);
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            if (c->out_left == 0) {
                ssize_t r = read(c->fd, c->buf, 65536);
                if (r <= 0) {
                    if (r < 0 && errno == EAGAIN) continue;
                    close(c->fd);
                    free(c->buf);
                    free(c);
                    continue;
                }
                c->out_left = (int) r;
                c->out_off = 0;
            }
            ssize_t w = write(c->fd, c->buf + c->out_off, c->out_left);
            if (w > 0) {
                c->out_left -= (int) w;
                c->out_off += (int) w;
            } else if (w < 0 && errno != EAGAIN) {
                close(c->fd);
                free(c->buf);
                free(c);
                continue;
            }
            struct epoll_event e = {.events = c->out_left ? EPOLLOUT : EPOLLIN, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    int port = 0, conns = 100, size = 64, opt;
    double warmup = 1, secs = 3;
    while ((opt = getopt(argc, argv, "S:p:c:s:w:d:")) != -1) {
        switch (opt) {
        case 'S': return server(atoi(optarg));
        case 'p': port = atoi(optarg); break;
        case 'c': conns = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 'd': secs = atof(optarg); break;
        default:
            fprintf(stderr, "usage: echo_load -p PORT [-c CONNS] [-s SIZE] [-w WARMUP_S] [-d SECS] | -S PORT\n");
            return 2;
        }
    }
    if (port <= 0 || conns <= 0 || size <= 0 || size > 65536) {
        fprintf(stderr, "echo_load: need -p PORT, CONNS > 0, 0 < SIZE <= 65536\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    uint32_t *hist = calloc(BUCKETS, sizeof *hist);
    char *msg = malloc(size), *in = malloc(65536);
    memset(msg, 'x', size);
    struct conn *cs = calloc(conns, sizeof *cs);
    int ep = epoll_create1(0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < conns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *) &a, sizeof a) < 0) die("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        cs[i].fd = fd;
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl");
    }
    long long start = now_ns();
    long long count_from = start + (long long) (warmup * 1e9), end = count_from + (long long) (secs * 1e9);
    long long counted = 0;
    for (int i = 0; i < conns; i++) { /* one message in flight on each; blocking sockets, small writes */
        cs[i].t0 = now_ns();
        if (write(cs[i].fd, msg, size) != size) die("write");
    }
    struct epoll_event evs[512];
    for (;;) {
        long long t = now_ns();
        if (t >= end) break;
        int n = epoll_wait(ep, evs, 512, 100);
        for (int k = 0; k < n; k++) {
            struct conn *c = &cs[evs[k].data.u32];
            ssize_t r = recv(c->fd, in, 65536, MSG_DONTWAIT);
            if (r == 0) { fprintf(stderr, "echo_load: the server closed a connection\n"); return 1; }
            if (r < 0) { if (errno == EAGAIN) continue; die("recv"); }
            c->got += (int) r;
            if (c->got < size) continue;
            if (c->got > size) { fprintf(stderr, "echo_load: more bytes back than sent\n"); return 1; }
            long long done = now_ns();
            if (done >= count_from && done < end) {
                long long us = (done - c->t0) / 1000;
                hist[us < BUCKETS ? us : BUCKETS - 1]++;
                counted++;
            }
            c->got = 0;
            c->t0 = done;
            if (write(c->fd, msg, size) != size) die("write");
        }
    }
    long long p50 = -1, p99 = -1, seen = 0;
    for (long long b = 0; b < BUCKETS && p99 < 0; b++) {
        seen += hist[b];
        if (p50 < 0 && seen * 2 >= counted) p50 = b;
        if (seen * 100 >= counted * 99) p99 = b;
    }
    printf("RESULT msgs_per_s=%.0f p50_us=%lld p99_us=%lld conns=%d size=%d\n", counted / secs, p50, p99, conns, size);
    for (int i = 0; i < conns; i++) close(cs[i].fd);
    return counted > 0 ? 0 : 1;
}
