package dev.iomux.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Locale;

import dev.iomux.Events;
import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;

/**
 * iomux's per-event bookkeeping on epoll, measured against the raw event walk in one process, in finely
 * interleaved blocks, so that the noise of a shared machine falls on both alike: JMH's
 * {@code SelectReadyBench} epoll and raw-epoll, side by side.
 *
 * <pre>
 * DispatchPairs [-k calls per block] [-b blocks]
 * </pre>
 *
 * <p>Two sets of 100 socketpairs, each read end with one unread byte, registered level-triggered: one with
 * an iomux epoll selector (a {@code selectNow(handler)} delivers 100 keys), one with an epoll instance of
 * its own ({@code Native.epollWait} and a walk over the event array that sums the descriptors). Blocks of
 * k calls alternate between the two, the order swapped every block; each pair of blocks gives one
 * difference. Each block is timed by the thread's CPU time (user and system, clock_gettime's
 * CLOCK_THREAD_CPUTIME_ID through ThreadMXBean), not the wall clock: on a shared machine the wall clock
 * also counts the time the thread waited for a CPU. Prints the medians and the lower quartiles of ns per
 * call and of the difference per event.
 */
public final class DispatchPairs {
    private static final int READY = 100;
    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private long sum;
    private final ReadyHandler handler = (key, events) -> sum += key.fd();

    private DispatchPairs() {
    }

    /**
     * Runs the blocks and prints the result.
     *
     * @param args {@code -k calls -b blocks}
     * @throws IOException if the kernel refuses
     */
    public static void main(String[] args) throws IOException {
        int k = 200;
        int blocks = 400;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-k": k = Integer.parseInt(args[++i]); break;
                case "-b": blocks = Integer.parseInt(args[++i]); break;
                default:
                    System.err.println("usage: DispatchPairs [-k calls per block] [-b blocks]");
                    System.exit(2);
            }
        }
        new DispatchPairs().run(k, blocks);
    }

    private void run(int k, int blocks) throws IOException {
        ByteBuffer one = ByteBuffer.allocateDirect(1);
        Scaling.Pairs mine = new Scaling.Pairs(READY);
        Scaling.Pairs raw = new Scaling.Pairs(READY);
        try (Selector selector = Selectors.open("epoll")) {
            for (int i = 0; i < READY; i++) {
                selector.register(mine.rfd[i], Events.READ);
                Descriptors.write(mine.wfd[i], one.clear());
            }
            for (int i = 0; i < READY; i++) {
                Descriptors.write(raw.wfd[i], one.clear());
            }
            try (RawEpoll epoll = new RawEpoll(raw.rfd)) {
                // Warm-up: both loops compiled, as JMH's warm-up iterations would.
                for (int i = 0; i < 20; i++) {
                    iomux(selector, k * 5);
                    raw(epoll, k * 5);
                }
                double[] iomux = new double[blocks];
                double[] rawNs = new double[blocks];
                double[] diff = new double[blocks];
                for (int b = 0; b < blocks; b++) {
                    if ((b & 1) == 0) {
                        iomux[b] = iomux(selector, k);
                        rawNs[b] = raw(epoll, k);
                    } else {
                        rawNs[b] = raw(epoll, k);
                        iomux[b] = iomux(selector, k);
                    }
                    diff[b] = (iomux[b] - rawNs[b]) / READY;
                }
                System.out.printf(Locale.ROOT, "DISPATCH\tcalls=%d\tblocks=%d\tiomux_ns=%.0f\traw_ns=%.0f"
                        + "\tper_event_ns=%.2f\tq1_iomux_ns=%.0f\tq1_raw_ns=%.0f\tq1_per_event_ns=%.2f\tsum=%d%n",
                        k, blocks, quantile(iomux, 0.5), quantile(rawNs, 0.5), quantile(diff, 0.5),
                        quantile(iomux, 0.25), quantile(rawNs, 0.25),
                        (quantile(iomux, 0.25) - quantile(rawNs, 0.25)) / READY, sum);
            }
        } finally {
            mine.close();
            raw.close();
        }
    }

    /** @return ns per call over {@code calls} calls */
    private double iomux(Selector selector, int calls) throws IOException {
        long t = THREADS.getCurrentThreadCpuTime();
        for (int i = 0; i < calls; i++) {
            if (selector.selectNow(handler) != READY) {
                throw new IllegalStateException("expected " + READY + " ready keys");
            }
        }
        return (double) (THREADS.getCurrentThreadCpuTime() - t) / calls;
    }

    /** @return ns per call over {@code calls} calls */
    private double raw(RawEpoll epoll, int calls) {
        int[] n = new int[1];
        long t = THREADS.getCurrentThreadCpuTime();
        for (int c = 0; c < calls; c++) {
            sum += epoll.walk(n);
            if (n[0] != READY) {
                throw new IllegalStateException("expected " + READY + " ready events, got " + n[0]);
            }
        }
        return (double) (THREADS.getCurrentThreadCpuTime() - t) / calls;
    }

    private static double quantile(double[] values, double q) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[(int) Math.min(v.length - 1, Math.round(q * (v.length - 1)))];
    }
}
