/*
 * What level-triggered readiness costs over io_uring when C does it, against epoll in the same process:
 * the scaling benchmark's rand workload (benchmarks/scaling, bench_c.c) made with no JVM and no library.
 *
 *   uring_lt_c [n [iters [rounds]]]        defaults: 1000 pairs, 1000 iterations, 9 rounds
 *
 * N Unix socketpairs, read ends non-blocking. One iteration writes 1 byte to 100 distinct random pairs,
 * then waits and reads the ready read ends until all 100 bytes are back. Modes, each with a fresh epoll
 * instance or ring per round (the rounds interleave the modes, so each sees the same machine):
 *
 *   epoll      epoll_wait, level-triggered: the kernel polls a reported file again before reporting it
 *              again (ep_send_events in fs/eventpoll.c), at no cost to user space.
 *   uring      what level-triggered readiness needs from io_uring: IORING_OP_POLL_ADD is edge-triggered
 *              inside the kernel, so each completion is followed by a new one-shot poll, submitted with
 *              the next wait; on an IORING_SETUP_COOP_TASKRUN ring, as iomux's uring backend.
 *   uring-single  the same on an IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN | TASKRUN_FLAG ring (Linux
 *              6.1), as iomux's uring-single: completions are posted only when this thread enters with
 *              IORING_ENTER_GETEVENTS, and while IORING_SQ_TASKRUN is set after a wait it enters again
 *              without waiting (the kernel runs a bounded batch of deferred completions per entry:
 *              io_run_local_work in io_uring/io_uring.c).
 *   uringms    multishot POLL_ADD (IORING_POLL_ADD_MULTI) on the uring-single ring: no re-arm, but
 *              edge-triggered, so each ready file is read until EAGAIN; what an edge-triggered loop pays,
 *              not level-triggered readiness.
 *   uringmslt  level-triggered readiness from multishot polls instead: each wait first checks with one
 *              poll(2) the files the last one reported (still ready: reported again, without waiting), and
 *              checks the files of its completions the same way, since a completion says the file was
 *              woken, not that it is ready now (one posted before a read is still there after it). Two
 *              poll(2) calls a wait in this workload, where epoll re-checks the same files in the kernel.
 *
 * Prints per mode the median over rounds of the microseconds per iteration, and the median over rounds of
 * the ratio to epoll's time in the same round, with its quartiles.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ACTIVE 100
enum { EPOLL, URING, URING_SINGLE, URINGMS, URINGMSLT, MODES };
static const char *names[MODES] = {"epoll", "uring", "uring-single", "uringms", "uringmslt"};

static int n, *rfd, *wfd, *perm;
static int *fd2pair, *last, nlast, *seen; /* uringmslt */
static struct pollfd *pfds;                /* uringmslt */
static uint64_t rnd = 42;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static uint32_t next_rand(uint32_t bound) {
    rnd ^= rnd << 13;
    rnd ^= rnd >> 7;
    rnd ^= rnd << 17;
    return (uint32_t) (rnd % bound);
}

/* Writes 1 byte to ACTIVE distinct random pairs (partial Fisher-Yates, as Scaling.Loop.rand). */
static void write_active(void) {
    for (int k = 0; k < ACTIVE; k++) {
        int j = k + (int) next_rand((uint32_t) (n - k)), t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
        if (write(wfd[perm[k]], "x", 1) != 1) die("write");
    }
}

/* ---- io_uring, as liburing maps it (io_uring_setup(2), IORING_FEAT_SINGLE_MMAP) ---- */
struct ring {
    int fd;
    unsigned *sq_tail, *sq_mask, *sq_array, *sq_flags, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    void *map;
    size_t map_len, sqes_len;
    unsigned pending, sq_entries;
};

