package dev.iomux.poll;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static dev.iomux.poll.PollTesting.open;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.Selector;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The flags poll(2) tells apart and the backend declares ({@link Capability#ERROR_HANGUP},
 * {@link Capability#READ_HANGUP}), each checked exactly: the directions within the key's interest
 * (REPORT-MASKED) plus the flags the kernel reported (rules READ-FIN, READ-ERROR, PIPE-HUP and WRITE-ERROR).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollFlagsTest {

    /** Waits for at least {@code bits} on {@code fd}, then checks that the same is reported again (level). */
    private static int reported(Selector sel, int fd, int bits) throws IOException {
        int first = Expect.ready(sel, fd, bits);
        int again = Expect.ready(sel, fd, bits);
        assertThat(Events.toString(again)).as("level-triggered: the same report again")
                .isEqualTo(Events.toString(first));
        return first;
    }

    private static void assertEvents(int actual, int expected) {
        assertThat(Events.toString(actual)).isEqualTo(Events.toString(expected));
    }

    @Test
    void theBackendDeclaresTheFlagsItReports() throws IOException {
        try (PollSelector sel = open()) {
            assertThat(sel.capabilities().supports(Capability.ERROR_HANGUP)).isTrue();
            assertThat(sel.capabilities().supports(Capability.READ_HANGUP)).isTrue();
        }
    }

    @Test
    void unixPeerCloseIsReadHangupAndReadHangup() throws IOException {
        // UNIX-HUP: an AF_UNIX stream peer's close() gives POLLIN|POLLHUP|POLLRDHUP at once.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] sp = fds.socketPair();
            Fds.write(sp[1], 3);
            sel.register(sp[0], READ);
            assertEvents(reported(sel, sp[0], READ), READ);
            fds.close(sp[1]);
            assertEvents(reported(sel, sp[0], READ | HANGUP), READ | HANGUP | READ_HANGUP);
            assertThat(Fds.read(sp[0], 10)).as("the data first").isEqualTo(3);
            assertThat(Fds.read(sp[0], 10)).as("then end of stream").isZero();
            assertEvents(reported(sel, sp[0], READ | HANGUP), READ | HANGUP | READ_HANGUP);
        }
    }

    @Test
    void unixPeerShutdownOutputIsReadHangupWithoutHangup() throws IOException {
        // UNIX-HUP, second half: the peer's shutdown(SHUT_WR) gives R and RH only.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] sp = fds.socketPair();
            sel.register(sp[0], READ);
            Sockets.shutdownOutput(sp[1]);
            assertEvents(reported(sel, sp[0], READ | READ_HANGUP), READ | READ_HANGUP);
            assertThat(Fds.read(sp[0], 10)).isZero();
        }
    }

    @Test
    void tcpPeerFinIsReadAndReadHangupWithoutHangup() throws IOException {
        // READ-FIN: a FIN alone is not POLLHUP on TCP; reads return 0, again and again.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] pair = fds.connectedPair(StandardProtocolFamily.INET);
            int client = pair[0];
            int peer = pair[1];
            sel.register(client, READ);
            Expect.notReady(sel, client);
            Sockets.shutdownOutput(peer);
            assertEvents(reported(sel, client, READ | READ_HANGUP), READ | READ_HANGUP);
            assertThat(Fds.read(client, 10)).as("end of stream").isZero();
            assertThat(Fds.read(client, 10)).as("end of stream, again").isZero();
            assertEvents(reported(sel, client, READ | READ_HANGUP), READ | READ_HANGUP);
        }
    }

    @Test
    void tcpPeerResetIsErrorAndHangupWithRead() throws IOException {
        // READ-ERROR: SO_LINGER {1,0} + close sends RST: POLLIN|POLLERR|POLLHUP|POLLRDHUP; the first read
        // fails with ECONNRESET, later reads return 0.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] pair = fds.connectedPair(StandardProtocolFamily.INET);
            int client = pair[0];
            int peer = pair[1];
            sel.register(client, READ);
            Sockets.setLinger(peer, true, 0);
            fds.close(peer);
            int ev = reported(sel, client, READ | ERROR | HANGUP);
            assertEvents(ev, READ | ERROR | HANGUP | READ_HANGUP);
            assertThatThrownBy(() -> Fds.read(client, 10)).isInstanceOf(NativeIOException.class)
                    .satisfies(e -> assertThat(((NativeIOException) e).errnoName()).isEqualTo("ECONNRESET"));
            assertThat(Fds.read(client, 10)).isZero();
            // The error was consumed by the read: HANGUP stays, ERROR goes (Rule 5).
            assertEvents(reported(sel, client, READ | HANGUP), READ | HANGUP | READ_HANGUP);
        }
    }

    @Test
    void tcpPeerResetMakesAWriteInterestReadyWithTheFlags() throws IOException {
        // WRITE-ERROR: after a reset the socket is writable with E; the first send fails ECONNRESET, then EPIPE.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] pair = fds.connectedPair(StandardProtocolFamily.INET);
            int client = pair[0];
            sel.register(client, WRITE);
            Sockets.setLinger(pair[1], true, 0);
            fds.close(pair[1]);
            int ev = reported(sel, client, WRITE | ERROR | HANGUP);
            assertThat(ev & Events.INTERESTS).as("within the WRITE interest").isEqualTo(WRITE);
            assertEvents(ev, WRITE | ERROR | HANGUP); // no POLLRDHUP: it is only asked for with READ
            assertThatThrownBy(() -> Sockets.send(client, ByteBuffer.wrap(new byte[] {1}), 0))
                    .isInstanceOf(NativeIOException.class)
                    .satisfies(e -> assertThat(((NativeIOException) e).errnoName()).isEqualTo("ECONNRESET"));
        }
    }

    @Test
    void pipeReadEndAfterTheWriterClosedIsReadAndHangup() throws IOException {
        // PIPE-HUP: POLLHUP (with POLLIN while data is left; without it once empty): READ|HANGUP either way.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] withData = fds.pipe();
            int[] empty = fds.pipe();
            Fds.write(withData[1], 3);
            sel.register(withData[0], READ);
            sel.register(empty[0], READ);
            fds.close(withData[1]);
            fds.close(empty[1]);
            assertEvents(reported(sel, withData[0], READ | HANGUP), READ | HANGUP);
            assertEvents(reported(sel, empty[0], READ | HANGUP), READ | HANGUP);
            assertThat(Fds.read(withData[0], 10)).isEqualTo(3);
            assertThat(Fds.read(withData[0], 10)).isZero();
            assertThat(Fds.read(empty[0], 10)).isZero();
            assertEvents(reported(sel, withData[0], READ | HANGUP), READ | HANGUP);
        }
    }

    @Test
    void pipeWriteEndAfterTheReaderClosedIsWriteAndError() throws IOException {
        // PIPE-EPIPE: POLLOUT|POLLERR; a write fails with EPIPE (the JVM ignores SIGPIPE).
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[1], WRITE);
            assertEvents(reported(sel, p[1], WRITE), WRITE);
            fds.close(p[0]);
            assertEvents(reported(sel, p[1], WRITE | ERROR), WRITE | ERROR);
            assertThatThrownBy(() -> Fds.write(p[1], 1)).isInstanceOf(NativeIOException.class)
                    .satisfies(e -> assertThat(((NativeIOException) e).errnoName()).isEqualTo("EPIPE"));
        }
    }
}
