package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

import dev.iomux.Ready;
import dev.iomux.Selector;

/**
 * What a select costs and when it returns, for the rules that say a select waits: TIMEOUT-BLOCK,
 * TIMEOUT-POSITIVE, EINTR-RETRY, REPORT-NO-SPIN and REPORT-UNASKED.
 *
 * <p>A select that waits must sleep in the kernel. A busy loop (a zero timeout passed to the kernel, or a
 * wait that returns at once for something the caller did not ask for, again and again until the timeout)
 * reports the same keys at the same moments; only what it costs the selecting thread tells it apart,
 * never wall time. Two measures, each where it holds on a loaded machine:
 *
 * <ul>
 * <li>For a wait of 200 ms or more, the time the thread was runnable: its CPU time
 * ({@link ThreadMXBean#getCurrentThreadCpuTime}, CLOCK_THREAD_CPUTIME_ID) plus the time it waited on a run
 * queue for a CPU (the second field of /proc/thread-self/schedstat, run_delay). A busy loop is runnable
 * throughout its wait, however loaded the machine; its CPU time alone shrinks with its share of the
 * machine (a hang-up busy loop used 16 to 25 ms of CPU in a 200 ms select on a loaded 2-core machine). A
 * sleeping wait is runnable only from its wake-up until it returns. Where the kernel has no schedstat
 * (no CONFIG_SCHED_INFO) the CPU time alone is judged, and the note says so.</li>
 * <li>For a batch of waits shorter than a millisecond, CPU time alone: each such wait's busy loop is
 * shorter than a time slice, so it burns its whole wait whenever it runs, however loaded the machine;
 * while each sleeping wait's wake-up may wait for a CPU, which on a loaded machine adds up over a batch.</li>
 * </ul>
 *
 * <p>Each check is made {@link #ROUNDS} times and its median is judged, so one round disturbed by a loaded
 * machine does not decide, and no bound has to be widened for it.
 */
final class Waits {
    /** Rounds of each measured check; the median is judged. */
    static final int ROUNDS = 3;
    /**
     * What each select may cost whatever it waits: the call itself, through the binding into the kernel and
     * back (clean backends use 15 to 80 us).
     */
    static final long PER_SELECT_NANOS = 100_000;
    /**
     * The part of a wait of 200 ms or more a select may be runnable: half. A busy loop is runnable for all
     * of it; a sleeping 200 ms select for about 0.1 ms on a quiet machine, and for its wake-up's wait for a
     * CPU on a loaded one (up to 20 ms seen on a loaded 2-core machine).
     */
    static final int RUNNABLE_SHARE = 2;
    /**
     * The part of a sub-millisecond wait a select may spend on CPU: a tenth (a sleeping 900 us select uses
     * 15 to 80 us, most of it the call). A busy loop burns most of it.
     */
    static final int CPU_SHARE = 10;
    /**
     * How late a select with nothing ready and no signal may return past its timeout (the median of
     * {@link #ROUNDS}): a wait sleeping in the kernel is woken within a few milliseconds of its timer even
     * on a loaded machine, and a deadline computed wrongly (a retry with the whole timeout again, a
     * timeout rounded up to seconds) is late by far more.
     */
    static final long LATE_MILLIS = 100;
    /** How long {@link #idles} watches a select that must sleep. */
    static final long IDLE_MILLIS = 200;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** The calling thread's scheduler statistics: nanoseconds on a CPU, nanoseconds waiting for one, slices. */
    private static final Path SCHEDSTAT = Path.of("/proc/thread-self/schedstat");
    private static final boolean RUN_DELAY_KNOWN = Files.isReadable(SCHEDSTAT);

    private Waits() {
    }

    /**
     * @return the CPU time the calling thread has used, in nanoseconds
     * @throws IllegalStateException if the JVM cannot measure it (the rules that bound a select's cost
     *                               cannot be checked without it)
     */
    static long cpuNanos() {
        if (!THREADS.isCurrentThreadCpuTimeSupported()) {
            throw new IllegalStateException("this JVM cannot measure a thread's CPU time "
                    + "(ThreadMXBean.isCurrentThreadCpuTimeSupported() is false): the kit bounds what a select "
                    + "costs by the selecting thread's CPU time; run it on a JVM that measures it (HotSpot on Linux)");
        }
        if (!THREADS.isThreadCpuTimeEnabled()) {
            THREADS.setThreadCpuTimeEnabled(true);
        }
        return THREADS.getCurrentThreadCpuTime();
    }

