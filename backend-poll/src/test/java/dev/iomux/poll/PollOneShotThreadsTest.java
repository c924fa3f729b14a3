package dev.iomux.poll;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.poll.PollTesting.open;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import dev.iomux.Events;
import dev.iomux.ReadyHandler;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rule EPOLL-ONESHOT-THREAD on poll, where ONESHOT is emulated (a fired key's entry gets a negative fd
 * until modify re-arms it): a loop thread selects and hands each ready key to a worker pool; workers
 * re-arm with modify while the loop is blocked in select (API-THREADS: the modify wakes it). Every
 * arming is delivered exactly once and no two workers ever handle one descriptor at a time.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PollOneShotThreadsTest {
    private static final int PAIRS = 8;
    private static final int WORKERS = 4;
    private static final int BYTES = 200;
    private static final long DEADLINE_SECONDS = 30;

    @Test
    void aWorkerPoolHandlesEveryArmingExactlyOnce() throws Exception {
        long seed = Long.getLong("iomux.poll.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[][] pairs = new int[PAIRS][];
            AtomicInteger[] handling = new AtomicInteger[PAIRS];
            AtomicBoolean[] armed = new AtomicBoolean[PAIRS];
            AtomicIntegerArray timesRead = new AtomicIntegerArray(BYTES);
            AtomicInteger received = new AtomicInteger();
            AtomicInteger mostConcurrent = new AtomicInteger();
            AtomicInteger deliveriesWithoutArming = new AtomicInteger();
            AtomicInteger emptyReads = new AtomicInteger();
            AtomicInteger deliveries = new AtomicInteger();
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();

            for (int i = 0; i < PAIRS; i++) {
                pairs[i] = fds.socketPair();
                handling[i] = new AtomicInteger();
                armed[i] = new AtomicBoolean(true);
                sel.register(pairs[i][0], READ | ONESHOT, i);
            }
            ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
            try {
                ReadyHandler handler = (key, events) -> {
                    int i = (Integer) key.attachment();
                    deliveries.incrementAndGet();
                    if (!armed[i].compareAndSet(true, false)) {
                        deliveriesWithoutArming.incrementAndGet(); // a second delivery of one arming
                    }
                    workers.execute(() -> {
                        int fd = pairs[i][0];
                        int now = handling[i].incrementAndGet();
                        mostConcurrent.accumulateAndGet(now, Math::max);
                        try {
                            ByteBuffer one = ByteBuffer.allocate(1);
                            int n = Descriptors.read(fd, one);
                            if (n == 1) {
                                timesRead.incrementAndGet(one.get(0) & 0xff);
                                received.incrementAndGet();
                            } else {
                                emptyReads.incrementAndGet();
                            }
                            Thread.yield(); // widen the window in which a double delivery would overlap
                        } catch (Throwable t) {
                            failures.add(t);
                        } finally {
                            handling[i].decrementAndGet();
                        }
                        armed[i].set(true);
                        try {
                            sel.modify(fd, READ | ONESHOT); // re-arm from the worker thread
                        } catch (Throwable t) {
                            failures.add(t);
                        }
                    });
                };
                Thread loop = new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            sel.select(handler);
                        }
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }, "poll-oneshot-loop");
                loop.start();

                // The writer: 200 single bytes, each naming itself, spread at random over the pairs.
                for (int b = 0; b < BYTES; b++) {
                    Fds.write(pairs[rnd.nextInt(PAIRS)][1], new byte[] {(byte) b});
                    if (rnd.nextInt(8) == 0) {
                        Thread.sleep(1);
                    }
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
                while (received.get() < BYTES && failures.isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }

                stop.set(true);
                sel.wakeup();
                loop.join(10_000);
                assertThat(loop.isAlive()).as("the loop thread stops after wakeup").isFalse();
                workers.shutdown();
                assertThat(workers.awaitTermination(10, TimeUnit.SECONDS)).as("workers finish").isTrue();

                String where = "seed " + seed + " (-Diomux.poll.seed=" + seed + "), " + deliveries.get()
                        + " deliveries";
                assertThat(failures).as(where).isEmpty();
                assertThat(received.get()).as("bytes read within %d s; %s", DEADLINE_SECONDS, where)
                        .isEqualTo(BYTES);
                List<Integer> notOnce = new ArrayList<>();
                for (int b = 0; b < BYTES; b++) {
                    if (timesRead.get(b) != 1) {
                        notOnce.add(b);
                    }
                }
                assertThat(notOnce).as("bytes not read exactly once; %s", where).isEmpty();
                assertThat(mostConcurrent.get()).as("workers handling one fd at a time; %s", where).isEqualTo(1);
                assertThat(deliveriesWithoutArming.get()).as("deliveries of an already delivered arming; %s", where)
                        .isZero();
                assertThat(emptyReads.get()).as("deliveries with nothing to read; %s", where).isZero();
                assertThat(deliveries.get()).as("one delivery per byte; %s", where).isEqualTo(BYTES);
                // Everything read and every key re-armed: nothing is ready now.
                assertThat(sel.selectNow()).as(where).isEmpty();
                assertThat(sel.keys()).hasSize(PAIRS);
            } finally {
                stop.set(true);
                sel.wakeup();
                workers.shutdownNow();
                workers.awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * A report fetched by poll(2) for a key's old interest, gathered after another thread re-registered
     * the key as READ|ONESHOT, must not use up the new arming: the key never fired for READ.
     *
     * <p>The loop thread selects on a socket registered WRITE (always writable, so every poll returns at
     * once); the test thread switches it to READ|ONESHOT and writes one byte, which must then be reported.
     * When the switch lands between poll(2) returning POLLOUT and the backend gathering it,
     * AbstractSelector.collect sees no READ in the report (directions == 0) and disarms the ONESHOT key
     * anyway ({@code if (oneShot || ...) disarm(key, true)}), so the byte is never reported.
     */
    @Test
    void aStaleReportForTheOldInterestDoesNotUseUpANewOneShotArming() throws Exception {
        int iterations = 3000;
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] sp = fds.socketPair();
            Semaphore readReported = new Semaphore(0);
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            sel.register(sp[0], WRITE);
            ReadyHandler handler = (key, events) -> {
                if ((events & READ) != 0) {
                    readReported.release();
                }
            };
            Thread loop = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        sel.select(50, TimeUnit.MILLISECONDS, handler);
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "poll-stale-report-loop");
            loop.start();
            SplittableRandom rnd = new SplittableRandom(42);
            int lost = -1;
            boolean reportedAfterRearm = false;
            try {
                for (int i = 0; i < iterations && lost < 0; i++) {
                    sel.modify(sp[0], WRITE); // the loop now spins on WRITE reports
                    long until = System.nanoTime() + rnd.nextInt(200_000);
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    sel.modify(sp[0], READ | ONESHOT);
                    Fds.write(sp[1], 1);
                    if (!readReported.tryAcquire(2, TimeUnit.SECONDS)) {
                        lost = i;
                        // The byte is still queued: a re-arm reports it, so the key had been disarmed.
                        sel.modify(sp[0], READ | ONESHOT);
                        reportedAfterRearm = readReported.tryAcquire(5, TimeUnit.SECONDS);
                    } else {
                        assertThat(Fds.read(sp[0], 10)).isEqualTo(1);
                    }
                }
            } finally {
                stop.set(true);
                sel.wakeup();
                loop.join(10_000);
            }
            assertThat(failures).isEmpty();
            assertThat(lost).as("iteration whose READ|ONESHOT arming was used up by a stale WRITE report "
                    + "(key now %s; the queued byte reported after a re-arm: %s)", sel.key(sp[0]), reportedAfterRearm)
                    .isEqualTo(-1);
        }
    }

    @Test
    void aReArmFromAWorkerWakesABlockedSelectAndIsReportedOnce() throws Exception {
        // EPOLL-ONESHOT-THREAD in slow motion: the loop is blocked in select (no timeout) when the worker
        // re-arms; the re-arm wakes it, the data already queued is reported once, and then nothing.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] sp = fds.socketPair();
            Fds.write(sp[1], 2);
            sel.register(sp[0], READ | ONESHOT, "k");
            assertThat(sel.selectNow()).hasSize(1);
            AtomicInteger reports = new AtomicInteger();
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread loop = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        sel.select((key, events) -> {
                            assertThat(Events.toString(events)).isEqualTo("READ");
                            reports.incrementAndGet();
                        });
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "poll-rearm-loop");
            loop.start();
            try {
                Thread.sleep(200);
                assertThat(reports).as("disarmed: nothing while the loop is blocked").hasValue(0);
                for (int round = 1; round <= 3; round++) {
                    sel.modify(sp[0], READ | ONESHOT);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (reports.get() < round && System.nanoTime() < deadline) {
                        Thread.sleep(5);
                    }
                    Thread.sleep(100);
                    assertThat(reports).as("round %d: once per arming", round).hasValue(round);
                }
            } finally {
                stop.set(true);
                sel.wakeup();
                loop.join(10_000);
            }
            assertThat(loop.isAlive()).isFalse();
            assertThat(failures).isEmpty();
        }
    }
}
