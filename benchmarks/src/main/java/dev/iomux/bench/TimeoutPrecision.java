package dev.iomux.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import dev.iomux.Events;
import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.PollBits;

/**
 * How long a timed select with nothing ready really waits: {@code select(50 µs)} on a pipe that stays
 * empty, per backend, p50 / p99 / max of the wall time, and the bytes the selecting thread allocated per
 * select ({@code com.sun.management.ThreadMXBean.getThreadAllocatedBytes}, after warm-up).
 *
 * <pre>
 *   java -cp benchmarks/target/benchmarks.jar dev.iomux.bench.TimeoutPrecision [micros [selects [backends...]]]
 * </pre>
 *
 * Defaults: 50 µs, 10,000 selects (after 2,000 of warm-up), backends select, poll and epoll. Uses the
 * allocation-free {@code select(long, TimeUnit, ReadyHandler)}. The backend {@code kernel} is no selector:
 * the same ppoll(2) made through {@link Kernel#poll(long, int, long, NativeBuffer)} alone, what the JVM
 * and the native call cost without the selector's bookkeeping.
 */
public final class TimeoutPrecision {
    private TimeoutPrecision() {
    }

    public static void main(String[] args) throws Exception {
        long micros = args.length > 0 ? Long.parseLong(args[0]) : 50;
        int selects = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        List<String> backends = args.length > 2 ? Arrays.asList(args).subList(2, args.length)
                : List.of("select", "poll", "epoll");
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        System.out.printf(Locale.ROOT, "# select(%d us) with nothing ready, %d selects; java %s; %s%n", micros,
                selects, System.getProperty("java.version"), System.getProperty("os.version"));
        System.out.printf(Locale.ROOT, "%-8s %9s %9s %9s %9s %14s%n", "backend", "p50 us", "p99 us", "max us",
                "mean us", "bytes/select");
        int[] pipe = Descriptors.pipe();
        ReadyHandler handler = (key, events) -> {
            throw new AssertionError("nothing should be ready, got " + key);
        };
        try {
            for (String backend : backends) {
                try (Waits waits = backend.equals("kernel") ? new PpollWaits(pipe[0]) : new SelectorWaits(backend,
                        pipe[0], handler)) {
                    long nanos = TimeUnit.MICROSECONDS.toNanos(micros);
                    for (int i = 0; i < 2_000; i++) {
                        waits.waitFor(nanos);
                    }
                    long[] took = new long[selects];
                    long allocBefore = threads.getThreadAllocatedBytes(self);
                    for (int i = 0; i < selects; i++) {
                        long t0 = System.nanoTime();
                        waits.waitFor(nanos);
                        took[i] = System.nanoTime() - t0;
                    }
                    long allocated = threads.getThreadAllocatedBytes(self) - allocBefore;
                    long sum = 0;
                    for (long t : took) {
                        sum += t;
                    }
                    Arrays.sort(took);
                    System.out.printf(Locale.ROOT, "%-8s %9.1f %9.1f %9.1f %9.1f %14.2f%n", backend,
                            took[selects / 2] / 1e3, took[(int) (selects * 0.99)] / 1e3, took[selects - 1] / 1e3,
                            sum / 1e3 / selects, (double) allocated / selects);
                }
            }
        } finally {
            Descriptors.close(pipe[0]);
            Descriptors.close(pipe[1]);
        }
    }

    /** One timed wait with nothing ready, made again and again. */
    private interface Waits extends AutoCloseable {
        void waitFor(long nanos) throws IOException;

        @Override
        void close() throws IOException;
    }

    /** Through a selector of one backend. */
    private static final class SelectorWaits implements Waits {
        private final Selector sel;
        private final ReadyHandler handler;

        SelectorWaits(String backend, int fd, ReadyHandler handler) throws IOException {
            this.sel = Selectors.open(backend);
            this.handler = handler;
            sel.register(fd, Events.READ);
        }

        @Override
        public void waitFor(long nanos) throws IOException {
            sel.select(nanos, TimeUnit.NANOSECONDS, handler);
        }

        @Override
        public void close() throws IOException {
            sel.close();
        }
    }

    /** ppoll(2) on one pollfd, through the SPI's {@link Kernel}, as the poll backend makes it. */
    private static final class PpollWaits implements Waits {
        private final NativeBuffer pollfd = NativeBuffer.allocate(8);
        private final NativeBuffer timespec = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
        private final int fd;

        PpollWaits(int fd) {
            this.fd = fd;
        }

        @Override
        public void waitFor(long nanos) throws IOException {
            pollfd.putInt(0, fd);
            pollfd.putShort(4, (short) PollBits.POLLIN);
            pollfd.putShort(6, (short) 0);
            if (Kernel.poll(pollfd.address(), 1, nanos, timespec) != 0) {
                throw new AssertionError("nothing should be ready on fd " + fd);
            }
        }

        @Override
        public void close() {
            pollfd.free();
            timespec.free();
        }
    }
}