static void ring_open(struct ring *r, unsigned flags) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = flags | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    p.cq_entries = 2u * (unsigned) n + 64 > 8192 ? 2u * (unsigned) n + 64 : 8192; /* at least the SQ's 4096 */
    r->fd = (int) syscall(__NR_io_uring_setup, 4096, &p);
    if (r->fd < 0) die("io_uring_setup");
    if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
        fprintf(stderr, "no IORING_FEAT_SINGLE_MMAP\n");
        exit(1);
    }
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    r->map_len = sq_len > cq_len ? sq_len : cq_len;
    r->map = mmap(0, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    if (r->map == MAP_FAILED) die("mmap ring");
    r->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
    r->sqes = mmap(0, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED) die("mmap sqes");
    char *m = r->map;
    r->sq_tail = (unsigned *) (m + p.sq_off.tail);
    r->sq_mask = (unsigned *) (m + p.sq_off.ring_mask);
    r->sq_array = (unsigned *) (m + p.sq_off.array);
    r->sq_flags = (unsigned *) (m + p.sq_off.flags);
    r->cq_head = (unsigned *) (m + p.cq_off.head);
    r->cq_tail = (unsigned *) (m + p.cq_off.tail);
    r->cq_mask = (unsigned *) (m + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *) (m + p.cq_off.cqes);
    r->sq_entries = p.sq_entries;
    r->pending = 0;
}

static int ring_enter(struct ring *r, unsigned min_complete) {
    unsigned submit = r->pending;
    int rc = (int) syscall(__NR_io_uring_enter, r->fd, submit, min_complete, IORING_ENTER_GETEVENTS, NULL, 0);
    if (rc < 0 && errno != EINTR) die("io_uring_enter");
    r->pending = 0;
    return rc;
}

static void poll_add(struct ring *r, int pair, unsigned len) {
    if (r->pending == r->sq_entries) ring_enter(r, 0); /* only while registering all N */
    unsigned tail = *r->sq_tail, i = tail & *r->sq_mask;
    struct io_uring_sqe *s = &r->sqes[i];
    memset(s, 0, sizeof *s);
    s->opcode = IORING_OP_POLL_ADD;
    s->fd = rfd[pair];
    s->poll32_events = POLLIN;
    s->len = len;
    s->user_data = (uint64_t) pair;
    r->sq_array[i] = i;
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    r->pending++;
}

static void ring_close(struct ring *r) {
    munmap(r->sqes, r->sqes_len);
    munmap(r->map, r->map_len);
    close(r->fd);
}

/* Adds pair `p` to the pollfds from `k` on, once; returns the new count. */
static int check(int k, int p) {
    if (seen[p]) return k;
    seen[p] = 1;
    pfds[k].fd = rfd[p];
    pfds[k].events = POLLIN;
    pfds[k].revents = 0;
    return k + 1;
}

/* One level-triggered wait over multishot polls (uringmslt); reads what it reports, returns the bytes. */
static int wait_mslt(struct ring *r) {
    char buf[64];
    int k = 0, got = 0;
    for (int i = 0; i < nlast; i++) k = check(k, last[i]);
    int ready = k > 0 ? poll(pfds, (nfds_t) k, 0) : 0; /* still ready: report without waiting */
    if (ready < 0) die("poll");
    ring_enter(r, ready > 0 ? 0 : 1);
    while (__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_TASKRUN) ring_enter(r, 0);
    unsigned head = *r->cq_head, tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
    int k0 = k;
    for (; head != tail; head++) {
        struct io_uring_cqe *c = &r->cqes[head & *r->cq_mask];
        if (c->res < 0) die("poll completion");
        if (!(c->flags & IORING_CQE_F_MORE)) poll_add(r, (int) c->user_data, IORING_POLL_ADD_MULTI);
        k = check(k, (int) c->user_data);
    }
    __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
    if (k > k0 && poll(pfds + k0, (nfds_t) (k - k0), 0) < 0) die("poll");
    nlast = 0;
    for (int i = 0; i < k; i++) {
        int p = fd2pair[pfds[i].fd];
        seen[p] = 0;
        if (pfds[i].revents & POLLIN) {
            last[nlast++] = p;
            if (read(rfd[p], buf, sizeof buf) > 0) got++;
        }
    }
    return got;
}

