package dev.iomux.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Async;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A stale double close in the program hits one of the selector's own wake-up descriptors, and the number
 * is then reused by whatever the program opens next. A user bug, but the selector must not hang, spin,
 * read from, write to or close a descriptor it no longer owns: it reports the misuse, naming the number.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WakerMisuseTest {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** The selector's wake-up descriptors, lowest (the read end) first: what it opened, less epoll's instance. */
    private static List<Integer> wakeupFds(Map<Integer, String> before) throws Exception {
        Map<Integer, String> added = LeakCheck.leaked(before, LeakCheck.openDescriptors());
        List<Integer> own = added.entrySet().stream().filter(e -> !e.getValue().contains("eventpoll"))
                .map(Map.Entry::getKey).sorted().toList();
        assertThat(own).as("the selector's own descriptors: %s", added).isNotEmpty();
        return own;
    }

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aClosedReadEndIsReportedByWakeupSelectAndClose(String backend) throws Exception {
        Map<Integer, String> before = LeakCheck.openDescriptors();
        Selector sel = Selectors.open(backend);
        int readEnd = wakeupFds(before).get(0);
        Descriptors.close(readEnd);

        assertThatThrownBy(sel::wakeup).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("fd " + readEnd).hasMessageContaining("closed behind its back");
        assertThatThrownBy(() -> sel.select(Duration.ofMillis(100))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("fd " + readEnd);
        assertThatThrownBy(sel::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("fd " + readEnd);
        assertThat(sel.isOpen()).isFalse();
    }

    /** poll reported POLLNVAL at once, forever (a spin); select failed with EBADF; epoll lost its wake-ups. */
    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aReadEndClosedBeforeASelectIsNotSpunOn(String backend) throws Exception {
        Map<Integer, String> before = LeakCheck.openDescriptors();
        Selector sel = Selectors.open(backend);
        int readEnd = wakeupFds(before).get(0);
        Descriptors.close(readEnd);

        long cpu = THREADS.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        Throwable failure = null;
        try {
            for (int i = 0; i < 3; i++) {
                sel.select(Duration.ofMillis(100));
            }
        } catch (IllegalStateException e) {
            failure = e;
        }
        long cpuMillis = (THREADS.getCurrentThreadCpuTime() - cpu) / 1_000_000;
        long wallMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(cpuMillis).as("CPU of three 100 ms selects (%d ms of wall time); %s", wallMillis, failure)
                .isLessThan(100);
        if (failure != null) {
            assertThat(failure).hasMessageContaining("fd " + readEnd); // select and poll see it at once
        }
        long closeStart = System.nanoTime();
        assertThatThrownBy(sel::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("fd " + readEnd);
        assertThat((System.nanoTime() - closeStart) / 1_000_000).as("close took").isLessThan(5_000);
    }

    /** wakeup() wrote 8 bytes into the socket that reused the number, and close() closed that socket. */
    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aReusedWriteEndGetsNoBytesAndStaysOpen(String backend) throws Exception {
        try (Fds fds = new Fds()) {
            Map<Integer, String> before = LeakCheck.openDescriptors();
            Selector sel = Selectors.open(backend);
            List<Integer> own = wakeupFds(before);
            int writeEnd = own.get(own.size() - 1);
            Descriptors.close(writeEnd);
            int[] pair = fds.socketPair(); // takes the lowest free number: the one just closed
            assertThat(pair[0]).as("the socket reused the number").isEqualTo(writeEnd);

            assertThatThrownBy(sel::wakeup).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("fd " + writeEnd);
            assertThatThrownBy(sel::close).isInstanceOf(IllegalStateException.class);
            assertThat(Fds.drain(pair[1])).as("bytes the selector wrote into the program's socket").isZero();
            assertThat(Descriptors.isOpen(pair[0])).as("the program's socket is still open").isTrue();
        }
    }

    /**
     * A select blocked when the read end's number is closed and reused by a socket with data waiting: the
     * selector must not read the program's bytes, and close must return (poll and select see the socket
     * readable in the wake-up slot; epoll cannot be woken and is left to its timeout).
     */
    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aBlockedSelectDoesNotReadTheSocketThatReusedItsNumber(String backend) throws Exception {
        try (Fds fds = new Fds()) {
            Map<Integer, String> before = LeakCheck.openDescriptors();
            Selector sel = Selectors.open(backend);
            int readEnd = wakeupFds(before).get(0);
            CompletableFuture<List<Ready>> blocked = Async.supply(() -> {
                try {
                    return sel.select(Duration.ofSeconds(2));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(100);
            Descriptors.close(readEnd);
            int[] pair = fds.socketPair();
            assertThat(pair[0]).as("the socket reused the number").isEqualTo(readEnd);
            Fds.write(pair[1], new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});

            long closeStart = System.nanoTime();
            assertThatThrownBy(sel::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("fd " + readEnd);
            assertThat((System.nanoTime() - closeStart) / 1_000_000).as("close took").isLessThan(5_000);
            // Closed, or the misuse: whichever it sees first when its timeout ends (SelectorClosedException is
            // an IllegalStateException).
            assertThatThrownBy(() -> blocked.get(10, TimeUnit.SECONDS)).hasRootCauseInstanceOf(IllegalStateException.class);
            assertThat(Fds.drain(pair[0])).as("the program's bytes are all still there").isEqualTo(10);
            assertThat(Descriptors.isOpen(pair[0])).isTrue();
        }
    }
}
