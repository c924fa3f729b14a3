package dev.iomux.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.Selector;

/**
 * Readiness assertions in mio's style (tests/util: expect_events, expect_no_events): tolerant of
 * spurious readiness and of a slow machine when waiting for something, strict about its absence.
 */
public final class Expect {
    /** How long to wait for readiness that must come: generous, for a loaded 2-core machine. */
    public static final Duration PATIENCE = Duration.ofSeconds(5);
    /** How long absence is watched for. */
    public static final Duration SHORT = Duration.ofMillis(80);

    private Expect() {
    }

    /**
     * Selects until {@code fd} is reported with at least {@code events}, and returns what was reported.
     * Fails after {@link #PATIENCE}.
     *
     * @param s the selector
     * @param fd the descriptor
     * @param events the events to wait for, all of them
     * @return the events reported for {@code fd} the time they included {@code events}
     * @throws IOException if a select fails
     */
    public static int ready(Selector s, int fd, int events) throws IOException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        int seen = 0;
        while (System.nanoTime() < deadline) {
            for (Ready r : s.select(Duration.ofMillis(100))) {
                if (r.fd() == fd) {
                    seen = r.events();
                    if ((seen & events) == events) {
                        return seen;
                    }
                }
            }
        }
        throw new AssertionError("fd " + fd + " was not reported with " + Events.toString(events) + " within "
                + PATIENCE + " on " + s.backend() + " (last seen: " + Events.toString(seen) + ")");
    }

    /**
     * Checks that {@code fd} is not reported during {@link #SHORT}, twice (level-triggered rules).
     *
     * @param s the selector
     * @param fd the descriptor
     * @throws IOException if a select fails
     */
    public static void notReady(Selector s, int fd) throws IOException {
        for (int round = 0; round < 2; round++) {
            List<Ready> got = s.select(SHORT);
            assertThat(got).as("%s: fd %d must not be reported", s.backend(), fd)
                    .noneMatch(r -> r.fd() == fd);
        }
    }

    /**
     * Checks that nothing at all is reported during {@link #SHORT}.
     *
     * @param s the selector
     * @throws IOException if the select fails
     */
    public static void nothing(Selector s) throws IOException {
        assertThat(s.select(SHORT)).as("%s: nothing may be ready", s.backend()).isEmpty();
    }

    /**
     * Checks that a select over {@code millis} reports nothing, waits at least that long, and burns less
     * than {@code cpuBudgetMillis} of this thread's CPU time doing it: a loop spinning on events it drops
     * burns it all (REPORT-NO-SPIN).
     *
     * @param s the selector
     * @param millis the select's timeout
     * @param cpuBudgetMillis the CPU time it may use, exclusive
     * @throws IOException if the select fails
     */
    public static void idles(Selector s, long millis, long cpuBudgetMillis) throws IOException {
        long cpu = cpuNanos();
        long start = System.nanoTime();
        List<Ready> got = s.select(Duration.ofMillis(millis));
        long elapsed = millisSince(start);
        long cpuMillis = (cpuNanos() - cpu) / 1_000_000;
        assertThat(got).as("%s: select(%d ms) must report nothing", s.backend(), millis).isEmpty();
        assertThat(elapsed).as("%s: select(%d ms) waits its whole timeout", s.backend(), millis)
                .isGreaterThanOrEqualTo(millis);
        assertThat(cpuMillis).as("%s: CPU time of a %d ms select (a spinning loop burns it all)", s.backend(), millis)
                .isLessThan(cpuBudgetMillis);
    }

    /** @return the CPU time the current thread has used, in nanoseconds */
    public static long cpuNanos() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        return threads.getCurrentThreadCpuTime();
    }

    /** @return the bytes of heap the current thread has allocated so far (for steady-state allocation checks) */
    public static long allocatedBytes() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        return threads.getCurrentThreadAllocatedBytes();
    }

    /**
     * Measures time since a {@link System#nanoTime()}.
     *
     * @param startNanos a value of {@link System#nanoTime()}
     * @return milliseconds since {@code startNanos}
     */
    public static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
