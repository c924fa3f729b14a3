package dev.iomux.uring;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.PollBits;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** What the selector does with the kernel facts of {@link RingFactsTest}. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UringSelectorTest {
    private static Selector open() throws IOException {
        return new UringSelectorProvider().open();
    }

    @Test
    @DisplayName("Level-triggered over an edge-triggered kernel poll: a byte left unread is reported by every select")
    void levelTriggeredByRearming() throws IOException {
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ);
            Expect.nothing(sel);
            Fds.write(p[1], 1);
            for (int i = 0; i < 5; i++) {
                assertThat(Expect.ready(sel, p[0], READ)).as("select %d of an unread byte", i + 1).isEqualTo(READ);
            }
            Fds.drain(p[0]);
            Expect.nothing(sel);
        }
    }

    @Test
    @DisplayName("Unregister, then close: the file is released at the selector's next wait, which cancels the poll")
    void unregisterThenCloseReleasesTheFileAtTheNextWait() throws IOException {
        NativeBuffer pollfd = NativeBuffer.allocate(8);
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] s = fds.socketPair();
            sel.register(s[0], READ);
            Expect.nothing(sel); // the poll is armed in the kernel now
            sel.unregister(s[0]);
            fds.close(s[0]);
            assertThat(RingFactsTest.peer(pollfd, s[1], 200)).as("no select yet: the armed poll holds the file, "
                    + "the peer sees no hang-up").isZero();
            sel.selectNow(); // submits the POLL_REMOVE
            int revents = RingFactsTest.peer(pollfd, s[1], 2000);
            assertThat(revents & (PollBits.POLLHUP | PollBits.POLLIN)).as("after the next wait the peer sees the "
                    + "hang-up (revents 0x%x)", revents).isNotZero();
        } finally {
            pollfd.free();
        }
    }

    @Test
    @DisplayName("A poll armed by a thread that selected once and then waits elsewhere still completes for the "
            + "thread that selects next")
    void anotherThreadsSelectSeesAPollArmedByAParkedThread() throws Exception {
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ);
            CountDownLatch armed = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            Thread first = new Thread(() -> {
                try {
                    sel.selectNow(); // submits the POLL_ADD: this thread's request now
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } finally {
                    armed.countDown();
                }
                try {
                    done.await(); // parked in the kernel (a futex), not in the ring
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "first selector");
            first.start();
            try {
                assertThat(armed.await(10, TimeUnit.SECONDS)).isTrue();
                Fds.write(p[1], 1);
                List<Ready> got = sel.select(Duration.ofSeconds(3));
                assertThat(got).as("the byte, reported to this thread's select").extracting(Ready::fd)
                        .containsExactly(p[0]);
            } finally {
                done.countDown();
                first.join(10_000);
            }
        }
    }

    @Test
    @DisplayName("A timed select allocates nothing in steady state, as an untimed one does")
    void timedSelectAllocatesNothing() throws IOException {
        ReadyHandler none = (key, events) -> {
            throw new AssertionError("nothing is ready, got " + key);
        };
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ);
            timedSelects(sel, none, 5_000); // warm-up: the JIT compiles the path
            // The JIT may still allocate a little once in the first batch after the warm-up, so the least of
            // up to three batches is checked; an allocation per select shows in every batch.
            int selects = 10_000;
            List<Long> batches = new ArrayList<>();
            for (int b = 0; b < 3 && (batches.isEmpty() || batches.get(b - 1) >= selects); b++) {
                batches.add(timedSelects(sel, none, selects));
            }
            long least = batches.stream().mapToLong(Long::longValue).min().orElseThrow();
            assertThat(least).as("bytes allocated by %d timed selects of 20 us (batches %s)", selects, batches)
                    .isLessThan(selects);
        }
    }

    /** @return the bytes this thread allocates over {@code rounds} selects of 20 us with nothing ready */
    private static long timedSelects(Selector sel, ReadyHandler handler, int rounds) throws IOException {
        long before = Expect.allocatedBytes();
        for (int i = 0; i < rounds; i++) {
            sel.select(20, TimeUnit.MICROSECONDS, handler);
        }
        return Expect.allocatedBytes() - before;
    }
}
