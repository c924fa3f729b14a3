package dev.iomux.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;

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
 * allocation-free {@code select(long, TimeUnit, ReadyHandler)}.
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
                try (Selector sel = Selectors.open(backend)) {
                    sel.register(pipe[0], dev.iomux.Events.READ);
                    for (int i = 0; i < 2_000; i++) {
                        sel.select(micros, TimeUnit.MICROSECONDS, handler);
                    }
                    long[] took = new long[selects];
                    long allocBefore = threads.getThreadAllocatedBytes(self);
                    for (int i = 0; i < selects; i++) {
                        long t0 = System.nanoTime();
                        sel.select(micros, TimeUnit.MICROSECONDS, handler);
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
}
