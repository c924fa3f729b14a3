package dev.iomux.io;

import static dev.iomux.io.DescriptorsTest.closeOnExec;
import static dev.iomux.io.DescriptorsTest.nativeFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import dev.iomux.NativeIOException;
import dev.iomux.internal.Linux;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Sockets} against the real kernel, on loopback only: TCP over 127.0.0.1 and ::1, and Unix domain
 * stream sockets. The facts were checked with C programs on Linux 6.18.
 */
@ExtendWith(LeakCheck.class)
class SocketsTest {
    private static final long WAIT_NANOS = 10_000_000_000L;

    @TempDir
    Path tmp;

    // ---------------------------------------------------------------- listen, connect, accept

    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void listenConnectAcceptAndExchange(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            SocketAddress bindTo = fds.loopback(family);
            int listener = fds.track(Sockets.listen(bindTo, 8));
            SocketAddress bound = Sockets.localAddress(listener);
            if (family == StandardProtocolFamily.UNIX) {
                assertThat(bound).isEqualTo(bindTo);
                assertThat(Files.exists(((UnixDomainSocketAddress) bindTo).getPath())).as("socket file").isTrue();
                assertThat(Sockets.getOption(listener, SockOpt.SO_REUSEADDR)).isZero();
            } else {
                InetSocketAddress isa = (InetSocketAddress) bound;
                assertThat(isa.getAddress()).isEqualTo(((InetSocketAddress) bindTo).getAddress());
                assertThat(isa.getPort()).as("port 0 picks a free port").isBetween(1, 65535);
                assertThat(Sockets.getOption(listener, SockOpt.SO_REUSEADDR)).as("set by listen for TCP").isOne();
            }

            int client = fds.track(Sockets.open(family));
            assertThat(Descriptors.isNonBlocking(client)).isTrue();
            assertThat(closeOnExec(client)).isTrue();
            boolean connectedAtOnce = Sockets.connect(client, bound);
            if (family == StandardProtocolFamily.UNIX) {
                assertThat(connectedAtOnce).as("AF_UNIX connect to a listener completes at once (unix_stream_connect, net/unix/af_unix.c)")
                        .isTrue();
            } // TCP: EINPROGRESS on loopback here, but 0 is allowed by connect(2)

            int server = fds.acceptWithin(listener, 10_000);
            assertThat(Descriptors.isNonBlocking(server)).as("accept4 SOCK_NONBLOCK").isTrue();
            assertThat(closeOnExec(server)).as("accept4 SOCK_CLOEXEC").isTrue();
            awaitConnected(client);
            assertThat(Sockets.pendingError(client)).isZero();
            assertThat(Sockets.remoteAddress(client)).isEqualTo(bound);
            assertThat(Sockets.localAddress(server)).isEqualTo(bound);
            assertThat(Sockets.accept(listener)).as("only one was queued").isEqualTo(Descriptors.WOULD_BLOCK);

            assertThat(Sockets.send(client, ascii("ping"), 0)).isEqualTo(4);
            assertThat(receive(server, 4)).isEqualTo("ping");
            assertThat(Sockets.send(server, ascii("pong!"), 0)).isEqualTo(5);
            assertThat(receive(client, 5)).isEqualTo("pong!");
        }
    }

    @ParameterizedTest
    @EnumSource(value = StandardProtocolFamily.class, names = {"INET", "INET6"})
    void tcpAddressesOfAConnectedPair(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int[] pair = fds.connectedPair(family);
            InetSocketAddress clientLocal = (InetSocketAddress) Sockets.localAddress(pair[0]);
            InetSocketAddress clientRemote = (InetSocketAddress) Sockets.remoteAddress(pair[0]);
            InetSocketAddress serverLocal = (InetSocketAddress) Sockets.localAddress(pair[1]);
            InetSocketAddress serverRemote = (InetSocketAddress) Sockets.remoteAddress(pair[1]);

            InetAddress loopback = InetAddress.getByName(family == StandardProtocolFamily.INET ? "127.0.0.1" : "::1");
            for (InetSocketAddress a : new InetSocketAddress[] {clientLocal, clientRemote, serverLocal, serverRemote}) {
                assertThat(a.getAddress()).isEqualTo(loopback);
                assertThat(a.getPort()).isBetween(1, 65535);
            }
            assertThat(clientRemote).isEqualTo(serverLocal);
            assertThat(serverRemote).isEqualTo(clientLocal);
            assertThat(clientLocal.getPort()).as("the client has an ephemeral port of its own")
                    .isNotEqualTo(serverLocal.getPort());
        }
    }

    @Test
    void unixAddressesOfAConnectedPair() throws IOException {
        try (Fds fds = new Fds()) {
            SocketAddress path = fds.loopback(StandardProtocolFamily.UNIX);
            int listener = fds.track(Sockets.listen(path, 4));
            int client = fds.track(Sockets.connect(path));
            int server = fds.acceptWithin(listener, 10_000);
            UnixDomainSocketAddress unnamed = UnixDomainSocketAddress.of("");
            assertThat(Sockets.remoteAddress(client)).isEqualTo(path);
            assertThat(Sockets.localAddress(server)).isEqualTo(path);
            // The client never bound: unix(7) calls it unnamed, and its address has an empty path.
            assertThat(Sockets.localAddress(client)).isEqualTo(unnamed);
            assertThat(Sockets.remoteAddress(server)).isEqualTo(unnamed);
        }
    }

    /** socketpair(2): two unnamed, connected, non-blocking, close-on-exec sockets. */
    @Test
    void socketPairIsUnnamedAndConnected() throws IOException {
        try (Fds fds = new Fds()) {
            int[] s = fds.socketPair();
            UnixDomainSocketAddress unnamed = UnixDomainSocketAddress.of("");
            for (int fd : s) {
                assertThat(Sockets.localAddress(fd)).isEqualTo(unnamed);
                assertThat(Sockets.remoteAddress(fd)).isEqualTo(unnamed);
                assertThat(Descriptors.isNonBlocking(fd)).isTrue();
                assertThat(closeOnExec(fd)).isTrue();
            }
            assertThat(Sockets.send(s[0], ascii("hi"), 0)).isEqualTo(2);
            assertThat(receive(s[1], 2)).isEqualTo("hi");
        }
    }

    @Test
    void addressesOfAnUnconnectedSocket() throws IOException {
        try (Fds fds = new Fds()) {
            int fd = fds.track(Sockets.open(StandardProtocolFamily.INET));
            InetSocketAddress local = (InetSocketAddress) Sockets.localAddress(fd);
            assertThat(local.getAddress().isAnyLocalAddress()).isTrue();
            assertThat(local.getPort()).isZero();
            NativeIOException e = nativeFailure(() -> Sockets.remoteAddress(fd));
            assertThat(e.errno()).isEqualTo(Linux.ENOTCONN);
            assertThat(e.syscall()).isEqualTo("getpeername(fd=" + fd + ")");

            int[] p = fds.pipe();
            e = nativeFailure(() -> Sockets.localAddress(p[0]));
            assertThat(e.errnoName()).isEqualTo("ENOTSOCK");
        }
    }

    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void acceptOnAnEmptyListenerWouldBlock(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int listener = fds.listener(family, 8);
            assertThat(Sockets.accept(listener)).isEqualTo(Descriptors.WOULD_BLOCK);
            assertThat(Sockets.accept(listener)).isEqualTo(Descriptors.WOULD_BLOCK);
        }
    }

    @Test
    void acceptOnANonListeningSocketFailsEinval() throws IOException {
        try (Fds fds = new Fds()) {
            int fd = fds.track(Sockets.open(StandardProtocolFamily.INET));
            NativeIOException e = nativeFailure(() -> Sockets.accept(fd));
            assertThat(e.errno()).isEqualTo(Linux.EINVAL); // accept(2): socket is not listening
            assertThat(e.syscall()).isEqualTo("accept4(fd=" + fd + ")");
        }
    }

    /**
     * connect(2) to a loopback port nobody listens on: non-blocking TCP reports EINPROGRESS and the refusal
     * arrives as SO_ERROR = ECONNREFUSED, read once, then 0 (socket(7): reading SO_ERROR clears it). An
     * immediate ECONNREFUSED is allowed as well (none was seen on Linux 6.18).
     */
    @ParameterizedTest
    @EnumSource(value = StandardProtocolFamily.class, names = {"INET", "INET6"})
    void connectToAClosedPortIsRefused(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int listener = fds.listener(family, 1);
            SocketAddress closedPort = Sockets.localAddress(listener);
            fds.close(listener);

            int fd = fds.track(Sockets.open(family));
            boolean connected;
            try {
                connected = Sockets.connect(fd, closedPort);
            } catch (NativeIOException refusedAtOnce) {
                assertThat(refusedAtOnce.errno()).isEqualTo(Linux.ECONNREFUSED);
                assertThat(refusedAtOnce.getMessage()).startsWith("connect(fd=" + fd + ", ")
                        .contains("ECONNREFUSED (Connection refused)");
                assertThat(Sockets.pendingError(fd)).isZero();
                return;
            }
            assertThat(connected).as("nobody listens on %s", closedPort).isFalse();
            assertThat(awaitPendingError(fd)).isEqualTo(111);
            assertThat(Sockets.pendingError(fd)).as("SO_ERROR is cleared by reading it").isZero();
        }
    }

    /**
     * Sockets.connect(address) to a closed port returns the connecting socket, whose SO_ERROR then says
     * ECONNREFUSED, or throws after closing its socket (LeakCheck verifies that nothing is left open).
     */
    @ParameterizedTest
    @EnumSource(value = StandardProtocolFamily.class, names = {"INET", "INET6"})
    void connectByAddressToAClosedPortLeaksNothing(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int listener = fds.listener(family, 1);
            SocketAddress closedPort = Sockets.localAddress(listener);
            fds.close(listener);
            try {
                int fd = fds.track(Sockets.connect(closedPort));
                assertThat(awaitPendingError(fd)).isEqualTo(Linux.ECONNREFUSED);
            } catch (NativeIOException refusedAtOnce) {
                assertThat(refusedAtOnce.errno()).isEqualTo(Linux.ECONNREFUSED);
            }
        }
    }

    /** unix(7): connecting to a socket file nobody listens on fails ECONNREFUSED; to no file at all, ENOENT. */
    @Test
    void unixConnectToAStaleOrMissingPath() throws IOException {
        try (Fds fds = new Fds()) {
            SocketAddress path = fds.loopback(StandardProtocolFamily.UNIX);
            int listener = fds.track(Sockets.listen(path, 1));
            fds.close(listener); // the socket file stays behind

            NativeIOException e = nativeFailure(() -> Sockets.connect(path));
            assertThat(e.errno()).isEqualTo(Linux.ECONNREFUSED);
            assertThat(e.syscall()).startsWith("connect(fd=").endsWith(", " + path + ")");

            // bind(2) on an existing socket file fails EADDRINUSE; listen(address) closes its socket.
            e = nativeFailure(() -> Sockets.listen(path, 1));
            assertThat(e.errno()).isEqualTo(Linux.EADDRINUSE);
            assertThat(e.getMessage()).startsWith("bind(fd=").contains(path.toString());

            SocketAddress missing = UnixDomainSocketAddress.of(tmp.resolve("nobody-here"));
            e = nativeFailure(() -> Sockets.connect(missing));
            assertThat(e.errno()).isEqualTo(Linux.ENOENT);
        }
    }

    @Test
    void unixConnectTwiceFailsEisconn() throws IOException {
        try (Fds fds = new Fds()) {
            SocketAddress path = fds.loopback(StandardProtocolFamily.UNIX);
            int listener = fds.track(Sockets.listen(path, 4));
            int client = fds.track(Sockets.connect(path));
            fds.acceptWithin(listener, 10_000);
            NativeIOException e = nativeFailure(() -> Sockets.connect(client, path));
            assertThat(e.errno()).isEqualTo(Linux.EISCONN);
            assertThat(e).hasMessage("connect(fd=" + client + ", " + path + "): EISCONN "
                    + "(Transport endpoint is already connected)");
        }
    }

    /** Two TCP listeners on one port: SO_REUSEADDR does not allow it (socket(7)), bind fails EADDRINUSE. */
    @ParameterizedTest
    @EnumSource(value = StandardProtocolFamily.class, names = {"INET", "INET6"})
    void secondListenerOnAPortFailsEaddrinuse(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int first = fds.listener(family, 1);
            SocketAddress taken = Sockets.localAddress(first);
            NativeIOException e = nativeFailure(() -> Sockets.listen(taken, 1));
            assertThat(e.errno()).isEqualTo(Linux.EADDRINUSE);
            assertThat(e.getMessage()).startsWith("bind(fd=").contains(taken.toString()).contains("EADDRINUSE");
        }
    }

    // ---------------------------------------------------------------- recv and send

    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void peekLeavesTheDataQueued(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int[] c = fds.connectedPair(family);
            assertThat(Sockets.send(c[0], ascii("hello"), 0)).isEqualTo(5);
            awaitAvailable(c[1], 5);

            ByteBuffer peek = ByteBuffer.allocate(5);
            assertThat(Sockets.recv(c[1], peek, Sockets.MSG_PEEK)).isEqualTo(5);
            assertThat(new String(peek.array(), StandardCharsets.US_ASCII)).isEqualTo("hello");
            ByteBuffer peekDirect = ByteBuffer.allocateDirect(3);
            assertThat(Sockets.recv(c[1], peekDirect, Sockets.MSG_PEEK | Sockets.MSG_DONTWAIT)).isEqualTo(3);
            assertThat(Sockets.available(c[1])).isEqualTo(5);

            assertThat(receive(c[1], 5)).isEqualTo("hello");
            assertThat(Sockets.recv(c[1], ByteBuffer.allocate(5), Sockets.MSG_PEEK))
                    .isEqualTo(Descriptors.WOULD_BLOCK);
            assertThat(Sockets.recv(c[1], ByteBuffer.allocate(5), 0)).isEqualTo(Descriptors.WOULD_BLOCK);
        }
    }

    /**
     * send(2)/recv(2): MSG_DONTWAIT makes one call non-blocking on a blocking socket. Should the flag be lost,
     * the recv would block: a rescue thread then sends a byte after 5 s, so the test fails instead of hanging.
     */
    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void dontWaitOnABlockingSocket(StandardProtocolFamily family) throws Exception {
        try (Fds fds = new Fds()) {
            int[] c = fds.connectedPair(family);
            Descriptors.setNonBlocking(c[1], false);
            int[] results = new int[2];
            withRescue(c[0], () -> {
                results[0] = Sockets.recv(c[1], ByteBuffer.allocate(4), Sockets.MSG_DONTWAIT);
                results[1] = Sockets.recv(c[1], ByteBuffer.allocateDirect(4), Sockets.MSG_DONTWAIT | Sockets.MSG_PEEK);
            });
            assertThat(results).containsExactly(Descriptors.WOULD_BLOCK, Descriptors.WOULD_BLOCK);

            assertThat(Sockets.send(c[0], ascii("abc"), Sockets.MSG_DONTWAIT)).isEqualTo(3);
            awaitAvailable(c[1], 3);
            ByteBuffer got = ByteBuffer.allocate(8);
            withRescue(c[0], () -> results[0] = Sockets.recv(c[1], got, Sockets.MSG_DONTWAIT));
            assertThat(results[0]).isEqualTo(3);
            Descriptors.setNonBlocking(c[1], true);
        }
    }

    /**
     * After shutdown(SHUT_WR), send fails EPIPE; Sockets.send always passes MSG_NOSIGNAL, so no SIGPIPE is
     * raised (send(2)) and this JVM goes on. The peer reads end of stream, and can still send back.
     */
    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void sendAfterShutdownOutputFailsEpipe(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int[] c = fds.connectedPair(family);
            Sockets.shutdownOutput(c[0]);

            ByteBuffer one = ByteBuffer.wrap(new byte[] {1});
            NativeIOException e = nativeFailure(() -> Sockets.send(c[0], one, 0));
            assertThat(e.errno()).isEqualTo(Linux.EPIPE);
            assertThat(e).hasMessage("send(fd=" + c[0] + "): EPIPE (Broken pipe)");
            assertThat(one.position()).isZero();
            e = nativeFailure(() -> Sockets.send(c[0], ByteBuffer.allocateDirect(1), Sockets.MSG_DONTWAIT));
            assertThat(e.errno()).isEqualTo(Linux.EPIPE);

            assertThat(recvWithin(c[1], ByteBuffer.allocate(4), 0)).as("peer reads end of stream").isZero();
            assertThat(Sockets.recv(c[1], ByteBuffer.allocate(4), 0)).as("and again").isZero();

            assertThat(Sockets.send(c[1], ascii("back"), 0)).as("half-closed: the other way still works")
                    .isEqualTo(4);
            assertThat(receive(c[0], 4)).isEqualTo("back");
        }
    }

    /** shutdown(SHUT_RD): reads on that side return end of stream at once (shutdown(2); rule WRITE-SHUT for the other direction). */
    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void recvAfterShutdownInputIsEndOfStream(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int[] c = fds.connectedPair(family);
            Sockets.shutdownInput(c[0]);
            assertThat(Sockets.recv(c[0], ByteBuffer.allocate(4), 0)).isZero();
            assertThat(Sockets.send(c[0], ascii("ok"), 0)).as("the writing side is open").isEqualTo(2);
            assertThat(receive(c[1], 2)).isEqualTo("ok");
        }
    }

    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void shutdownBothWays(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int[] c = fds.connectedPair(family);
            Sockets.shutdown(c[0]);
            assertThat(Sockets.recv(c[0], ByteBuffer.allocate(4), 0)).isZero();
            assertThat(nativeFailure(() -> Sockets.send(c[0], ascii("x"), 0)).errno()).isEqualTo(Linux.EPIPE);
            assertThat(recvWithin(c[1], ByteBuffer.allocate(4), 0)).isZero();
        }
    }

    @Test
    void shutdownOfAnUnconnectedSocketFailsEnotconn() throws IOException {
        try (Fds fds = new Fds()) {
            int fd = fds.track(Sockets.open(StandardProtocolFamily.INET));
            NativeIOException e = nativeFailure(() -> Sockets.shutdownOutput(fd));
            assertThat(e.errno()).isEqualTo(Linux.ENOTCONN);
            assertThat(e.getMessage()).contains("shutdown", "SHUT_WR", "fd=" + fd)
                    .endsWith(": ENOTCONN (Transport endpoint is not connected)");
        }
    }

    @Test
    void recvIntoAReadOnlyBufferIsRefused() throws IOException {
        try (Fds fds = new Fds()) {
            int[] s = fds.socketPair();
            Sockets.send(s[0], ascii("z"), 0);
            assertThatThrownBy(() -> Sockets.recv(s[1], ByteBuffer.allocate(4).asReadOnlyBuffer(), 0))
                    .isInstanceOf(ReadOnlyBufferException.class);
            assertThatThrownBy(() -> Sockets.recv(s[1], ByteBuffer.allocateDirect(4).asReadOnlyBuffer(),
                    Sockets.MSG_PEEK)).isInstanceOf(ReadOnlyBufferException.class);
            assertThat(Sockets.available(s[1])).as("nothing consumed").isOne();
        }
    }

    /** FIONREAD (ioctl_list, tcp(7) SIOCINQ, unix(7)): the bytes queued for reading. Pipes answer it too. */
    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void availableCountsQueuedBytes(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int[] c = fds.connectedPair(family);
            assertThat(Sockets.available(c[1])).isZero();
            Sockets.send(c[0], ByteBuffer.allocateDirect(10), 0);
            awaitAvailable(c[1], 10);
            Sockets.send(c[0], ByteBuffer.allocate(7), 0);
            awaitAvailable(c[1], 17);
            assertThat(Sockets.recv(c[1], ByteBuffer.allocate(4), 0)).isEqualTo(4);
            assertThat(Sockets.available(c[1])).isEqualTo(13);

            int[] p = fds.pipe();
            Fds.write(p[1], 6);
            assertThat(Sockets.available(p[0])).isEqualTo(6);
        }
    }

    // ---------------------------------------------------------------- socket options

    /** socket(7): SO_RCVLOWAT defaults to 1 and a 0 is stored as 1 (rule READ-LOWAT). */
    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void receiveLowWaterMark(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int fd = fds.connectedPair(family)[1];
            assertThat(Sockets.getOption(fd, SockOpt.SO_RCVLOWAT)).isOne();
            Sockets.setOption(fd, SockOpt.SO_RCVLOWAT, 100);
            assertThat(Sockets.getOption(fd, SockOpt.SO_RCVLOWAT)).isEqualTo(100);
            Sockets.setOption(fd, SockOpt.SO_RCVLOWAT, 0);
            assertThat(Sockets.getOption(fd, SockOpt.SO_RCVLOWAT)).isOne();
        }
    }

    /** socket(7): SO_SNDLOWAT is fixed at 1 on Linux; setting it fails ENOPROTOOPT (rule WRITE-SNDLOWAT). */
    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void sendLowWaterMarkIsFixed(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int fd = fds.connectedPair(family)[0];
            assertThat(Sockets.getOption(fd, SockOpt.SO_SNDLOWAT)).isOne();
            NativeIOException e = nativeFailure(() -> Sockets.setOption(fd, SockOpt.SO_SNDLOWAT, 100));
            assertThat(e.errno()).isEqualTo(92);
            assertThat(e.errnoName()).isEqualTo("ENOPROTOOPT");
            assertThat(e.getMessage()).startsWith("setsockopt(fd=" + fd + ", SO_SNDLOWAT, 100): ENOPROTOOPT");
            assertThat(Sockets.getOption(fd, SockOpt.SO_SNDLOWAT)).isOne();
        }
    }

    /** socket(7): the kernel doubles SO_SNDBUF and SO_RCVBUF to leave room for its bookkeeping. */
    @ParameterizedTest
    @EnumSource(StandardProtocolFamily.class)
    void bufferSizesAreAtLeastWhatWasSet(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int fd = fds.track(Sockets.open(family));
            Sockets.setOption(fd, SockOpt.SO_SNDBUF, 32 * 1024);
            Sockets.setOption(fd, SockOpt.SO_RCVBUF, 48 * 1024);
            assertThat(Sockets.getOption(fd, SockOpt.SO_SNDBUF)).isGreaterThanOrEqualTo(32 * 1024);
            assertThat(Sockets.getOption(fd, SockOpt.SO_RCVBUF)).isGreaterThanOrEqualTo(48 * 1024);
        }
    }

    @ParameterizedTest
    @EnumSource(value = StandardProtocolFamily.class, names = {"INET", "INET6"})
    void booleanOptionsRoundTrip(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int fd = fds.track(Sockets.open(family));
            for (SockOpt option : new SockOpt[] {SockOpt.SO_REUSEADDR, SockOpt.SO_REUSEPORT, SockOpt.TCP_NODELAY,
                SockOpt.SO_OOBINLINE}) {
                assertThat(Sockets.getOption(fd, option)).as("%s off on a new socket", option).isZero();
                Sockets.setOption(fd, option, 1);
                assertThat(Sockets.getOption(fd, option)).as("%s on", option).isOne();
                Sockets.setOption(fd, option, 0);
                assertThat(Sockets.getOption(fd, option)).as("%s off again", option).isZero();
            }
            // The options are independent: setting one leaves the others alone.
            Sockets.setOption(fd, SockOpt.TCP_NODELAY, 1);
            assertThat(Sockets.getOption(fd, SockOpt.SO_OOBINLINE)).isZero();
            assertThat(Sockets.getOption(fd, SockOpt.TCP_NODELAY)).isOne();
        }
    }

    @Test
    void optionErrors() throws IOException {
        try (Fds fds = new Fds()) {
            int fd = fds.track(Sockets.open(StandardProtocolFamily.INET));
            // SO_ERROR is read-only: sock_setsockopt knows no such option to set.
            assertThat(nativeFailure(() -> Sockets.setOption(fd, SockOpt.SO_ERROR, 1)).errno())
                    .isEqualTo(Linux.ENOPROTOOPT);
            int[] p = fds.pipe();
            NativeIOException e = nativeFailure(() -> Sockets.getOption(p[0], SockOpt.SO_RCVBUF));
            assertThat(e.errnoName()).isEqualTo("ENOTSOCK");
            assertThat(e.syscall()).isEqualTo("getsockopt(fd=" + p[0] + ", SO_RCVBUF)");
            // TCP_NODELAY is a TCP option: an AF_UNIX socket does not have it (unix(7)).
            int[] s = fds.socketPair();
            assertThat(nativeFailure(() -> Sockets.getOption(s[0], SockOpt.TCP_NODELAY)).errno())
                    .isEqualTo(95); // EOPNOTSUPP
        }
    }

    /**
     * SO_LINGER {1, 0} then close sends a reset instead of a FIN; the peer's next recv fails ECONNRESET, once,
     * and reads end of stream after that (rule READ-ERROR).
     */
    @ParameterizedTest
    @EnumSource(value = StandardProtocolFamily.class, names = {"INET", "INET6"})
    void lingerZeroCloseResetsThePeer(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int[] c = fds.connectedPair(family);
            Sockets.setLinger(c[0], true, 0);
            fds.close(c[0]);

            long deadline = System.nanoTime() + WAIT_NANOS;
            NativeIOException reset = null;
            while (reset == null) {
                try {
                    int n = Sockets.recv(c[1], ByteBuffer.allocate(4), 0);
                    assertThat(n).as("expected a reset, not end of stream or data").isEqualTo(Descriptors.WOULD_BLOCK);
                } catch (NativeIOException e) {
                    reset = e;
                }
                assertThat(System.nanoTime()).as("no reset within 10 s").isLessThan(deadline);
                Fds.sleep(1);
            }
            assertThat(reset.errno()).isEqualTo(104);
            assertThat(reset.errnoName()).isEqualTo("ECONNRESET");
            assertThat(reset).hasMessage("recv(fd=" + c[1] + "): ECONNRESET (Connection reset by peer)");
            assertThat(Sockets.recv(c[1], ByteBuffer.allocate(4), 0)).as("the error is reported once").isZero();
            assertThat(Sockets.pendingError(c[1])).isZero();
        }
    }

    @Test
    void lingerCanBeSwitchedOff() throws IOException {
        try (Fds fds = new Fds()) {
            int fd = fds.track(Sockets.open(StandardProtocolFamily.INET6));
            Sockets.setLinger(fd, true, 5);
            Sockets.setLinger(fd, false, 0);
            int[] p = fds.pipe();
            assertThat(nativeFailure(() -> Sockets.setLinger(p[0], true, 0)).errnoName()).isEqualTo("ENOTSOCK");
        }
    }

    // ---------------------------------------------------------------- urgent data

    /**
     * tcp(7) urgent data: one normal byte then one MSG_OOB byte. The urgent byte is read apart with MSG_OOB
     * (waiting until it has arrived); a normal read stops at the mark, where SIOCATMARK turns true
     * (rule PRI-OOB).
     */
    @ParameterizedTest
    @EnumSource(value = StandardProtocolFamily.class, names = {"INET", "INET6"})
    void outOfBandByte(StandardProtocolFamily family) throws IOException {
        try (Fds fds = new Fds()) {
            int[] c = fds.connectedPair(family);
            assertThat(Sockets.send(c[0], ascii("a"), 0)).isEqualTo(1);
            assertThat(Sockets.send(c[0], ascii("x"), Sockets.MSG_OOB)).isEqualTo(1);

            // Wait for the urgent byte without taking it: MSG_OOB|MSG_PEEK fails EINVAL (none yet) or EAGAIN
            // (announced, not arrived) until it is there.
            ByteBuffer urgent = ByteBuffer.allocate(1);
            long deadline = System.nanoTime() + WAIT_NANOS;
            for (;;) {
                urgent.clear();
                try {
                    if (Sockets.recv(c[1], urgent, Sockets.MSG_OOB | Sockets.MSG_PEEK) == 1) {
                        break;
                    }
                } catch (NativeIOException e) {
                    assertThat(e.errno()).isEqualTo(Linux.EINVAL);
                }
                assertThat(System.nanoTime()).as("urgent byte not there within 10 s").isLessThan(deadline);
                Fds.sleep(1);
            }
            assertThat(urgent.get(0)).isEqualTo((byte) 'x');
            awaitAvailable(c[1], 1);
            assertThat(Sockets.available(c[1])).as("the urgent byte is not counted").isOne();
            assertThat(Sockets.atMark(c[1])).as("one normal byte before the mark").isFalse();

            ByteBuffer normal = ByteBuffer.allocate(4);
            assertThat(Sockets.recv(c[1], normal, 0)).as("a read stops at the mark").isOne();
            assertThat(normal.get(0)).isEqualTo((byte) 'a');
            assertThat(Sockets.atMark(c[1])).isTrue();

            ByteBuffer oob = ByteBuffer.allocateDirect(4);
            assertThat(Sockets.recv(c[1], oob, Sockets.MSG_OOB)).isOne();
            assertThat(oob.get(0)).isEqualTo((byte) 'x');
            assertThat(Sockets.recv(c[1], ByteBuffer.allocate(4), 0)).isEqualTo(Descriptors.WOULD_BLOCK);
            NativeIOException e = nativeFailure(() -> Sockets.recv(c[1], ByteBuffer.allocate(1), Sockets.MSG_OOB));
            assertThat(e.errno()).as("the urgent byte is read once").isEqualTo(Linux.EINVAL);
        }
    }

    // ---------------------------------------------------------------- argument checks

    @Test
    void unresolvedAddressesAreRejected() throws IOException {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("localhost", 80);
        assertThatThrownBy(() -> Sockets.connect(unresolved))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unresolved");
        assertThatThrownBy(() -> Sockets.listen(unresolved, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unresolved");
        try (Fds fds = new Fds()) {
            int fd = fds.track(Sockets.open(StandardProtocolFamily.INET));
            assertThatThrownBy(() -> Sockets.connect(fd, unresolved))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unresolved");
            assertThatThrownBy(() -> Sockets.bind(fd, unresolved))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unresolved");
        }
    }

    /** unix(7): sun_path is 108 bytes including the terminating NUL, so a path may have 107. */
    @Test
    void unixPathLengthLimit() throws IOException {
        String dir = tmp.toString() + "/";
        Path longest = Path.of(dir + "p".repeat(107 - dir.length()));
        Path tooLong = Path.of(dir + "p".repeat(108 - dir.length()));
        assertThat(longest.toString()).hasSize(107);
        assertThat(tooLong.toString()).hasSize(108);

        UnixDomainSocketAddress tooLongAddress = UnixDomainSocketAddress.of(tooLong);
        assertThatThrownBy(() -> Sockets.listen(tooLongAddress, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("108 bytes")
                .hasMessageContaining("at most 107");
        assertThatThrownBy(() -> Sockets.connect(tooLongAddress))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at most 107");
        assertThat(Files.exists(tooLong)).isFalse();

        try (Fds fds = new Fds()) {
            UnixDomainSocketAddress longestAddress = UnixDomainSocketAddress.of(longest);
            int listener = fds.track(Sockets.listen(longestAddress, 1));
            assertThat(Sockets.localAddress(listener)).as("decoded without a NUL").isEqualTo(longestAddress);
            int client = fds.track(Sockets.connect(longestAddress));
            fds.acceptWithin(listener, 10_000);
            assertThat(Sockets.remoteAddress(client)).isEqualTo(longestAddress);
        } finally {
            Files.deleteIfExists(longest);
        }
    }

    /**
     * recv and send take only the flags they document. A negative value once meant "use read(2)/write(2)"
     * inside the library, so {@code recv(pipe, buf, -1)} read the pipe instead of failing ENOTSOCK; any
     * other unknown bit (MSG_WAITALL, MSG_TRUNC, MSG_PEEK on send) is refused as well, before any call.
     */
    @Test
    void unknownOrNegativeFlagsAreRefusedBeforeAnyCall() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int[] s = fds.socketPair();
            Fds.write(p[1], 1);
            Sockets.send(s[0], ascii("q"), 0);
            int waitAll = 0x100; // MSG_WAITALL (recv(2))
            int trunc = 0x20; // MSG_TRUNC
            for (ByteBuffer dst : new ByteBuffer[] {ByteBuffer.allocate(4), ByteBuffer.allocateDirect(4)}) {
                for (int flags : new int[] {-1, Integer.MIN_VALUE, waitAll, trunc, Sockets.MSG_PEEK | waitAll}) {
                    for (int fd : new int[] {p[0], s[1]}) {
                        assertThatThrownBy(() -> Sockets.recv(fd, dst.clear(), flags))
                                .as("recv(fd=%d, flags=%#x)", fd, flags)
                                .isInstanceOf(IllegalArgumentException.class)
                                .hasMessageContaining(String.format("%#x", flags))
                                .hasMessageContaining("fd " + fd)
                                .hasMessageContaining("MSG_OOB, MSG_PEEK, MSG_DONTWAIT");
                    }
                }
            }
            assertThat(Sockets.available(p[0])).as("the pipe was not read").isOne();
            assertThat(Sockets.available(s[1])).as("the socket was not read").isOne();

            for (ByteBuffer src : new ByteBuffer[] {ascii("w"), ByteBuffer.allocateDirect(1)}) {
                for (int flags : new int[] {-1, Integer.MIN_VALUE, Sockets.MSG_PEEK, waitAll, 0x4000 /* MSG_NOSIGNAL */}) {
                    for (int fd : new int[] {p[1], s[0]}) {
                        assertThatThrownBy(() -> Sockets.send(fd, src, flags))
                                .as("send(fd=%d, flags=%#x)", fd, flags)
                                .isInstanceOf(IllegalArgumentException.class)
                                .hasMessageContaining(String.format("%#x", flags))
                                .hasMessageContaining("fd " + fd)
                                .hasMessageContaining("MSG_OOB, MSG_DONTWAIT");
                        assertThat(src.position()).isZero();
                    }
                }
            }
            assertThat(Sockets.available(p[0])).as("nothing written to the pipe").isOne();
            assertThat(Sockets.available(s[1])).as("nothing sent").isOne();

            // The documented flags still work: on a pipe they fail as recv(2) and send(2) do (ENOTSOCK).
            assertThat(nativeFailure(() -> Sockets.recv(p[0], ByteBuffer.allocate(1), 0)).errnoName())
                    .isEqualTo("ENOTSOCK");
            assertThat(nativeFailure(() -> Sockets.send(p[1], ascii("x"), Sockets.MSG_DONTWAIT)).errnoName())
                    .isEqualTo("ENOTSOCK");
            assertThat(Sockets.recv(s[1], ByteBuffer.allocate(4), Sockets.MSG_PEEK | Sockets.MSG_DONTWAIT)).isOne();
        }
    }

    @Test
    void unsupportedFamiliesAndAddressesAreRejected() {
        ProtocolFamily other = new ProtocolFamily() {
            @Override
            public String name() {
                return "APPLETALK";
            }

            @Override
            public String toString() {
                return name();
            }
        };
        assertThatThrownBy(() -> Sockets.open(other))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("APPLETALK");
        SocketAddress odd = new SocketAddress() {
            private static final long serialVersionUID = 1L;

            @Override
            public String toString() {
                return "odd-address";
            }
        };
        assertThatThrownBy(() -> Sockets.connect(odd))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("odd-address");
    }

    // ---------------------------------------------------------------- helpers

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** Receives exactly n bytes, waiting up to 10 s for them. */
    private static String receive(int fd, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (b.hasRemaining()) {
            int r = Sockets.recv(fd, b, 0);
            assertThat(r).as("end of stream after %d of %d bytes", b.position(), n).isNotZero();
            if (r == Descriptors.WOULD_BLOCK) {
                assertThat(System.nanoTime()).as("%d of %d bytes within 10 s", b.position(), n).isLessThan(deadline);
                Fds.sleep(1);
            }
        }
        return new String(b.array(), StandardCharsets.US_ASCII);
    }

    /** recv, retrying while it would block, for up to 10 s. */
    private static int recvWithin(int fd, ByteBuffer dst, int flags) throws IOException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        for (;;) {
            int n = Sockets.recv(fd, dst, flags);
            if (n != Descriptors.WOULD_BLOCK) {
                return n;
            }
            assertThat(System.nanoTime()).as("recv would still block after 10 s").isLessThan(deadline);
            Fds.sleep(1);
        }
    }

    private static void awaitAvailable(int fd, int n) throws IOException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (Sockets.available(fd) < n) {
            assertThat(System.nanoTime()).as("%d bytes queued within 10 s", n).isLessThan(deadline);
            Fds.sleep(1);
        }
        assertThat(Sockets.available(fd)).isEqualTo(n);
    }

    /** Waits up to 10 s for a pending socket error, and returns it (reading SO_ERROR clears it). */
    private static int awaitPendingError(int fd) throws IOException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        int error;
        while ((error = Sockets.pendingError(fd)) == 0) {
            assertThat(System.nanoTime()).as("no SO_ERROR within 10 s").isLessThan(deadline);
            Fds.sleep(1);
        }
        return error;
    }

    /** Waits until a connecting socket has a peer (getpeername stops failing ENOTCONN). */
    private static void awaitConnected(int fd) throws IOException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        for (;;) {
            try {
                Sockets.remoteAddress(fd);
                return;
            } catch (NativeIOException e) {
                assertThat(e.errno()).isEqualTo(Linux.ENOTCONN);
            }
            assertThat(System.nanoTime()).as("not connected within 10 s").isLessThan(deadline);
            Fds.sleep(1);
        }
    }

    interface IoAction {
        void run() throws IOException;
    }

    /**
     * Runs an action that must not block on a blocking socket. If it does block for 5 s, a byte is sent from
     * {@code peer} to unblock it, and the test then fails on the result instead of hanging.
     */
    private static void withRescue(int peer, IoAction action) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Throwable> rescued = new AtomicReference<>();
        Thread rescue = new Thread(() -> {
            try {
                if (!done.await(5, TimeUnit.SECONDS)) {
                    Sockets.send(peer, ByteBuffer.wrap(new byte[] {'!'}), 0);
                    rescued.set(new AssertionError("the call blocked for 5 s"));
                }
            } catch (InterruptedException | IOException e) {
                rescued.set(e);
            }
        }, "rescue");
        rescue.setDaemon(true);
        rescue.start();
        try {
            action.run();
        } finally {
            done.countDown();
            rescue.join(10_000);
        }
        if (rescued.get() != null) {
            fail("a MSG_DONTWAIT call blocked", rescued.get());
        }
    }
}