    /** @return how long the calling thread has waited on a run queue for a CPU, in nanoseconds; 0 if unknown */
    static long runDelayNanos() {
        if (!RUN_DELAY_KNOWN) {
            return 0;
        }
        try {
            String[] fields = new String(Files.readAllBytes(SCHEDSTAT), StandardCharsets.US_ASCII).trim().split(" ");
            return Long.parseLong(fields[1]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param selects how many selects were made
     * @param waited  how long they were meant to wait in all, in nanoseconds
     * @return how long they may be runnable: {@link #PER_SELECT_NANOS} each and a {@link #RUNNABLE_SHARE}th of
     *         the wait; where the time waiting for a CPU is unknown, a tenth, for the CPU time alone
     */
    static long runnableBudgetNanos(int selects, long waited) {
        return selects * PER_SELECT_NANOS + waited / (RUN_DELAY_KNOWN ? RUNNABLE_SHARE : CPU_SHARE);
    }

    /**
     * @param selects how many selects were made
     * @param waited  how long they were meant to wait in all, in nanoseconds
     * @return the CPU time they may use: {@link #PER_SELECT_NANOS} each and a {@link #CPU_SHARE}th of the wait
     */
    static long cpuBudgetNanos(int selects, long waited) {
        return selects * PER_SELECT_NANOS + waited / CPU_SHARE;
    }

    /**
     * Makes a selector's first calls on this thread, so that what they load and link once (classes, the
     * native binding's stubs, the JIT's first compilations) is not counted as the cost of a wait.
     */
    static void warmUp(Selector s) throws IOException {
        s.selectNow();
        s.select(Duration.ofMillis(1));
        runDelayNanos();
    }

    /**
     * A select, measured.
     *
     * @param got      what it returned
     * @param nanos    how long it took
     * @param cpu      the selecting thread's CPU time it used, in nanoseconds
     * @param runDelay how long the selecting thread waited for a CPU meanwhile, in nanoseconds
     */
    record Waited(List<Ready> got, long nanos, long cpu, long runDelay) {
        long millis() {
            return nanos / 1_000_000;
        }
    }

    /** A select that may throw. */
    @FunctionalInterface
    interface SelectCall {
        List<Ready> select() throws IOException;
    }

    /** Makes one select on the calling thread and measures it. */
    static Waited measure(SelectCall call) throws IOException {
        long delay = runDelayNanos();
        long cpu = cpuNanos();
        long start = System.nanoTime();
        List<Ready> got = call.select();
        long nanos = System.nanoTime() - start;
        long used = cpuNanos() - cpu;
        return new Waited(got, nanos, used, runDelayNanos() - delay);
    }

    /** One select with a timeout, measured on the calling thread. */
    static Waited select(Selector s, Duration timeout) throws IOException {
        return measure(() -> s.select(timeout));
    }

    /** One select without a timeout, measured on the calling thread. */
    static Waited selectForever(Selector s) throws IOException {
        return measure(s::select);
    }

    /**
     * Checks that a select that has nothing to report sleeps: {@link #ROUNDS} selects of {@link #IDLE_MILLIS}
     * each report nothing and wait their whole timeout, and the median time the selecting thread was
     * runnable is within the budget. A backend that wakes for something it then drops (a hang-up outside
     * the interest, a direction the key did not ask for) returns from the kernel at once, again and again,
     * until the timeout: it reports the same nothing and passes every check but this one.
     *
     * @param what the situation, for the message and the matrix
     */
    static void idles(Run run, Selector s, String what) throws IOException {
        warmUp(s);
        Costs costs = new Costs();
        for (int round = 0; round < ROUNDS; round++) {
            Waited w = select(s, Duration.ofMillis(IDLE_MILLIS));
            assertThat(w.got()).as("%s: %s: select(%d ms) reports nothing", run.backend(), what, IDLE_MILLIS)
                    .isEmpty();
            assertThat(w.millis()).as("%s: %s: select(%d ms) waits its whole timeout", run.backend(), what,
                    IDLE_MILLIS).isGreaterThanOrEqualTo(IDLE_MILLIS);
            costs.add(w);
        }
        run.note(what + ": - (" + costs + ")");
        costs.checkRunnable(run, what + ", a select of " + IDLE_MILLIS + " ms",
                runnableBudgetNanos(1, Duration.ofMillis(IDLE_MILLIS).toNanos()));
    }

    /** What {@link #ROUNDS} measured selects (or batches of selects) took and cost. */
    static final class Costs {
        private final long[] nanos = new long[ROUNDS];
        private final long[] cpu = new long[ROUNDS];
        private final long[] runDelay = new long[ROUNDS];
        private int rounds;

        void add(Waited w) {
            add(w.nanos(), w.cpu(), w.runDelay());
        }

        void add(long wallNanos, long cpuNanos, long runDelayNanos) {
            nanos[rounds] = wallNanos;
            cpu[rounds] = cpuNanos;
            runDelay[rounds] = runDelayNanos;
            rounds++;
        }

        long medianNanos() {
            return median(nanos);
        }

        /**
         * The median of what each took apart from the time its thread waited for a CPU: how long it slept
         * and ran. A select that sleeps a millisecond sleeps it however loaded the machine; one woken after
         * 50 us may then wait far longer for a CPU on a loaded one.
         */
        long medianNanosBesidesRunDelay() {
            long[] own = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                own[i] = nanos[i] - runDelay[i];
            }
            return median(own);
        }

        /**
         * Checks that the median CPU time is within {@code budget}: for waits shorter than a time slice.
         *
         * @param what what was measured, e.g. "100 selects of 900 us"
         */
        void checkCpu(Run run, String what, long budget) {
            assertThat(median(cpu)).as("%s: %s: the selecting thread's CPU time, median of %s, must be under %s: "
                    + "a select that waits sleeps in the kernel (a busy loop burns its wait)", run.backend(), what,
                    this, ms(budget)).isLessThan(budget);
        }

        /**
         * Checks that the median time the selecting thread was runnable (CPU time and waiting for a CPU) is
         * within {@code budget}: for waits of 200 ms or more.
         *
         * @param what what was measured, e.g. "a select of 200 ms"
         */
        void checkRunnable(Run run, String what, long budget) {
            long[] runnable = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                runnable[i] = cpu[i] + runDelay[i];
            }
            assertThat(median(runnable)).as("%s: %s: the time the selecting thread was runnable (on a CPU or "
                    + "waiting for one), median of %s, must be under %s: a select that waits sleeps in the kernel "
                    + "(a busy loop is runnable throughout)", run.backend(), what, this, ms(budget))
                    .isLessThan(budget);
        }

        private long median(long[] values) {
            assertThat(rounds).as("rounds measured").isEqualTo(ROUNDS);
            long[] sorted = values.clone();
            Arrays.sort(sorted);
            return sorted[ROUNDS / 2];
        }

        /** @return e.g. {@code took 200/200/201 ms, CPU 0.1/0.1/0.1 ms, waiting for a CPU 0.0/2.1/0.0 ms} */
        @Override
        public String toString() {
            StringJoiner took = new StringJoiner("/", "took ", " ms");
            StringJoiner used = new StringJoiner("/", "CPU ", " ms");
            StringJoiner delayed = new StringJoiner("/", "waiting for a CPU ", " ms");
            for (int i = 0; i < rounds; i++) {
                took.add(String.valueOf(nanos[i] / 1_000_000));
                used.add(String.format(Locale.ROOT, "%.1f", cpu[i] / 1e6));
                delayed.add(String.format(Locale.ROOT, "%.1f", runDelay[i] / 1e6));
            }
            return took + ", " + used + ", " + (RUN_DELAY_KNOWN ? delayed : "waiting for a CPU unknown (no "
                    + SCHEDSTAT + ")");
        }
    }

    /** @return nanoseconds as milliseconds with one decimal, e.g. {@code 30.1 ms} */
    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }
}
