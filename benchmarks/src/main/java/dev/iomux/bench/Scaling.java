package dev.iomux.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

import dev.iomux.internal.Native;
import dev.iomux.io.Descriptors;

/**
 * The scaling benchmark: libevent's {@code test/bench.c} shape, run on one implementation per process,
 * printing a {@code RESULT} line in the format of the raw-C program ({@code benchmarks/src/main/c/bench_c.c}),
 * so that both report together ({@code benchmarks/reproduce}).
 *
 * <pre>
 * scaling -b backend [-n pairs] [-a active] [-w chain_writes] [-i iters] [-r runs] [-W warmup_runs]
 * </pre>
 *
 * <p>N Unix socketpairs, read ends registered for reading. Workloads, as {@code bench_c.c}:
 * <ul>
 *   <li>{@code rand} ({@code -w 0}): one iteration writes 1 byte to A distinct random pairs (partial
 *       Fisher-Yates, fixed seed), then waits and reads the ready read ends until all A bytes are back;</li>
 *   <li>{@code chain} ({@code -w W}): A evenly spaced pairs are written, and every read writes 1 byte to the
 *       next pair until W more writes were made; one iteration is one whole chain.</li>
 * </ul>
 * "Dispatch" is the wait call plus the scan that turns its result into pair indices (for iomux: the select
 * with a {@link dev.iomux.ReadyHandler} that stores the index; for JDK NIO: select() plus the walk over
 * selectedKeys; for Netty: epoll_wait plus the event array walk). Reads and writes are outside it.
 *
 * <p>Backends: {@code select}, {@code poll}, {@code epoll}, {@code epollet}, {@code uring}, {@code uringet},
 * {@code uring-single}, {@code uring-singleet} (iomux; the {@code et} ones register with
 * {@link dev.iomux.Events#EDGE}: EPOLLET, a multishot POLL_ADD); {@code nio-epoll}, {@code nio-poll} (the running JDK's
 * java.nio Selector, its EPollSelectorImpl and PollSelectorImpl); {@code netty-epoll},
 * {@code netty-epollet} (Netty's JNI layer: Native.epollWait on an EpollEventArray, FileDescriptor
 * read/write). iomux and Netty use the same socketpairs, with the read ends packed into the lowest
 * descriptor numbers and the write ends moved above them, as {@code bench_c.c} does, so that select
 * reaches as far as FD_SETSIZE allows; NIO uses UNIX-domain SocketChannel pairs (the same kernel objects).
 */
public final class Scaling {
    int n = 1000;
    int a = 100;
    int w;
    int iters = 1000;
    int runs = 10;
    int warm = 3;
    String backend = "epoll";

    private Scaling() {
    }

