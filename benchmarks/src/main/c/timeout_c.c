/*
 * The floor under iomux's TimeoutPrecision: how long a timed wait with nothing ready really waits when C
 * makes the call itself. One empty pipe watched; the thread's timer slack lowered to 0.1% of the wait
 * (at least 1 ns) as iomux does for a wait under a millisecond (prctl(2) PR_SET_TIMERSLACK; the kernel
 * may end a wait up to the slack late: select_estimate_accuracy in fs/select.c).
 *
 *   timeout_c [micros [waits [call...]]]     calls: pselect ppoll epoll_pwait2 (default: all three)
 *
 * Prints a line per call in TimeoutPrecision's columns: p50, p99, max and mean in microseconds of the
 * wall time (CLOCK_MONOTONIC) of each wait, after 2,000 of warm-up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *) a, y = *(const long long *) b;
    return x < y ? -1 : x > y;
}

/* One wait of `ts` on the pipe's read end `fd` with `call`; returns what the call returned. */
static int wait_once(const char *call, int fd, int epfd, const struct timespec *ts) {
    if (strcmp(call, "pselect") == 0) {
        fd_set r;
        FD_ZERO(&r);
        FD_SET(fd, &r);
        return pselect(fd + 1, &r, NULL, NULL, ts, NULL);
    }
    if (strcmp(call, "ppoll") == 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        return ppoll(&p, 1, ts, NULL);
    }
    struct epoll_event e[1];
#ifdef SYS_epoll_pwait2
    return (int) syscall(SYS_epoll_pwait2, epfd, e, 1, ts, NULL, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int main(int argc, char **argv) {
    long micros = argc > 1 ? atol(argv[1]) : 50;
    int waits = argc > 2 ? atoi(argv[2]) : 10000;
    const char *all[] = {"pselect", "ppoll", "epoll_pwait2"};
    const char **calls = argc > 3 ? (const char **) argv + 3 : all;
    int ncalls = argc > 3 ? argc - 3 : 3;
    int p[2];
    if (pipe(p) != 0) {
        perror("pipe");
        return 1;
    }
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev) != 0) {
        perror("epoll");
        return 1;
    }
    long slack = micros * 1000 / 1000;
    prctl(PR_SET_TIMERSLACK, slack > 0 ? slack : 1, 0, 0, 0);
    struct timespec ts = {.tv_sec = micros / 1000000, .tv_nsec = (micros % 1000000) * 1000};
    long long *took = malloc(sizeof(long long) * waits);
    printf("# C: a wait of %ld us with nothing ready, %d waits\n", micros, waits);
    printf("%-12s %9s %9s %9s %9s\n", "call", "p50 us", "p99 us", "max us", "mean us");
    for (int c = 0; c < ncalls; c++) {
        for (int i = 0; i < 2000; i++) {
            if (wait_once(calls[c], p[0], epfd, &ts) < 0) {
                fprintf(stderr, "%s: %s\n", calls[c], strerror(errno));
                return 1;
            }
        }
        long long sum = 0;
        for (int i = 0; i < waits; i++) {
            long long t0 = now_ns();
            wait_once(calls[c], p[0], epfd, &ts);
            took[i] = now_ns() - t0;
            sum += took[i];
        }
        qsort(took, waits, sizeof(long long), cmp);
        printf("%-12s %9.1f %9.1f %9.1f %9.1f\n", calls[c], took[waits / 2] / 1e3,
               took[(int) (waits * 0.99)] / 1e3, took[waits - 1] / 1e3, sum / 1e3 / waits);
    }
    free(took);
    return 0;
}
