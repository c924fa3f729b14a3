/* The raw-C anchor, in the shape of libevent's test/bench.c. benchmarks/reproduce builds
 * it with gcc -O2 and runs it beside iomux, JDK NIO and Netty. One addition: us_cpu, the thread's CPU
 * time per iteration (CLOCK_THREAD_CPUTIME_ID, median run), which a shared, busy machine disturbs far
 * less than wall time; Scaling.java reports the same figure. And -T, which starts one idle thread first
 * (impl=c-raw-mt): the kernel's fdget() skips the file reference count only in a process with one
 * thread (fs/file.c, __fget_light), so every poll/select entry and every read/write costs a JVM, which
 * always has many threads, two atomic operations more than the single-threaded C program. Everything
 * else is unchanged. */
/*
 * bench_c: the libevent-bench shape on raw select(2) / poll(2) / epoll(7).
 *
 * N socketpairs (or pipes) are created and the N read ends are registered
 * for readability.  Two workloads:
 *
 *  rand  (default, -w 0): one iteration = write 1 byte to A distinct,
 *        randomly chosen pairs, then wait (select/poll/epoll_wait) and read
 *        the ready ones until all A bytes are back.
 *  chain (-w W > 0): the shape of libevent's test/bench.c: A evenly spaced
 *        pairs are written, and every read callback writes 1 byte to the
 *        next pair until W extra writes have been made; one iteration is one
 *        whole chain (A + W events).
 *
 * Reported per configuration: median over R runs of the mean time per
 * iteration (total, and the part spent in the wait call plus the readiness
 * scan = "dispatch"), ns per ready event, wait calls per iteration.
 *
 * Backends: select (fd_set, refuses fds >= FD_SETSIZE), selectbig (same
 * syscall with a heap bitmap sized to the highest fd, as libevent does),
 * poll, epoll (level-triggered), epollet (EPOLLET, as Netty uses by default).
 *
 * Read ends are packed into the lowest fd numbers (write ends are moved
 * above them) so select can cover N up to FD_SETSIZE - 3.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { B_SELECT, B_SELECTBIG, B_POLL, B_EPOLL, B_EPOLLET, B_COUNT };
static const char *bnames[] = { "select", "selectbig", "poll", "epoll", "epollet" };

static int backend = B_EPOLL, use_pipes = 0, idle_thread = 0;

static void *idle(void *arg) { for (;;) pause(); return arg; }
static int N = 1000, A = 100, W = 0, ITERS = 1000, RUNS = 10, WARM = 1;
static int *rfd, *wfd, *fd2idx, *perm, *ready;
static int maxfd;

/* select state */
static unsigned long *sel_interest, *sel_out;
static int sel_words;
/* poll state */
static struct pollfd *pfds;
/* epoll state */
static int epfd;
static struct epoll_event *evs;
#define MAXEV 1024

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static inline uint32_t rnd(void) {
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static inline uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *m) { perror(m); exit(1); }

static void setup_fds(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;            /* soft := hard */
        setrlimit(RLIMIT_NOFILE, &rl);
        if ((long)rl.rlim_cur < 2L * N + 16) {
            fprintf(stderr, "need %d fds, RLIMIT_NOFILE hard limit is %ld\n",
                    2 * N + 16, (long)rl.rlim_cur);
            exit(3);
        }
    }
    rfd = calloc(N, sizeof *rfd); wfd = calloc(N, sizeof *wfd);
    perm = calloc(N, sizeof *perm); ready = calloc(N + MAXEV, sizeof *ready);
    int hi = N + 32;                        /* write ends live above this */
    for (int i = 0; i < N; i++) {
        int p[2];
        if (use_pipes) {
            if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) die("pipe2");
        } else {
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p) < 0)
                die("socketpair");
        }
        int w = fcntl(p[1], F_DUPFD_CLOEXEC, hi);
        if (w < 0) die("F_DUPFD");
        close(p[1]);
        rfd[i] = p[0]; wfd[i] = w; perm[i] = i;
    }
    maxfd = 0;
    for (int i = 0; i < N; i++) if (rfd[i] > maxfd) maxfd = rfd[i];
    fd2idx = calloc(maxfd + 1, sizeof *fd2idx);
    for (int i = 0; i < N; i++) fd2idx[rfd[i]] = i;
}

