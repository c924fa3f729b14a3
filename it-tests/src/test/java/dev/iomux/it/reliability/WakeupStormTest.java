package dev.iomux.it.reliability;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Wake-up storms: {@link #WAKERS} threads call wakeup() as fast as they can while one
 * thread selects without a timeout and a writer sends numbered bytes. Every byte arrives, in order; the
 * wake-ups coalesce (once the storm stops, at most one select returns early and the next waits its full
 * timeout); the selector is then closed while the storm blows again, and wakeup after close is harmless.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WakeupStormTest {
    private static final int WAKERS = 8;
    private static final long STORM_MILLIS = 1_000;

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void manyThreadsWakingLoseNoEventAndCoalesce(String backend) throws Exception {
        try (Fds fds = new Fds(); Selector sel = Selectors.open(backend)) {
            int[] pipe = fds.pipe();
            sel.register(pipe[0], READ);
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicBoolean storm = new AtomicBoolean(true);
            AtomicLong wakeups = new AtomicLong();
            List<Thread> wakers = startWakers(sel, storm, wakeups, failures);

            AtomicBoolean stopSelecting = new AtomicBoolean();
            AtomicLong received = new AtomicLong();
            AtomicLong selects = new AtomicLong();
            int[] next = new int[1];
            Thread loop = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocate(4096);
                try {
                    while (!stopSelecting.get()) {
                        selects.incrementAndGet();
                        for (Ready r : sel.select()) {
                            int n;
                            while ((n = Descriptors.read(r.fd(), buf.clear())) > 0) {
                                for (int k = 0; k < n; k++) {
                                    if ((buf.get(k) & 0xff) != (next[0]++ & 0xff)) {
                                        failures.add(new AssertionError("byte " + (next[0] - 1) + " out of order"));
                                    }
                                }
                                received.addAndGet(n);
                            }
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "wakeup-storm-loop");
            loop.start();

            long sent = 0;
            long end = System.nanoTime() + STORM_MILLIS * 1_000_000;
            while (System.nanoTime() < end) {
                Fds.write(pipe[1], new byte[] {(byte) sent++});
                Thread.sleep(1);
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (received.get() < sent && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            storm.set(false);
            for (Thread w : wakers) {
                w.join(10_000);
            }
            stopSelecting.set(true);
            sel.wakeup();
            loop.join(10_000);
            assertThat(loop.isAlive()).isFalse();
            System.out.printf("wakeup storm on %s: %d wakeup() calls from %d threads, %d selects, %d bytes%n",
                    backend, wakeups.get(), WAKERS, selects.get(), sent);
            assertThat(failures).as("%s: failures", backend).isEmpty();
            assertThat(received.get()).as("%s: bytes received of %d sent", backend, sent).isEqualTo(sent);
            assertThat(selects.get()).as("%s: wake-ups coalesce: far fewer selects than wakeup calls", backend)
                    .isLessThan(wakeups.get());

            // Coalesced: what is left of the storm is at most one pending wake-up.
            long start = System.nanoTime();
            assertThat(sel.select(Duration.ofMillis(200))).isEmpty();
            if (Expect.millisSince(start) < 200) {
                start = System.nanoTime();
                assertThat(sel.select(Duration.ofMillis(200))).isEmpty();
                assertThat(Expect.millisSince(start)).as("%s: a second pending wake-up", backend)
                        .isGreaterThanOrEqualTo(200);
            }

            // Close in the middle of another storm: the wakers see no exception.
            storm.set(true);
            List<Thread> closingStorm = startWakers(sel, storm, wakeups, failures);
            Thread.sleep(100);
            sel.close();
            Thread.sleep(100);
            storm.set(false);
            for (Thread w : closingStorm) {
                w.join(10_000);
            }
            assertThat(failures).as("%s: wakeup() racing close", backend).isEmpty();
        }
    }

    private static List<Thread> startWakers(Selector sel, AtomicBoolean storm, AtomicLong wakeups,
                                            Queue<Throwable> failures) throws InterruptedException {
        List<Thread> wakers = new ArrayList<>();
        CountDownLatch started = new CountDownLatch(WAKERS);
        for (int i = 0; i < WAKERS; i++) {
            Thread t = new Thread(() -> {
                started.countDown();
                try {
                    long n = 0;
                    while (storm.get()) {
                        sel.wakeup();
                        n++;
                    }
                    wakeups.addAndGet(n);
                } catch (Throwable t2) {
                    failures.add(t2);
                }
            }, "waker-" + i);
            t.start();
            wakers.add(t);
        }
        started.await();
        return wakers;
    }
}
