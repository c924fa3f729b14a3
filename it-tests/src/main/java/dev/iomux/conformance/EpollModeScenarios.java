package dev.iomux.conformance;

import static dev.iomux.Events.EDGE;
import static dev.iomux.Events.EXCLUSIVE;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

import dev.iomux.Capability;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Fds;

/**
 * Section 8 of the catalog: level- and edge-triggered reporting, ONESHOT and EXCLUSIVE (epoll(7),
 * epoll_ctl(2)). A backend that does not declare a mode is checked to refuse it.
 */
final class EpollModeScenarios {
    private EpollModeScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("EPOLL-LT", Uses.PIPE, EpollModeScenarios::levelTriggered);
        b.rule("EPOLL-ET", uses(Uses.PIPE, Uses.TCP4), EpollModeScenarios::edgeTriggered);
        b.rule("EPOLL-ET-DRAIN", Uses.TCP4, EpollModeScenarios::edgeTriggeredDrain);
        b.rule("EPOLL-ONESHOT", Uses.PIPE, EpollModeScenarios::oneShot);
        b.rule("EPOLL-ONESHOT-THREAD", uses(Uses.UNIX, Uses.THREADS), EpollModeScenarios::oneShotWorkers);
        b.rule("EPOLL-EXCLUSIVE", uses(Uses.PIPE, Uses.THREADS), EpollModeScenarios::exclusive);
    }

    static void levelTriggered(Run run) throws Exception {
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        Fds.write(p[1], 2048);
        sel.register(p[0], READ);
        run.ready(sel, p[0], READ, "2048 bytes");
        assertThat(Fds.read(p[0], 1024)).isEqualTo(1024);
        run.ready(sel, p[0], READ, "1024 read, 1024 left");
        run.ready(sel, p[0], READ, "and again");
        assertThat(Fds.drain(p[0])).isEqualTo(1024);
        run.notReady(sel, p[0], "drained");
    }

    static void edgeTriggered(Run run) throws Exception {
        if (!run.supports(Capability.EDGE)) {
            Modes.refuses(run, READ | EDGE, Capability.EDGE);
            return;
        }
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        sel.register(p[0], READ | EDGE);
        Fds.write(p[1], 2048);
        run.ready(sel, p[0], READ, "pipe, 2048 bytes");
        assertThat(Fds.read(p[0], 1024)).isEqualTo(1024);
        run.notReady(sel, p[0], "pipe, 1024 read, 1024 left");
        Fds.write(p[1], 1);
        run.ready(sel, p[0], READ, "pipe, a write into the non-empty pipe");
        run.notReady(sel, p[0], "pipe, no new write");

        int[] c = run.fds().connectedPair(StandardProtocolFamily.INET);
        sel.register(c[1], READ | EDGE);
        Kit.send(c[0], 100);
        run.ready(sel, c[1], READ, "tcp4, 100 bytes");
        assertThat(Fds.read(c[1], 50)).isEqualTo(50);
        run.notReady(sel, c[1], "tcp4, 50 read, 50 left");
        Kit.send(c[0], 10);
        run.ready(sel, c[1], READ, "tcp4, a new segment");
    }

    /** epoll(7): under ET, accept until EAGAIN or the queued connections stall. */
    static void edgeTriggeredDrain(Run run) throws Exception {
        if (!run.supports(Capability.EDGE)) {
            Modes.refuses(run, READ | EDGE, Capability.EDGE);
            return;
        }
        Selector sel = run.open();
        int listener = run.fds().listener(StandardProtocolFamily.INET, 16);
        SocketAddress address = Sockets.localAddress(listener);
        sel.register(listener, READ | EDGE);
        connectTwo(run, sel, address);
        run.ready(sel, listener, READ, "two queued: one event");
        run.notReady(sel, listener, "no new connection");
        assertThat(acceptUntilEagain(run, listener)).as("an accept loop until EAGAIN takes both").isEqualTo(2);

        connectTwo(run, sel, address);
        run.ready(sel, listener, READ, "two more queued");
        assertThat(run.fds().acceptWithin(listener, 5_000)).isNotNegative();
        run.notReady(sel, listener, "one accepted, one left: stalled");
        run.fds().track(Sockets.connect(address));
        run.ready(sel, listener, READ, "a third arrives: a new edge");
        long deadline = System.nanoTime() + 5_000_000_000L;
        int accepted = acceptUntilEagain(run, listener);
        while (accepted < 2 && System.nanoTime() < deadline) {
            Fds.sleep(5);
            accepted += acceptUntilEagain(run, listener);
        }
        assertThat(accepted).as("the stalled connection and the third").isEqualTo(2);
    }

    /** Connects two clients and waits until both handshakes are done, so both sit in the accept queue. */
    private static void connectTwo(Run run, Selector sel, SocketAddress address) throws Exception {
        try (Selector w = run.provider().open()) {
            for (int i = 0; i < 2; i++) {
                int fd = run.fds().track(Sockets.connect(address));
                w.register(fd, WRITE);
                dev.iomux.testing.Expect.ready(w, fd, WRITE);
            }
        }
    }

    private static int acceptUntilEagain(Run run, int listener) throws Exception {
        int n = 0;
        for (int fd; (fd = Sockets.accept(listener)) != Descriptors.WOULD_BLOCK; n++) {
            run.fds().track(fd);
        }
        return n;
    }

    static void oneShot(Run run) throws Exception {
        if (!run.supports(Capability.ONESHOT)) {
            Modes.refuses(run, READ | ONESHOT, Capability.ONESHOT);
            return;
        }
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        Fds.write(p[1], 10);
        sel.register(p[0], READ | ONESHOT, "once");
        run.ready(sel, p[0], READ, "armed, data");
        run.notReady(sel, p[0], "fired: disarmed");
        Fds.write(p[1], 10);
        run.notReady(sel, p[0], "new data while disarmed");
        run.fds().close(p[1]);
        run.notReady(sel, p[0], "hang-up while disarmed");
        sel.modify(p[0], READ | ONESHOT);
        int seen = run.ready(sel, p[0], READ, "re-armed with data present");
        run.flagsIfDeclared(seen, dev.iomux.Events.HANGUP, Capability.ERROR_HANGUP, "the hang-up kept while disarmed");
        run.without(seen, WRITE, "a re-armed READ key");
        run.notReady(sel, p[0], "fired again");
        assertThat(sel.key(p[0]).attachment()).isEqualTo("once");
    }

    /**
     * The two-threads problem of epoll(7)'s Q&A, which EPOLLONESHOT solves: the loop thread selects ONESHOT keys and hands each to a worker, which
     * reads what is there and re-arms the key while the loop is blocked. Each arming must bring exactly one
     * event, no socket may be handled by two workers at once, and no byte may be lost.
     */
    static void oneShotWorkers(Run run) throws Exception {
        if (!run.supports(Capability.ONESHOT)) {
            Modes.refuses(run, READ | ONESHOT, Capability.ONESHOT);
            return;
        }
        int pairs = 8;
        int messages = 200;
        Selector sel = run.open();
        int[][] socks = new int[pairs][];
        AtomicReferenceArray<Thread> handling = new AtomicReferenceArray<>(pairs);
        AtomicInteger[] armed = new AtomicInteger[pairs];
        AtomicLong received = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < pairs; i++) {
            socks[i] = run.fds().socketPair();
            armed[i] = new AtomicInteger(1);
            sel.register(socks[i][0], READ | ONESHOT, i);
        }
        ExecutorService workers = Executors.newFixedThreadPool(3);
        Thread writer = new Thread(() -> {
            try {
                for (int m = 0; m < messages; m++) {
                    Kit.send(socks[m % pairs][1], 7);
                    if (m % 16 == 0) {
                        Thread.sleep(1);
                    }
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }, "oneshot-writer");
        long total = 7L * messages;
        long deadline = System.nanoTime() + 30_000_000_000L;
        int events = 0;
        try {
            writer.start();
            while (received.get() < total && failure.get() == null && System.nanoTime() < deadline) {
                for (Ready r : sel.select(Duration.ofMillis(200))) {
                    int i = (Integer) r.attachment();
                    events++;
                    if (armed[i].decrementAndGet() != 0) {
                        failure.compareAndSet(null, new AssertionError("pair " + i + " reported twice for one arming"));
                    }
                    workers.execute(() -> handle(sel, socks[i][0], i, handling, armed[i], received, failure));
                }
            }
            writer.join(10_000);
        } finally {
            workers.shutdown();
            workers.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (failure.get() != null) {
            throw new AssertionError("a worker failed", failure.get());
        }
        assertThat(received.get()).as("bytes received through re-armed ONESHOT keys").isEqualTo(total);
        run.note(events + " events for " + messages + " writes on " + pairs + " pairs, 3 workers; "
                + received.get() + "/" + total + " bytes, never two workers on one socket");
    }

    private static void handle(Selector sel, int fd, int i, AtomicReferenceArray<Thread> handling,
            AtomicInteger armed, AtomicLong received, AtomicReference<Throwable> failure) {
        try {
            if (!handling.compareAndSet(i, null, Thread.currentThread())) {
                throw new AssertionError("pair " + i + " handled by two workers at once");
            }
            ByteBuffer buf = ByteBuffer.allocate(4096);
            for (int n; (n = Descriptors.read(fd, buf.clear())) > 0; ) {
                received.addAndGet(n);
            }
            handling.set(i, null);
            armed.incrementAndGet();
            sel.modify(fd, READ | ONESHOT, i); // re-arm while the loop thread is blocked in select
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    static void exclusive(Run run) throws Exception {
        if (!run.supports(Capability.EXCLUSIVE)) {
            Modes.refuses(run, READ | EXCLUSIVE, Capability.EXCLUSIVE);
            return;
        }
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        for (int bad : new int[] {READ | EXCLUSIVE | ONESHOT, READ | EXCLUSIVE | PRIORITY}) {
            Throwable t = catchThrowable(() -> sel.register(p[0], bad));
            assertThat(t).as("register with EXCLUSIVE and %s", dev.iomux.Events.toString(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("EXCLUSIVE");
            assertThat(sel.key(p[0])).isNull();
        }
        sel.register(p[0], READ | EXCLUSIVE);
        Throwable t = catchThrowable(() -> sel.modify(p[0], READ | WRITE));
        assertThat(t).as("modify of an EXCLUSIVE key").isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("EXCLUSIVE");
        run.note("EXCLUSIVE|ONESHOT, EXCLUSIVE|PRIORITY and modify refused");
        sel.unregister(p[0]);
        // A thread the scheduler has not yet put into its wait when the byte comes sees it on entry,
        // whatever EXCLUSIVE says: a starved attempt may count 4 of 4. Three attempts, one below 4 is enough.
        int woken = 4;
        for (int attempt = 1; attempt <= 3 && woken == 4; attempt++) {
            woken = wokenOutOf(run, 4, READ | EXCLUSIVE, p);
            run.note("attempt " + attempt + ": 1 byte woke " + woken + " of 4 blocked selectors");
        }
        assertThat(woken).as("selectors woken by one byte with EXCLUSIVE").isBetween(1, 3);
        assertThat(wokenOutOf(run, 4, READ, p)).as("selectors woken by one byte without EXCLUSIVE").isEqualTo(4);
        run.note("without EXCLUSIVE: 4 of 4");
    }

    /** {@code n} selectors blocked on one pipe: how many return the key within 1 s of one byte. */
    private static int wokenOutOf(Run run, int n, int events, int[] p) throws Exception {
        List<Selector> selectors = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Selector s = run.open();
            s.register(p[0], events);
            selectors.add(s);
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch started = new CountDownLatch(n);
            List<Future<List<Ready>>> selects = new ArrayList<>();
            for (Selector s : selectors) {
                selects.add(pool.submit(() -> {
                    started.countDown();
                    return s.select(Duration.ofSeconds(3));
                }));
            }
            assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
            Fds.sleep(500); // let every thread get into its wait
            Fds.write(p[1], 1);
            long deadline = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < deadline && !selects.stream().allMatch(Future::isDone)) {
                Fds.sleep(10);
            }
            int woken = 0;
            for (Future<List<Ready>> f : selects) {
                if (f.isDone() && !f.get().isEmpty()) {
                    woken++;
                }
            }
            for (Selector s : selectors) {
                s.wakeup();
            }
            for (Future<List<Ready>> f : selects) {
                f.get(10, TimeUnit.SECONDS);
            }
            Fds.drain(p[0]);
            return woken;
        } finally {
            pool.shutdownNow();
            for (Selector s : selectors) {
                s.close();
            }
        }
    }
}
