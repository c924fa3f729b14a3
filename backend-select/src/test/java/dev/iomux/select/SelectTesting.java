package dev.iomux.select;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;

/** Helpers shared by the select backend's own tests. */
final class SelectTesting {
    private SelectTesting() {
    }

    /** @return a new select selector, typed so that package-private members (ebadfRetries) are reachable */
    static SelectSelector open() throws IOException {
        return (SelectSelector) new SelectSelectorProvider().open();
    }

    /** @return the lowest descriptor number in {@code from..to} that is not open, or -1 */
    static int freeFd(int from, int to) {
        for (int fd = from; fd <= to; fd++) {
            if (!Descriptors.isOpen(fd)) {
                return fd;
            }
        }
        return -1;
    }

    /**
     * Duplicates {@code fd} onto the free number {@code target} (found with {@link #freeFd}) and tracks
     * the copy in {@code fds}. A high number is not handed out again by open/pipe/socket while lower
     * ones are free, so closing it behind a selector's back leaves the number closed.
     */
    static int dupTo(Fds fds, int fd, int target) throws IOException {
        Descriptors.dup2(fd, target);
        return fds.track(target);
    }

    /** CPU time of the current thread, in nanoseconds. */
    static long cpuNanos() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return threads.getCurrentThreadCpuTime();
    }

    /**
     * A select over {@code millis} returns nothing, waits at least that long and burns less than
     * {@code maxCpuMillis} of CPU doing it (REPORT-NO-SPIN: a spinning loop burns it all).
     */
    static void assertSelectIdles(Selector sel, long millis, long maxCpuMillis) throws IOException {
        long cpu = cpuNanos();
        long start = System.nanoTime();
        List<Ready> got = sel.select(Duration.ofMillis(millis));
        long elapsed = (System.nanoTime() - start) / 1_000_000;
        long cpuMillis = (cpuNanos() - cpu) / 1_000_000;
        assertThat(got).as("select(%d ms) must report nothing", millis).isEmpty();
        assertThat(elapsed).as("select(%d ms) waited", millis).isGreaterThanOrEqualTo(millis);
        assertThat(cpuMillis).as("CPU time of a %d ms select that reports nothing (a spinning loop burns it all)",
                millis).isLessThan(maxCpuMillis);
    }

    /**
     * Descriptors open now that were not before (or point elsewhere now), ignoring the jar files the JVM
     * opens when it loads classes and the descriptor listing /proc/self/fd itself.
     */
    static Map<Integer, String> opened(Map<Integer, String> before) throws IOException {
        Map<Integer, String> added = new TreeMap<>();
        LeakCheck.openDescriptors().forEach((fd, target) -> {
            if (!target.equals(before.get(fd)) && !target.endsWith(".jar")
                    && !(target.startsWith("/proc/") && target.endsWith("/fd"))) {
                added.put(fd, target);
            }
        });
        return added;
    }

    /** @return the entries of {@code got} for {@code fd} */
    static List<Ready> entriesOf(List<Ready> got, int fd) {
        return got.stream().filter(r -> r.fd() == fd).toList();
    }
}