    /**
     * Runs one configuration and prints one RESULT line, or a SKIP line and exit status 2.
     *
     * @param args see the class comment
     * @throws Exception if the benchmark fails
     */
    public static void main(String[] args) throws Exception {
        Scaling s = new Scaling();
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "-b": s.backend = v; i++; break;
                case "-n": s.n = Integer.parseInt(v); i++; break;
                case "-a": s.a = Integer.parseInt(v); i++; break;
                case "-w": s.w = Integer.parseInt(v); i++; break;
                case "-i": s.iters = Integer.parseInt(v); i++; break;
                case "-r": s.runs = Integer.parseInt(v); i++; break;
                case "-W": s.warm = Integer.parseInt(v); i++; break;
                default:
                    System.err.println("usage: scaling -b select|poll|epoll|epollet|uring|uringet|uring-single"
                            + "|uring-singleet|nio-epoll|nio-poll|netty-epoll|netty-epollet [-n pairs] [-a active]"
                            + " [-w chain_writes] [-i iters] [-r runs] [-W warmup_runs]");
                    System.exit(1);
            }
        }
        if (s.a > s.n) {
            s.a = s.n;
        }
        if (s.runs < 1 || s.iters < 1 || s.n < 1) {
            System.err.println("runs, iters and pairs must be positive");
            System.exit(1);
        }
        System.exit(s.run(System.out));
    }

    int run(PrintStream out) throws Exception {
        Descriptors.raiseLimit(2L * n + 64);
        long soft = Descriptors.limits()[0];
        Impl impl = Impl.create(backend);
        if (soft < 2L * n + 64) {
            out.printf(Locale.ROOT, "SKIP\timpl=%s\tbackend=%s\tN=%d\treason=needs %d descriptors, RLIMIT_NOFILE is %d%n",
                    impl.implName(), impl.backendName(), n, 2 * n + 64, soft);
            return 2;
        }
        String skip = impl.open(n);
        if (skip != null) {
            out.printf(Locale.ROOT, "SKIP\timpl=%s\tbackend=%s\tN=%d\tmaxfd=%d\treason=%s%n",
                    impl.implName(), impl.backendName(), n, impl.maxFd(), skip);
            impl.close();
            return 2;
        }
        try {
            measure(impl, out);
        } finally {
            impl.close();
        }
        return 0;
    }

    private void measure(Impl impl, PrintStream out) throws IOException {
        Loop loop = new Loop(impl, n, a, w);
        double[] tot = new double[runs];
        double[] disp = new double[runs];
        double[] cpu = new double[runs];
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        double waitsPerIter = 0;
        double evPerIter = 0;
        for (int run = -warm; run < runs; run++) {
            loop.dispNs = 0;
            loop.waits = 0;
            loop.events = 0;
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            for (int it = 0; it < iters; it++) {
                if (w > 0) {
                    loop.chain();
                } else {
                    loop.rand();
                }
            }
            long t1 = System.nanoTime();
            long c1 = threads.getCurrentThreadCpuTime();
            if (run < 0) {
                continue;
            }
            cpu[run] = (c1 - c0) / 1e3 / iters;
            tot[run] = (t1 - t0) / 1e3 / iters;
            disp[run] = loop.dispNs / 1e3 / iters;
            waitsPerIter = (double) loop.waits / iters;
            evPerIter = (double) loop.events / iters;
        }
        Arrays.sort(tot);
        Arrays.sort(disp);
        Arrays.sort(cpu);
        double med = tot[runs / 2];
        out.printf(Locale.ROOT,
                "RESULT\timpl=%s\tbackend=%s\ttransport=unix\tN=%d\tA=%d\tW=%d\titers=%d\truns=%d"
                        + "\tus_iter=%.3f\tus_iter_min=%.3f\tus_iter_max=%.3f\tus_disp=%.3f"
                        + "\tns_event=%.1f\twaits_iter=%.2f\tready_iter=%.1f\tmaxfd=%d\tus_cpu=%.3f%n",
                impl.implName(), impl.backendName(), n, a, w, iters, runs, med, tot[0], tot[runs - 1],
                disp[runs / 2], med * 1e3 / evPerIter, waitsPerIter, evPerIter, impl.maxFd(), cpu[runs / 2]);
    }

    /** The two workloads over one implementation; the same code for every implementation. */
    static final class Loop {
        private final Impl impl;
        private final int n;
        private final int a;
        private final int w;
        private final int[] perm;
        private final int[] ready;
        private final SplittableRandom rnd = new SplittableRandom(42);
        private final boolean drain;
        long dispNs;
        long waits;
        long events;

        Loop(Impl impl, int n, int a, int w) {
            this.impl = impl;
            this.n = n;
            this.a = a;
            this.w = w;
            this.perm = new int[n];
            for (int i = 0; i < n; i++) {
                perm[i] = i;
            }
            this.ready = new int[n + 1];
            this.drain = impl.edgeTriggered();
        }

        void rand() throws IOException {
            for (int k = 0; k < a; k++) {
                int j = k + rnd.nextInt(n - k);
                int t = perm[k];
                perm[k] = perm[j];
                perm[j] = t;
                impl.write1(perm[k]);
            }
            int got = 0;
            while (got < a) {
                long t0 = System.nanoTime();
                int r = impl.waitReady(ready);
                dispNs += System.nanoTime() - t0;
                waits++;
                events += r;
                for (int i = 0; i < r; i++) {
                    int m = impl.read(ready[i]);
                    if (m > 0) {
                        got += m;
                    }
                }
            }
        }

        void chain() throws IOException {
            int space = Math.max(1, n / a);
            long fired = 0;
            long count = 0;
            long writes = w;
            for (int i = 0; i < a; i++, fired++) {
                impl.write1((i * space) % n);
            }
            while (count != fired) {
                long t0 = System.nanoTime();
                int r = impl.waitReady(ready);
                dispNs += System.nanoTime() - t0;
                waits++;
                events += r;
                for (int i = 0; i < r; i++) {
                    int idx = ready[i];
                    if (drain) {
                        int m;
                        while ((m = impl.read(idx)) > 0) {
                            count += m;
                        }
                    } else if (impl.read1(idx) == 1) { // bench.c reads 1 byte
                        count++;
                    }
                    if (writes > 0) {
                        impl.write1(idx + 1 == n ? 0 : idx + 1);
                        writes--;
                        fired++;
                    }
                }
            }
        }
    }

    /** One implementation under test: pairs, registrations, the wait, and 1-byte I/O. */
    /** One implementation under test; public so that the Netty one can live in Netty's package. */
    public abstract static class Impl {
        static Impl create(String backend) throws Exception {
            switch (backend) {
                case "select":
                case "poll":
                case "epoll":
                case "epollet":
                case "uring":
                case "uringet":
                case "uring-single":
                case "uring-singleet":
                    return new IomuxImpl(backend);
                case "nio-epoll":
                    return new NioImpl(false);
                case "nio-poll":
                    return new NioImpl(true);
                case "netty-epoll":
                case "netty-epollet":
                    // Loaded by name: only this backend needs Netty on the class path.
                    return (Impl) Class.forName("io.netty.channel.epoll.NettyRawImpl")
                            .getDeclaredConstructor(boolean.class)
                            .newInstance(backend.endsWith("et"));
                default:
                    throw new IllegalArgumentException("unknown backend '" + backend + "': use select, poll, "
                            + "epoll, epollet, uring, uringet, uring-single, uring-singleet, nio-epoll, nio-poll, netty-epoll or netty-epollet");
            }
        }

        /** @return the impl= field of the RESULT line */
        protected abstract String implName();

        /** @return the backend= field */
        protected abstract String backendName();

        /** Creates n pairs and registers their read ends; returns why not, or null. */
        protected abstract String open(int n) throws IOException;

        protected abstract void write1(int pair) throws IOException;

        /** Waits once; stores the ready pairs' indices; returns their count. */
        protected abstract int waitReady(int[] ready) throws IOException;

        /** Reads up to 16 bytes from a pair's read end: the count, 0 or less if none. */
        protected abstract int read(int pair) throws IOException;

        /** Reads 1 byte (bench.c's read callback). */
        protected abstract int read1(int pair) throws IOException;

        protected boolean edgeTriggered() {
            return false;
        }

        protected abstract int maxFd();

        protected abstract void close();
    }

    /**
     * N socketpairs, read ends in the lowest free descriptor numbers, write ends moved above
     * {@code n + open descriptors + 64} (bench_c.c's layout).
     */
    public static final class Pairs {
        /** Read ends, by pair index. */
        public final int[] rfd;
        /** Write ends, by pair index. */
        public final int[] wfd;
        /** The highest read end. */
        public final int maxFd;
        /** Read end to pair index. */
        public final int[] fd2idx;

        /**
         * @param n the number of pairs
         * @throws IOException if the kernel refuses
         */
        public Pairs(int n) throws IOException {
            rfd = new int[n];
            wfd = new int[n];
            // Above every read end: n numbers past those the JVM already holds (jars, its own files).
            int hi = n + Descriptors.openCount() + 64;
            int max = 0;
            try {
                for (int i = 0; i < n; i++) {
                    int[] p = dev.iomux.io.Sockets.pair();
                    int moved = Native.C.fcntl(p[1], dev.iomux.internal.Linux.F_DUPFD_CLOEXEC, hi);
                    if (moved < 0) {
                        throw Native.error("fcntl(F_DUPFD_CLOEXEC, " + hi + ")");
                    }
                    Descriptors.close(p[1]);
                    rfd[i] = p[0];
                    wfd[i] = moved;
                    max = Math.max(max, p[0]);
                }
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
            maxFd = max;
            fd2idx = new int[max + 1];
            for (int i = 0; i < n; i++) {
                fd2idx[rfd[i]] = i;
            }
        }

        /** Closes every descriptor. */
        public void close() {
            for (int fd : rfd) {
                if (fd > 0) {
                    Native.closeQuietly(fd);
                }
            }
            for (int fd : wfd) {
                if (fd > 0) {
                    Native.closeQuietly(fd);
                }
            }
        }
    }
}
