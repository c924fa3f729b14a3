package dev.iomux.poll;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;

import dev.iomux.Selector;

/** Helpers shared by the poll backend's own tests. */
final class PollTesting {
    /** The CPU a select may burn while it waits: a spinning loop burns nearly all of its wait. */
    static final long IDLE_CPU_LIMIT_MILLIS = 150;

    private PollTesting() {
    }

    /** Opens a poll selector as the backend's own class, so that package-private state can be checked. */
    static PollSelector open() throws IOException {
        return (PollSelector) new PollSelectorProvider().open();
    }

    /**
     * A select of {@code millis} returns nothing, waits at least that long, and burns less than
     * {@link #IDLE_CPU_LIMIT_MILLIS} of this thread's CPU time doing it (REPORT-NO-SPIN).
     */
    static void assertSelectIdles(Selector sel, long millis, String what) throws IOException {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        assertThat(sel.select(Duration.ofMillis(millis))).as("%s: nothing may be reported", what).isEmpty();
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        long cpuMillis = (threads.getCurrentThreadCpuTime() - cpu) / 1_000_000;
        assertThat(elapsedMillis).as("%s: the select waits its whole timeout", what).isGreaterThanOrEqualTo(millis);
        assertThat(cpuMillis).as("%s: CPU time of a %d ms select (a spinning loop burns it all)", what, millis)
                .isLessThan(IDLE_CPU_LIMIT_MILLIS);
    }
}
