package dev.iomux.it.reliability;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A worker pool on ONESHOT keys under load (rule EPOLL-ONESHOT-THREAD): one thread
 * selects and hands each ready connection to a pool of {@link #WORKERS}; a worker reads what is there
 * and re-arms the key with modify, from its own thread, while the selecting thread is blocked. Writers
 * send {@link #BYTES_PER_CONNECTION} numbered bytes down each of {@link #CONNECTIONS} loopback TCP
 * connections in chunks of random size. Checked: no connection is ever handled by two workers at once,
 * every byte arrives once and in order (no event lost: a lost arming would strand data), in bounded time.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OneShotWorkerPoolTest {
    private static final int CONNECTIONS = 32;
    private static final int WORKERS = 4;
    private static final int WRITERS = 2;
    private static final int BYTES_PER_CONNECTION = 64 * 1024;

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void noConnectionIsHandledTwiceAtOnceAndNoByteIsLost(String backend) throws Exception {
        try (Fds fds = new Fds(); Selector sel = Selectors.open(backend)) {
            int[][] conns = new int[CONNECTIONS][];
            AtomicBoolean[] busy = new AtomicBoolean[CONNECTIONS];
            int[] nextExpected = new int[CONNECTIONS]; // touched only by the worker holding 'busy'
            for (int i = 0; i < CONNECTIONS; i++) {
                conns[i] = fds.connectedPair(StandardProtocolFamily.INET);
                busy[i] = new AtomicBoolean();
                sel.register(conns[i][1], READ | ONESHOT, i);
            }
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicLong received = new AtomicLong();
            AtomicLong deliveries = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
            ExecutorService writers = Executors.newFixedThreadPool(WRITERS);
            try {
                ReadyHandler dispatch = (key, events) -> {
                    int i = (Integer) key.attachment();
                    deliveries.incrementAndGet();
                    workers.execute(() -> handle(sel, i, conns[i][1], busy[i], nextExpected, overlaps, received,
                            failures));
                };
                Thread loop = new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            sel.select(dispatch);
                        }
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }, "oneshot-pool-loop");
                loop.start();

                for (int w = 0; w < WRITERS; w++) {
                    int first = w;
                    writers.execute(() -> write(conns, first, failures));
                }
                long total = (long) CONNECTIONS * BYTES_PER_CONNECTION;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (received.get() < total && failures.isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                stop.set(true);
                sel.wakeup();
                loop.join(10_000);
                writers.shutdown();
                workers.shutdown();
                assertThat(writers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
                assertThat(workers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
                System.out.printf("ONESHOT worker pool on %s: %d connections, %d bytes, %d deliveries, %d workers%n",
                        backend, CONNECTIONS, received.get(), deliveries.get(), WORKERS);
                assertThat(failures).as("%s: failures", backend).isEmpty();
                assertThat(overlaps).as("%s: a connection handled by two workers at once", backend).hasValue(0);
                assertThat(received.get()).as("%s: bytes received within 60 s", backend).isEqualTo(total);
                for (int i = 0; i < CONNECTIONS; i++) {
                    assertThat(nextExpected[i]).as("%s: connection %d", backend, i).isEqualTo(BYTES_PER_CONNECTION);
                }
            } finally {
                stop.set(true);
                sel.wakeup();
                writers.shutdownNow();
                workers.shutdownNow();
                workers.awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    /** A worker's turn on one connection: read all there is, check the numbering, re-arm. */
    private static void handle(Selector sel, int i, int fd, AtomicBoolean busy, int[] nextExpected,
                               AtomicInteger overlaps, AtomicLong received, Queue<Throwable> failures) {
        if (!busy.compareAndSet(false, true)) {
            overlaps.incrementAndGet();
            return;
        }
        try {
            ByteBuffer buf = ByteBuffer.allocate(8192);
            int n;
            while ((n = Descriptors.read(fd, buf.clear())) > 0) {
                for (int k = 0; k < n; k++) {
                    int want = nextExpected[i]++ & 0xff;
                    if ((buf.get(k) & 0xff) != want) {
                        throw new AssertionError("connection " + i + ": byte " + (nextExpected[i] - 1) + " was "
                                + (buf.get(k) & 0xff) + ", expected " + want);
                    }
                }
                received.addAndGet(n);
            }
            if (n == 0) {
                throw new AssertionError("connection " + i + ": end of stream before all bytes");
            }
        } catch (Throwable t) {
            failures.add(t);
        } finally {
            busy.set(false); // before the re-arm: the next delivery may reach another worker at once
        }
        try {
            sel.modify(fd, READ | ONESHOT);
        } catch (Throwable t) {
            failures.add(t);
        }
    }

    /** A writer: every WRITERS-th connection, chunks of 1..4096 numbered bytes, round robin. */
    private static void write(int[][] conns, int first, Queue<Throwable> failures) {
        SplittableRandom rnd = new SplittableRandom(first);
        int[] sent = new int[CONNECTIONS];
        byte[] chunk = new byte[4096];
        try {
            boolean more = true;
            while (more && failures.isEmpty()) {
                more = false;
                for (int i = first; i < CONNECTIONS; i += WRITERS) {
                    int left = BYTES_PER_CONNECTION - sent[i];
                    if (left == 0) {
                        continue;
                    }
                    more = true;
                    int len = Math.min(left, 1 + rnd.nextInt(chunk.length));
                    for (int k = 0; k < len; k++) {
                        chunk[k] = (byte) (sent[i] + k);
                    }
                    int n = Descriptors.write(conns[i][0], chunk, 0, len);
                    if (n > 0) {
                        sent[i] += n;
                    }
                }
                Thread.yield();
            }
        } catch (Throwable t) {
            failures.add(t);
        }
    }
}