/* One measured run of `iters` iterations in `mode`; returns ns per iteration. */
static double run(int mode, int iters) {
    char buf[64];
    struct epoll_event *evs = NULL;
    int epfd = -1;
    struct ring r;
    unsigned multi = mode >= URINGMS ? IORING_POLL_ADD_MULTI : 0;
    if (mode == EPOLL) {
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0) die("epoll_create1");
        evs = malloc(sizeof *evs * (size_t) n);
        for (int i = 0; i < n; i++) {
            struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t) i};
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, rfd[i], &e) != 0) die("epoll_ctl");
        }
    } else {
        ring_open(&r, mode == URING ? IORING_SETUP_COOP_TASKRUN
                                    : IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
        for (int i = 0; i < n; i++) poll_add(&r, i, multi);
        ring_enter(&r, 0);
        nlast = 0;
    }
    long long t0 = 0;
    for (int it = -iters / 5; it < iters; it++) { /* a fifth more, unmeasured, to warm up */
        if (it == 0) t0 = now_ns();
        write_active();
        for (int got = 0; got < ACTIVE;) {
            if (mode == EPOLL) {
                int k = epoll_wait(epfd, evs, n, -1);
                for (int i = 0; i < k; i++) {
                    if (read(rfd[evs[i].data.u32], buf, sizeof buf) > 0) got++;
                }
                continue;
            }
            if (mode == URINGMSLT) {
                got += wait_mslt(&r);
                continue;
            }
            ring_enter(&r, 1);
            while (__atomic_load_n(r.sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_TASKRUN) ring_enter(&r, 0);
            unsigned head = *r.cq_head, tail = __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE);
            for (; head != tail; head++) {
                struct io_uring_cqe *c = &r.cqes[head & *r.cq_mask];
                int pair = (int) c->user_data;
                if (c->res < 0) die("poll completion");
                if (mode != URINGMS) {
                    if (read(rfd[pair], buf, sizeof buf) > 0) got++;
                    poll_add(&r, pair, 0); /* level-triggered: ask again, it completes at once if still ready */
                } else {
                    while (read(rfd[pair], buf, sizeof buf) > 0) got++; /* edge-triggered: until EAGAIN */
                    if (!(c->flags & IORING_CQE_F_MORE)) poll_add(&r, pair, multi);
                }
            }
            __atomic_store_n(r.cq_head, head, __ATOMIC_RELEASE);
        }
    }
    double per = (double) (now_ns() - t0) / iters;
    if (mode == EPOLL) {
        close(epfd);
        free(evs);
    } else {
        ring_close(&r);
    }
    return per;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, int k, double q) {
    qsort(v, (size_t) k, sizeof *v, cmpd);
    return v[(int) (q * (k - 1) + 0.5)];
}

int main(int argc, char **argv) {
    n = argc > 1 ? atoi(argv[1]) : 1000;
    int iters = argc > 2 ? atoi(argv[2]) : 1000, rounds = argc > 3 ? atoi(argv[3]) : 9;
    if (n < ACTIVE) {
        fprintf(stderr, "n must be at least %d\n", ACTIVE);
        return 1;
    }
    rfd = malloc(sizeof(int) * (size_t) n);
    wfd = malloc(sizeof(int) * (size_t) n);
    perm = malloc(sizeof(int) * (size_t) n);
    for (int i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
        rfd[i] = sv[0];
        wfd[i] = sv[1];
        perm[i] = i;
    }
    int maxfd = 0;
    for (int i = 0; i < n; i++) maxfd = rfd[i] > maxfd ? rfd[i] : maxfd;
    fd2pair = calloc((size_t) maxfd + 1, sizeof(int));
    for (int i = 0; i < n; i++) fd2pair[rfd[i]] = i;
    last = calloc((size_t) n, sizeof(int));
    seen = calloc((size_t) n, sizeof(int));
    pfds = calloc((size_t) n * 2, sizeof *pfds);
    double *us = malloc(sizeof(double) * (size_t) (rounds * MODES)), *ratio = malloc(sizeof(double) * (size_t) rounds);
    for (int rd = 0; rd < rounds; rd++) {
        for (int k = 0; k < MODES; k++) {
            int mode = rd % 2 ? MODES - 1 - k : k; /* the order reversed every other round */
            us[mode * rounds + rd] = run(mode, iters) / 1e3;
        }
    }
    printf("# C, rand workload: N = %d, %d active, %d iterations, %d rounds\n", n, ACTIVE, iters, rounds);
    printf("%-12s %10s %8s %8s %8s\n", "mode", "us/iter", "ratio", "q1", "q3");
    for (int mode = 0; mode < MODES; mode++) {
        for (int rd = 0; rd < rounds; rd++) ratio[rd] = us[mode * rounds + rd] / us[EPOLL * rounds + rd];
        double q1 = quantile(ratio, rounds, 0.25), med = quantile(ratio, rounds, 0.5), q3 = quantile(ratio, rounds, 0.75);
        printf("%-12s %10.2f %8.3f %8.3f %8.3f\n", names[mode], quantile(us + mode * rounds, rounds, 0.5), med, q1, q3);
    }
    return 0;
}