static void setup_backend(void) {
    switch (backend) {
    case B_SELECT:
        if (maxfd >= FD_SETSIZE) {
            printf("SKIP\timpl=%s\tbackend=select\tN=%d\tmaxfd=%d"
                   "\treason=fds past FD_SETSIZE-1 (%d) do not fit an fd_set\n",
                   idle_thread ? "c-raw-mt" : "c-raw", N, maxfd, FD_SETSIZE - 1);
            exit(2);
        }
        /* fallthrough */
    case B_SELECTBIG: {
        int bits = 8 * (int)sizeof(unsigned long);
        sel_words = maxfd / bits + 1;
        if (backend == B_SELECT) sel_words = FD_SETSIZE / bits;   /* a plain fd_set */
        sel_interest = calloc(sel_words, sizeof(unsigned long));
        sel_out = calloc(sel_words, sizeof(unsigned long));
        for (int i = 0; i < N; i++)
            sel_interest[rfd[i] / bits] |= 1ul << (rfd[i] % bits);
        break;
    }
    case B_POLL:
        pfds = calloc(N, sizeof *pfds);
        for (int i = 0; i < N; i++) { pfds[i].fd = rfd[i]; pfds[i].events = POLLIN; }
        break;
    case B_EPOLL:
    case B_EPOLLET:
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0) die("epoll_create1");
        evs = calloc(MAXEV, sizeof *evs);
        for (int i = 0; i < N; i++) {
            struct epoll_event ev = { .events = EPOLLIN | (backend == B_EPOLLET ? EPOLLET : 0),
                                      .data.u32 = (uint32_t)i };
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, rfd[i], &ev) < 0) die("epoll_ctl");
        }
        break;
    }
}

/* Block until something is readable; fill ready[] with pair indices. */
static int wait_ready(void) {
    int n = 0;
    switch (backend) {
    case B_SELECT:
    case B_SELECTBIG: {
        int bits = 8 * (int)sizeof(unsigned long);
        memcpy(sel_out, sel_interest, sel_words * sizeof(unsigned long));
        int r = select(maxfd + 1, (fd_set *)sel_out, NULL, NULL, NULL);
        if (r < 0) { if (errno == EINTR) return 0; die("select"); }
        for (int w = 0; w < sel_words && n < r; w++) {
            unsigned long m = sel_out[w];
            while (m) {
                int b = __builtin_ctzl(m);
                m &= m - 1;
                ready[n++] = fd2idx[w * bits + b];
            }
        }
        break;
    }
    case B_POLL: {
        int r = poll(pfds, N, -1);
        if (r < 0) { if (errno == EINTR) return 0; die("poll"); }
        for (int i = 0; i < N && n < r; i++)
            if (pfds[i].revents & POLLIN) ready[n++] = i;
        break;
    }
    case B_EPOLL:
    case B_EPOLLET: {
        int r = epoll_wait(epfd, evs, MAXEV, -1);
        if (r < 0) { if (errno == EINTR) return 0; die("epoll_wait"); }
        for (int i = 0; i < r; i++) ready[n++] = (int)evs[i].data.u32;
        break;
    }
    }
    return n;
}

static uint64_t disp_ns, nwaits, nevents;

static void iter_rand(void) {
    char buf[16];
    for (int k = 0; k < A; k++) {             /* partial Fisher-Yates */
        int j = k + (int)(rnd() % (uint32_t)(N - k));
        int t = perm[k]; perm[k] = perm[j]; perm[j] = t;
        if (write(wfd[perm[k]], "e", 1) != 1) die("write");
    }
    int got = 0;
    while (got < A) {
        uint64_t t0 = now_ns();
        int n = wait_ready();
        disp_ns += now_ns() - t0;
        nwaits++; nevents += n;
        for (int i = 0; i < n; i++) {
            ssize_t r = read(rfd[ready[i]], buf, sizeof buf);
            if (r > 0) got += (int)r;
        }
    }
}

