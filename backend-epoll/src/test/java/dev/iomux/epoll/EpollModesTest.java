package dev.iomux.epoll;

import static dev.iomux.Events.EDGE;
import static dev.iomux.Events.EXCLUSIVE;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;
import dev.iomux.spi.Kernel;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The epoll modes: level- and edge-triggered, one-shot, exclusive (rules EPOLL-*; observed Rules 16-19). */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EpollModesTest {

    // --- EPOLL-LT, EPOLL-ET (Rule 16) ---------------------------------------------------------------

    @Test
    @DisplayName("EPOLL-LT: 2048 bytes written, 1024 read: READ is reported again, until drained")
    void levelTriggeredReportsWhatIsLeft() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ);
            Fds.write(p[1], 2048);
            assertThat(Expect.ready(sel, p[0], READ)).isNotZero();
            assertThat(Expect.ready(sel, p[0], READ)).as("nothing read yet").isNotZero();
            assertThat(Fds.read(p[0], 1024)).isEqualTo(1024);
            assertThat(Expect.ready(sel, p[0], READ)).as("1024 bytes left").isNotZero();
            assertThat(Expect.ready(sel, p[0], READ)).as("still 1024 bytes left").isNotZero();
            assertThat(Fds.drain(p[0])).isEqualTo(1024);
            Expect.notReady(sel, p[0]);
        }
    }

    @Test
    @DisplayName("EPOLL-ET: 2048 written, 1024 read: not reported; a 1-byte write into the non-empty pipe is")
    void edgeTriggeredReportsChangesOnAPipe() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ | EDGE);
            Expect.notReady(sel, p[0]);
            Fds.write(p[1], 2048);
            assertThat(Expect.ready(sel, p[0], READ)).isNotZero();
            Expect.notReady(sel, p[0]); // nothing read, but no new edge
            assertThat(Fds.read(p[0], 1024)).isEqualTo(1024);
            Expect.notReady(sel, p[0]); // 1024 bytes left, still no new edge
            Fds.write(p[1], 1);
            assertThat(Sockets.available(p[0])).as("the pipe was not empty").isEqualTo(1025);
            assertThat(Expect.ready(sel, p[0], READ)).as("new write into a non-empty pipe").isNotZero();
            Expect.notReady(sel, p[0]);
            assertThat(Fds.drain(p[0])).isEqualTo(1025);
            Expect.notReady(sel, p[0]);
        }
    }

    @Test
    @DisplayName("EPOLL-LT vs EPOLL-ET: the same pipe in two selectors, step by step (Rule 16 table)")
    void levelAndEdgeSideBySide() throws IOException {
        try (Fds fds = new Fds(); EpollSelector lt = EpollTesting.open(); EpollSelector et = EpollTesting.open()) {
            int[] p = fds.pipe();
            lt.register(p[0], READ);
            et.register(p[0], READ | EDGE);
            Fds.write(p[1], 2048);
            assertThat(fdsOf(lt.select(Expect.PATIENCE))).containsExactly(p[0]);
            assertThat(fdsOf(et.select(Expect.PATIENCE))).containsExactly(p[0]);
            assertThat(fdsOf(lt.selectNow())).containsExactly(p[0]);
            assertThat(et.selectNow()).isEmpty();
            Fds.read(p[0], 1024);
            assertThat(fdsOf(lt.selectNow())).containsExactly(p[0]);
            assertThat(et.selectNow()).isEmpty();
            Fds.write(p[1], 1);
            assertThat(fdsOf(lt.select(Expect.PATIENCE))).containsExactly(p[0]);
            assertThat(fdsOf(et.select(Expect.PATIENCE))).containsExactly(p[0]);
            Fds.drain(p[0]);
            assertThat(lt.selectNow()).isEmpty();
            assertThat(et.selectNow()).isEmpty();
        }
    }

    @Test
    @DisplayName("EPOLL-ET on TCP: 100 bytes, 50 read: not reported; a new segment is")
    void edgeTriggeredReportsANewTcpSegment() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] pair = fds.connectedPair(StandardProtocolFamily.INET);
            int client = pair[0];
            int server = pair[1];
            sel.register(server, READ | EDGE);
            Expect.notReady(sel, server);
            Fds.write(client, 100);
            assertThat(Expect.ready(sel, server, READ)).isNotZero();
            assertThat(Sockets.available(server)).as("the whole segment arrived").isEqualTo(100);
            Expect.notReady(sel, server);
            assertThat(Fds.read(server, 50)).isEqualTo(50);
            Expect.notReady(sel, server);
            Fds.write(client, 10);
            assertThat(Expect.ready(sel, server, READ)).as("a new segment").isNotZero();
            Expect.notReady(sel, server);
            assertThat(Fds.drain(server)).isEqualTo(60);
        }
    }

    // --- EPOLL-ET-DRAIN (Rule 19) -------------------------------------------------------------------

    @Test
    @DisplayName("EPOLL-ET-DRAIN: an edge-triggered listener must be accepted from until EAGAIN, or it stalls")
    void edgeTriggeredListenerStallsUnlessDrained() throws Exception {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int listener = fds.listener(StandardProtocolFamily.INET, 16);
            SocketAddress address = Sockets.localAddress(listener);
            sel.register(listener, READ | EDGE, "listener");
            Expect.notReady(sel, listener);

            // Two connections complete before the select: one event.
            EpollTesting.awaitConnected(connect(fds, address), connect(fds, address));
            List<Ready> got = sel.select(Expect.PATIENCE);
            assertThat(fdsOf(got)).containsExactly(listener);
            Expect.notReady(sel, listener);

            // The accept loop until WOULD_BLOCK takes both.
            assertThat(acceptAll(fds, listener)).isEqualTo(2);

            // Two more, only one accepted: the next select reports nothing although one is queued.
            EpollTesting.awaitConnected(connect(fds, address), connect(fds, address));
            assertThat(fdsOf(sel.select(Expect.PATIENCE))).containsExactly(listener);
            assertThat(fds.acceptWithin(listener, 5_000)).isNotNegative();
            Expect.notReady(sel, listener);

            // A fifth connection is a new edge: reported again, and both queued ones can be accepted.
            connect(fds, address);
            assertThat(Expect.ready(sel, listener, READ)).isNotZero();
            long deadline = System.nanoTime() + 5_000_000_000L;
            int accepted = acceptAll(fds, listener);
            while (accepted < 2 && System.nanoTime() < deadline) {
                Thread.sleep(5);
                accepted += acceptAll(fds, listener);
            }
            assertThat(accepted).as("the stalled connection and the fifth").isEqualTo(2);
        }
    }

    // --- EPOLL-ONESHOT (Rule 17) --------------------------------------------------------------------

    @Test
    @DisplayName("EPOLL-ONESHOT: a disarmed key does not report a hang-up until re-armed, then READ|HANGUP")
    void aDisarmedOneShotKeyHidesAHangUpUntilRearmed() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] p = fds.pipe();
            Fds.write(p[1], 3);
            sel.register(p[0], READ | ONESHOT, "once");
            assertThat(Expect.ready(sel, p[0], READ) & HANGUP).as("writer still open").isZero();
            fds.close(p[1]); // hang-up pending, key disarmed
            Expect.notReady(sel, p[0]);
            Expect.notReady(sel, p[0]);
            assertThat(EpollFdInfo.entry(sel, p[0])).as("the disarmed key stays in the kernel, disarmed by it")
                    .extracting(EpollFdInfo.Entry::events).isEqualTo(Kernel.EPOLLONESHOT);
            assertThat(sel.key(p[0]).isValid()).isTrue();

            sel.modify(p[0], READ | ONESHOT);
            int events = Expect.ready(sel, p[0], READ | HANGUP);
            assertThat(events & (READ | HANGUP)).as(Events.toString(events)).isEqualTo(READ | HANGUP);
            assertThat(events & Events.WRITE).as("masked to the interest").isZero();
            Expect.notReady(sel, p[0]); // disarmed again
            assertThat(sel.key(p[0]).attachment()).isEqualTo("once");
        }
    }

    // --- EPOLL-EXCLUSIVE (Rule 18) ------------------------------------------------------------------

    @Test
    @DisplayName("EPOLL-EXCLUSIVE: one byte wakes one or more, not all, of 4 selectors blocked on one pipe")
    void exclusiveWakesFewerThanAll() throws Exception {
        // A thread that the scheduler has not yet put into epoll_wait when the byte arrives sees the data
        // on entry, whatever EXCLUSIVE says; so a starved run may count 4. Without EXCLUSIVE working, every
        // attempt counts 4 (the next test); with it, one in three attempts below 4 is plenty.
        int woken = 4;
        for (int attempt = 1; attempt <= 3 && woken == 4; attempt++) {
            woken = wokenOutOfFour(READ | EXCLUSIVE);
            System.out.printf("epoll EXCLUSIVE, attempt %d: %d of 4 selectors woken by one byte%n", attempt, woken);
        }
        assertThat(woken).as("selectors that returned the key within 1 s").isBetween(1, 3);
    }

    @Test
    @DisplayName("EPOLL-EXCLUSIVE: without EXCLUSIVE one byte wakes all 4 selectors blocked on the pipe")
    void withoutExclusiveAllWake() throws Exception {
        assertThat(wokenOutOfFour(READ)).as("selectors that returned the key within 1 s").isEqualTo(4);
    }

    /**
     * Four selectors watch one pipe's read end with {@code events}, each with a thread blocked in
     * select(3 s); one byte is written; returns how many selects returned the key within 1 s.
     */
    private static int wokenOutOfFour(int events) throws Exception {
        int n = 4;
        List<EpollSelector> selectors = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            for (int i = 0; i < n; i++) {
                EpollSelector s = EpollTesting.open();
                selectors.add(s);
                s.register(p[0], events, i);
            }
            CountDownLatch started = new CountDownLatch(n);
            List<CompletableFuture<List<Ready>>> selects = new ArrayList<>();
            for (EpollSelector s : selectors) {
                selects.add(CompletableFuture.supplyAsync(() -> {
                    started.countDown();
                    try {
                        return s.select(Duration.ofSeconds(3));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }, pool));
            }
            assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(500); // let every thread get into epoll_wait
            assertThat(selects).as("nothing is ready yet").noneMatch(CompletableFuture::isDone);

            Fds.write(p[1], 1);
            // Give the woken ones a generous second to return.
            long deadline = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < deadline && !selects.stream().allMatch(CompletableFuture::isDone)) {
                Thread.sleep(10);
            }
            int woken = 0;
            for (CompletableFuture<List<Ready>> f : selects) {
                if (f.isDone() && !f.get().isEmpty()) {
                    assertThat(fdsOf(f.get())).containsExactly(p[0]);
                    woken++;
                }
            }
            // Release the rest.
            for (EpollSelector s : selectors) {
                s.wakeup();
            }
            for (CompletableFuture<List<Ready>> f : selects) {
                f.get(10, TimeUnit.SECONDS);
            }
            return woken;
        } finally {
            for (EpollSelector s : selectors) {
                s.close();
            }
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    // --- helpers ----------------------------------------------------------------------------------

    private static int connect(Fds fds, SocketAddress address) throws IOException {
        return fds.track(Sockets.connect(address));
    }

    /** Accepts until WOULD_BLOCK; returns how many were accepted (all tracked by fds). */
    private static int acceptAll(Fds fds, int listener) throws IOException {
        int count = 0;
        for (;;) {
            int fd = Sockets.accept(listener);
            if (fd == Descriptors.WOULD_BLOCK) {
                return count;
            }
            fds.track(fd);
            count++;
        }
    }

    private static List<Integer> fdsOf(List<Ready> got) {
        return got.stream().map(Ready::fd).toList();
    }
}
