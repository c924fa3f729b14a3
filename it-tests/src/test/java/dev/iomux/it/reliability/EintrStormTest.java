package dev.iomux.it.reliability;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import dev.iomux.testing.Signals;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The EINTR storm: a real SIGWINCH every millisecond, aimed with pthread_kill at the
 * selecting thread, for {@link #STORM_MILLIS} ms per backend. select, poll and epoll_wait fail with EINTR
 * on each signal whatever SA_RESTART says (signal(7)); the selector must retry with the time left
 * (EINTR-RETRY). Meanwhile a writer sends numbered bytes over eight pipes in bursts, with a quiet second
 * in the middle. Checked: every timed select that reports nothing waited its whole timeout and not much
 * more (deadlines held), every byte is read, in order, exactly once (no event lost).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EintrStormTest {
    private static final long STORM_MILLIS = 3_000;
    private static final int PIPES = 8;
    private static final long TIMEOUT_MILLIS = 200;

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aSignalEveryMillisecondLosesNoEventAndBreaksNoDeadline(String backend) throws Exception {
        Signals.installWinchHandler();
        try (Fds fds = new Fds(); Selector sel = Selectors.open(backend)) {
            int[][] pipes = new int[PIPES][];
            for (int i = 0; i < PIPES; i++) {
                pipes[i] = fds.pipe();
                sel.register(pipes[i][0], READ, i);
            }
            AtomicBoolean stopSignals = new AtomicBoolean();
            AtomicBoolean stopSelecting = new AtomicBoolean();
            CountDownLatch signallerDone = new CountDownLatch(1);
            AtomicLong selectingThread = new AtomicLong();
            CountDownLatch selecting = new CountDownLatch(1);
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            int[] nextExpected = new int[PIPES];
            AtomicLong received = new AtomicLong();
            AtomicLong emptySelects = new AtomicLong();
            AtomicLong longestEmpty = new AtomicLong();

            Thread selector = new Thread(() -> {
                selectingThread.set(Signals.self());
                selecting.countDown();
                ByteBuffer buf = ByteBuffer.allocate(4096);
                try {
                    while (!stopSelecting.get()) {
                        long start = System.nanoTime();
                        List<Ready> got = sel.select(Duration.ofMillis(TIMEOUT_MILLIS));
                        long waited = (System.nanoTime() - start) / 1_000_000;
                        if (got.isEmpty() && !stopSelecting.get()) { // the last one is woken to stop
                            emptySelects.incrementAndGet();
                            longestEmpty.accumulateAndGet(waited, Math::max);
                            if (waited < TIMEOUT_MILLIS) {
                                failures.add(new AssertionError("an empty select returned after " + waited
                                        + " ms, before its " + TIMEOUT_MILLIS + " ms timeout"));
                            }
                        }
                        for (Ready r : got) {
                            int i = (Integer) r.attachment();
                            int n;
                            while ((n = Descriptors.read(r.fd(), buf.clear())) > 0) {
                                for (int k = 0; k < n; k++) {
                                    if ((buf.get(k) & 0xff) != (nextExpected[i] & 0xff)) {
                                        failures.add(new AssertionError("pipe " + i + ": byte " + nextExpected[i]
                                                + " was " + (buf.get(k) & 0xff)));
                                    }
                                    nextExpected[i]++;
                                }
                                received.addAndGet(n);
                            }
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                } finally {
                    // pthread_kill on the id of a thread that ended is undefined behaviour: stay alive
                    // until the signaller has stopped.
                    stopSignals.set(true);
                    awaitQuietly(signallerDone);
                }
            }, "eintr-storm-selector");
            selector.start();
            selecting.await();

            long sent = 0;
            int beforeHandled = Signals.handled();
            Thread signaller = new Thread(() -> {
                try {
                    long end = System.nanoTime() + STORM_MILLIS * 1_000_000;
                    while (!stopSignals.get() && System.nanoTime() < end) {
                        Signals.interrupt(selectingThread.get());
                        LockSupport.parkNanos(1_000_000);
                    }
                } catch (Throwable t) {
                    failures.add(t);
                } finally {
                    signallerDone.countDown();
                }
            }, "eintr-storm-signaller");
            signaller.start();

            // Writes: a burst, a quiet second (empty selects under the storm), another burst.
            SplittableRandom rnd = new SplittableRandom(42);
            int[] nextToSend = new int[PIPES];
            long stormEnd = System.nanoTime() + STORM_MILLIS * 1_000_000;
            long quietFrom = System.nanoTime() + 800_000_000L;
            long quietTo = quietFrom + 1_000_000_000L;
            while (System.nanoTime() < stormEnd - 200_000_000L) {
                long now = System.nanoTime();
                if (now < quietFrom || now > quietTo) {
                    int i = rnd.nextInt(PIPES);
                    int count = 1 + rnd.nextInt(20);
                    byte[] bytes = new byte[count];
                    for (int k = 0; k < count; k++) {
                        bytes[k] = (byte) nextToSend[i]++;
                    }
                    Fds.write(pipes[i][1], bytes);
                    sent += count;
                }
                Thread.sleep(2);
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (received.get() < sent && System.nanoTime() < deadline && failures.isEmpty()) {
                Thread.sleep(5);
            }
            signaller.join(10_000);
            stopSelecting.set(true);
            sel.wakeup();
            selector.join(10_000);
            assertThat(selector.isAlive()).as("the selecting thread ended").isFalse();
            int handled = Signals.handled() - beforeHandled;
            System.out.printf("EINTR storm on %s: %d signals handled in %d ms, %d bytes sent and received, "
                    + "%d empty selects, longest %d ms%n", backend, handled, STORM_MILLIS, sent, emptySelects.get(),
                    longestEmpty.get());

            assertThat(failures).as("%s: failures under the storm", backend).isEmpty();
            assertThat(received.get()).as("%s: bytes received of %d sent", backend, sent).isEqualTo(sent);
            assertThat(handled).as("%s: signals the handler saw (standard signals coalesce)", backend)
                    .isGreaterThan(200);
            assertThat(emptySelects.get()).as("%s: timed selects that had nothing, in the quiet second", backend)
                    .isGreaterThanOrEqualTo(2);
            assertThat(longestEmpty.get()).as("%s: no deadline overrun by seconds", backend)
                    .isLessThan(TIMEOUT_MILLIS + 2_000);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the signaller did not stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
