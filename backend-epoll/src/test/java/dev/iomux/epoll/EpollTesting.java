package dev.iomux.epoll;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;

import dev.iomux.NativeIOException;
import dev.iomux.Ready;
import dev.iomux.io.Sockets;

/** Shared helpers of the epoll backend's own tests (not a test class). */
final class EpollTesting {
    private EpollTesting() {
    }

    /** @return a new epoll selector with the default event array */
    static EpollSelector open() throws IOException {
        return (EpollSelector) new EpollSelectorProvider().open();
    }

    /** @return a new epoll selector whose epoll_wait returns at most {@code maxEvents} events */
    static EpollSelector open(int maxEvents) throws IOException {
        return (EpollSelector) new EpollSelectorProvider().open(maxEvents);
    }

    /** @return the CPU time this thread has used, in nanoseconds */
    static long cpuNanos() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return threads.getCurrentThreadCpuTime();
    }

    /**
     * Checks that a select over {@code millis} returns nothing, waits at least that long, and burns less
     * than {@code cpuBudgetMillis} of CPU doing it (a loop that spins on events it drops burns it all).
     */
    static void assertSelectIdles(EpollSelector sel, long millis, long cpuBudgetMillis) throws IOException {
        long cpu = cpuNanos();
        long start = System.nanoTime();
        List<Ready> got = sel.select(Duration.ofMillis(millis));
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        long cpuMillis = (cpuNanos() - cpu) / 1_000_000;
        assertThat(got).as("nothing may be reported").isEmpty();
        assertThat(elapsedMillis).as("select(%d ms) waited its timeout", millis).isGreaterThanOrEqualTo(millis);
        assertThat(cpuMillis).as("CPU time of a %d ms select (a spinning loop burns it all)", millis)
                .isLessThan(cpuBudgetMillis);
    }

    /**
     * Waits until a non-blocking TCP connect has completed on the client side (getpeername succeeds),
     * then a little longer so that the server side has queued the connection too (loopback delivers the
     * handshake's last ACK at once, the sleep only makes sure).
     */
    static void awaitConnected(int... clients) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (int fd : clients) {
            for (;;) {
                try {
                    Sockets.remoteAddress(fd);
                    break;
                } catch (NativeIOException notYet) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("fd " + fd + " did not connect within 5 s", notYet);
                    }
                    Thread.sleep(5);
                }
            }
            assertThat(Sockets.pendingError(fd)).as("SO_ERROR of connected fd %d", fd).isZero();
        }
        Thread.sleep(100);
    }
}