static void iter_chain(void) {
    char c;
    int space = N / A; if (space < 1) space = 1;
    long fired = 0, count = 0, writes = W;
    for (int i = 0; i < A; i++, fired++)
        if (write(wfd[(i * space) % N], "e", 1) != 1) die("write");
    while (count != fired) {
        uint64_t t0 = now_ns();
        int n = wait_ready();
        disp_ns += now_ns() - t0;
        nwaits++; nevents += n;
        for (int i = 0; i < n; i++) {
            int idx = ready[i];
            if (backend == B_EPOLLET) {   /* edge-triggered: drain the socket */
                char buf[16];
                ssize_t r;
                while ((r = read(rfd[idx], buf, sizeof buf)) > 0) count += r;
            } else if (read(rfd[idx], &c, 1) == 1) {   /* bench.c reads 1 byte */
                count++;
            }
            if (writes > 0) {
                int widx = idx + 1 == N ? 0 : idx + 1;
                if (write(wfd[widx], "e", 1) != 1) die("write");
                writes--; fired++;
            }
        }
    }
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int c;
    while ((c = getopt(argc, argv, "b:n:a:w:i:r:pW:T")) != -1) {
        switch (c) {
        case 'b':
            for (backend = 0; backend < B_COUNT && strcmp(bnames[backend], optarg); backend++) ;
            if (backend == B_COUNT) { fprintf(stderr, "unknown backend %s\n", optarg); return 1; }
            break;
        case 'n': N = atoi(optarg); break;
        case 'a': A = atoi(optarg); break;
        case 'w': W = atoi(optarg); break;
        case 'i': ITERS = atoi(optarg); break;
        case 'r': RUNS = atoi(optarg); break;
        case 'W': WARM = atoi(optarg); break;
        case 'p': use_pipes = 1; break;
        case 'T': idle_thread = 1; break;
        default:
            fprintf(stderr, "usage: %s [-b select|selectbig|poll|epoll|epollet] [-n pairs] [-a active]"
                    " [-w chain_writes] [-i iters] [-r runs] [-W warmup_runs] [-p] [-T]\n", argv[0]);
            return 1;
        }
    }
    if (A > N) A = N;
    if (idle_thread) {
        pthread_t t;
        if (pthread_create(&t, NULL, idle, NULL) != 0) die("pthread_create");
    }
    setup_fds();
    setup_backend();

    double *tot = calloc(RUNS, sizeof(double)), *disp = calloc(RUNS, sizeof(double));
    double *cpu = calloc(RUNS, sizeof(double));
    double waits_per_iter = 0, ev_per_iter = 0;
    for (int run = -WARM; run < RUNS; run++) {
        disp_ns = nwaits = nevents = 0;
        uint64_t c0 = cpu_ns();
        uint64_t t0 = now_ns();
        for (int it = 0; it < ITERS; it++) {
            if (W > 0) iter_chain(); else iter_rand();
        }
        uint64_t t1 = now_ns();
        uint64_t c1 = cpu_ns();
        if (run < 0) continue;
        cpu[run] = (c1 - c0) / 1e3 / ITERS;
        tot[run] = (t1 - t0) / 1e3 / ITERS;
        disp[run] = disp_ns / 1e3 / ITERS;
        waits_per_iter = (double)nwaits / ITERS;
        ev_per_iter = (double)nevents / ITERS;
    }
    double med_disp;
    {
        double *s = malloc(RUNS * sizeof(double));
        memcpy(s, disp, RUNS * sizeof(double)); qsort(s, RUNS, sizeof(double), cmp_d);
        med_disp = s[RUNS / 2]; free(s);
    }
    qsort(cpu, RUNS, sizeof(double), cmp_d);
    qsort(tot, RUNS, sizeof(double), cmp_d);
    double med = tot[RUNS / 2];
    printf("RESULT\timpl=%s\tbackend=%s\ttransport=%s\tN=%d\tA=%d\tW=%d\titers=%d\truns=%d"
           "\tus_iter=%.3f\tus_iter_min=%.3f\tus_iter_max=%.3f\tus_disp=%.3f"
           "\tns_event=%.1f\twaits_iter=%.2f\tready_iter=%.1f\tmaxfd=%d\tus_cpu=%.3f\n",
           idle_thread ? "c-raw-mt" : "c-raw", bnames[backend], use_pipes ? "pipe" : "unix", N, A, W, ITERS, RUNS,
           med, tot[0], tot[RUNS - 1], med_disp, med * 1e3 / ev_per_iter,
           waits_per_iter, ev_per_iter, maxfd, cpu[RUNS / 2]);
    return 0;
}
