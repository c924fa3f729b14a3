package dev.iomux.it.reliability;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Async;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Peers that misbehave. Each fault happens to one connection while a healthy one is
 * registered beside it; the selector reports the fault (never hangs on it, never spins on it), the call
 * that meets it fails with the errno the kernel gives, and the healthy connection keeps being served.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PeerFaultsTest {
    /** TCP_SYNCNT (tcp(7)): how many SYNs a connect sends before it gives up with ETIMEDOUT. */
    private static final int TCP_SYNCNT = 7;

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aPeerThatResetsMidStreamFailsTheReadAndTheWriteWithEconnreset(String backend) throws Exception {
        try (Fds fds = new Fds(); Selector sel = Selectors.open(backend)) {
            int[] healthy = fds.connectedPair(StandardProtocolFamily.INET);
            int[] faulty = fds.connectedPair(StandardProtocolFamily.INET);
            int server = faulty[1];
            sel.register(healthy[1], READ, "healthy");
            sel.register(server, READ | WRITE, "faulty");
            // Mid-stream: the server has sent more than the peer read, the peer has sent data the server has
            // not read yet, and then the peer resets (SO_LINGER {1, 0} and close).
            long sent = Fds.fill(server);
            assertThat(sent).isPositive();
            Fds.write(faulty[0], 1000);
            assertThat(Fds.read(faulty[0], 500)).isEqualTo(500);
            Sockets.setLinger(faulty[0], true, 0);
            fds.close(faulty[0]);

            int events = awaitFlags(sel, server, READ | WRITE, ERROR | HANGUP);
            if (sel.capabilities().supports(Capability.ERROR_HANGUP)) {
                assertThat(events & (ERROR | HANGUP)).as(Events.toString(events)).isEqualTo(ERROR | HANGUP);
            }
            NativeIOException readFailure = failure(() -> Fds.drain(server));
            assertThat(readFailure.errnoName()).as("the read after a reset").isEqualTo("ECONNRESET");
            NativeIOException writeFailure = failure(() -> Fds.write(server, 10));
            assertThat(writeFailure.errnoName()).as("a write after the reset was read").isEqualTo("EPIPE");
            sel.unregister(server);
            fds.close(server);

            assertHealthyServed(sel, healthy);
            Expect.idles(sel, 200, 150);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void writingToAGonePeerIsReportedAndFailsWithEpipeWithoutKillingTheJvm(String backend) throws Exception {
        try (Fds fds = new Fds(); Selector sel = Selectors.open(backend)) {
            int[] healthy = fds.connectedPair(StandardProtocolFamily.INET);
            sel.register(healthy[1], READ, "healthy");
            int[] pipe = fds.pipe();
            int[] unix = fds.socketPair();
            int[] tcp = fds.connectedPair(StandardProtocolFamily.INET);
            sel.register(pipe[1], WRITE, "pipe");
            sel.register(unix[0], WRITE, "unix");
            sel.register(tcp[1], WRITE, "tcp");
            fds.close(pipe[0]);
            fds.close(unix[1]);
            fds.close(tcp[0]);
            // TCP: the first write after the peer's close is accepted and answered with a reset (tcp(7));
            // a later one fails. SIGPIPE is ignored by the JVM: the failures are errnos, not a dead process.
            Fds.write(tcp[1], 1);
            for (int fd : new int[] {pipe[1], unix[0], tcp[1]}) {
                int events = awaitFlags(sel, fd, WRITE, ERROR | HANGUP);
                if (sel.capabilities().supports(Capability.ERROR_HANGUP)) {
                    assertThat(events & (ERROR | HANGUP)).as("fd %d: %s", fd, Events.toString(events)).isNotZero();
                }
            }
            assertThat(failure(() -> Fds.write(pipe[1], 10)).errnoName()).isEqualTo("EPIPE");
            assertThat(failure(() -> Fds.write(unix[0], 10)).errnoName()).isEqualTo("EPIPE");
            String tcpErrno = failure(() -> Fds.write(tcp[1], 10)).errnoName();
            assertThat(tcpErrno).as("the reset shows first, then EPIPE").isIn("ECONNRESET", "EPIPE");
            for (int fd : new int[] {pipe[1], unix[0], tcp[1]}) {
                sel.unregister(fd);
            }
            assertHealthyServed(sel, healthy);
            Expect.idles(sel, 200, 150);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aHalfClosedPeerStillGetsItsAnswer(String backend) throws Exception {
        try (Fds fds = new Fds(); Selector sel = Selectors.open(backend)) {
            int[] pair = fds.connectedPair(StandardProtocolFamily.INET);
            int client = pair[0];
            int server = pair[1];
            sel.register(server, READ);
            Fds.write(client, "question".getBytes());
            Sockets.shutdownOutput(client);

            // The request, then end of stream: READ, with READ_HANGUP where the backend reports it.
            ByteBuffer request = ByteBuffer.allocate(64);
            int events = 0;
            long deadline = System.nanoTime() + Expect.PATIENCE.toNanos();
            while (System.nanoTime() < deadline) {
                events = Expect.ready(sel, server, READ);
                if (Descriptors.read(server, request) == 0) {
                    break;
                }
            }
            assertThat(new String(request.array(), 0, request.position())).isEqualTo("question");
            if (sel.capabilities().supports(Capability.READ_HANGUP)) {
                assertThat(events & (READ_HANGUP | HANGUP)).as(Events.toString(events)).isEqualTo(READ_HANGUP);
            }
            // Only the reading side is over: the answer goes out, and the client reads it, then the end.
            sel.modify(server, WRITE);
            Expect.ready(sel, server, WRITE);
            Fds.write(server, "answer".getBytes());
            sel.unregister(server);
            fds.close(server);
            ByteBuffer answer = ByteBuffer.allocate(64);
            try (Selector clientSide = Selectors.open(backend)) {
                clientSide.register(client, READ);
                while (System.nanoTime() < deadline + Expect.PATIENCE.toNanos()) {
                    Expect.ready(clientSide, client, READ);
                    if (Descriptors.read(client, answer) == 0) {
                        break;
                    }
                }
                clientSide.unregister(client);
            }
            assertThat(new String(answer.array(), 0, answer.position())).isEqualTo("answer");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aRefusedConnectIsReportedWritableWithEconnrefused(String backend) throws Exception {
        try (Fds fds = new Fds(); Selector sel = Selectors.open(backend)) {
            int listener = fds.listener(StandardProtocolFamily.INET, 1);
            SocketAddress closedPort = Sockets.localAddress(listener);
            fds.close(listener);
            List<Integer> refused = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                int fd = fds.track(Sockets.open(StandardProtocolFamily.INET));
                try {
                    if (Sockets.connect(fd, closedPort)) {
                        throw new AssertionError("connected to " + closedPort + ", where nobody listens");
                    }
                } catch (NativeIOException refusedAtOnce) {
                    assertThat(refusedAtOnce.errnoName()).isEqualTo("ECONNREFUSED");
                    fds.close(fd);
                    continue;
                }
                sel.register(fd, WRITE);
                refused.add(fd);
            }
            for (int fd : refused) {
                int events = awaitFlags(sel, fd, WRITE, ERROR);
                if (sel.capabilities().supports(Capability.ERROR_HANGUP)) {
                    assertThat(events & ERROR).as(Events.toString(events)).isEqualTo(ERROR);
                }
                assertThat(Sockets.pendingError(fd)).as("SO_ERROR of fd %d", fd).isEqualTo(Linux.ECONNREFUSED);
                sel.unregister(fd);
                fds.close(fd);
            }
            Expect.idles(sel, 200, 150);
        }
    }

    /**
     * A connect that never gets an answer: the listener's accept queue is full, so Linux drops the SYNs
     * (tcp_conn_request), and TCP_SYNCNT 1 makes the kernel give up after about 3 s (one retry after 1 s,
     * then 2 s more) instead of the default two minutes. The three backends watch one connect each, at
     * the same time. Until the kernel gives up, a select with a deadline returns empty at its deadline and
     * burns no CPU; then the connect is reported writable with SO_ERROR ETIMEDOUT.
     */
    @Test
    void aConnectThatTimesOutKeepsDeadlinesThenIsReportedWithEtimedout() throws Exception {
        try (Fds fds = new Fds()) {
            int listener = fds.listener(StandardProtocolFamily.INET, 0);
            SocketAddress address = Sockets.localAddress(listener);
            int filler = fds.track(Sockets.connect(address)); // fills the queue of one (backlog 0)
            Selector fillerSel = Selectors.open("epoll");
            fillerSel.register(filler, WRITE);
            Expect.ready(fillerSel, filler, WRITE);
            fillerSel.close();
            assertThat(Sockets.pendingError(filler)).isZero();

            List<CompletableFuture<String>> watched = new ArrayList<>();
            for (String backend : new String[] {"select", "poll", "epoll"}) {
                int fd = fds.track(Sockets.open(StandardProtocolFamily.INET));
                setInt(fd, Linux.IPPROTO_TCP, TCP_SYNCNT, 1);
                assertThat(Sockets.connect(fd, address)).isFalse();
                watched.add(Async.supply(() -> watchTimingOut(backend, fd)));
            }
            for (CompletableFuture<String> w : watched) {
                assertThat(w.get(30, TimeUnit.SECONDS)).isEqualTo("ETIMEDOUT");
            }
        }
    }

    private static String watchTimingOut(String backend, int fd) {
        try (Selector sel = Selectors.open(backend)) {
            sel.register(fd, WRITE);
            long start = System.nanoTime();
            Expect.idles(sel, 500, 250); // the application's own deadline, well before the kernel's
            long deadline = start + 20_000_000_000L;
            List<Ready> got = List.of();
            while (got.isEmpty() && System.nanoTime() < deadline) {
                got = sel.select(Duration.ofMillis(500));
            }
            long waited = Expect.millisSince(start);
            assertThat(got).as("%s: the connect was reported after %d ms", backend, waited).hasSize(1);
            assertThat(waited).as("%s: not before the kernel gave up", backend).isGreaterThanOrEqualTo(2_000);
            if (sel.capabilities().supports(Capability.ERROR_HANGUP)) {
                assertThat(got.get(0).events() & ERROR).as("%s", backend).isEqualTo(ERROR);
            }
            int errno = Sockets.pendingError(fd);
            sel.unregister(fd);
            return errno == Linux.ETIMEDOUT ? "ETIMEDOUT" : "errno " + errno;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Selects until {@code fd} is reported with all of {@code interest} and, on a backend that reports
     * flags, at least one of {@code flags}: the flag may come a moment after the direction (a reset on
     * its way back over loopback).
     */
    private static int awaitFlags(Selector sel, int fd, int interest, int flags) throws IOException {
        boolean withFlags = sel.capabilities().supports(Capability.ERROR_HANGUP);
        long deadline = System.nanoTime() + Expect.PATIENCE.toNanos();
        int seen = 0;
        while (System.nanoTime() < deadline) {
            for (Ready r : sel.select(Duration.ofMillis(100))) {
                if (r.fd() == fd) {
                    seen = r.events();
                    if ((seen & interest) == interest && (!withFlags || (seen & flags) != 0)) {
                        return seen;
                    }
                }
            }
        }
        throw new AssertionError(sel.backend() + ": fd " + fd + " not reported with " + Events.toString(interest)
                + (withFlags ? " and any of " + Events.toString(flags) : "") + "; last seen " + Events.toString(seen));
    }

    /** The healthy connection of a test still echoes one message through the selector. */
    private static void assertHealthyServed(Selector sel, int[] healthy) throws IOException {
        Fds.write(healthy[0], "ping".getBytes());
        Expect.ready(sel, healthy[1], READ);
        ByteBuffer got = ByteBuffer.allocate(16);
        Descriptors.read(healthy[1], got);
        assertThat(new String(got.array(), 0, got.position())).isEqualTo("ping");
    }

    private interface Io {
        void run() throws IOException;
    }

    private static NativeIOException failure(Io io) throws IOException {
        try {
            io.run();
        } catch (NativeIOException e) {
            return e;
        }
        throw new AssertionError("the call did not fail");
    }

    private static void setInt(int fd, int level, int option, int value) throws NativeIOException {
        NativeBuffer buf = NativeBuffer.allocate(4);
        try {
            buf.putInt(0, value);
            Native.check(Native.C.setsockopt(fd, level, option, buf.address(), 4),
                    "setsockopt(fd=" + fd + ", " + level + ", " + option + ")");
        } finally {
            buf.free();
        }
    }
}
