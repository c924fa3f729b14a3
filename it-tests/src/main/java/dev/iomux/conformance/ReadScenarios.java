package dev.iomux.conformance;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static dev.iomux.conformance.Kit.failsWith;
import static dev.iomux.conformance.Kit.label;
import static dev.iomux.conformance.Kit.send;
import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;

import dev.iomux.Capability;
import dev.iomux.Selector;
import dev.iomux.internal.Linux;
import dev.iomux.io.Descriptors;
import dev.iomux.io.SockOpt;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Fds;

/** Section 1 of the catalog: when a descriptor is readable. */
final class ReadScenarios {
    private ReadScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("READ-DATA", uses(Uses.TCP4, Uses.TCP6, Uses.UNIX), ReadScenarios::data);
        b.rule("READ-LOWAT", uses(Uses.TCP4, Uses.TCP6), ReadScenarios::lowWaterMark);
        b.rule("READ-LOWAT-EOF", uses(Uses.TCP4, Uses.TCP6), ReadScenarios::lowWaterMarkEof);
        b.rule("READ-LOWAT-UNIX", Uses.UNIX, ReadScenarios::lowWaterMarkUnix);
        b.rule("READ-FIN", uses(Uses.TCP4, Uses.TCP6), ReadScenarios::fin);
        b.rule("READ-ACCEPT", uses(Uses.TCP4, Uses.TCP6, Uses.UNIX), ReadScenarios::accept);
        b.rule("READ-ERROR", uses(Uses.TCP4, Uses.TCP6), ReadScenarios::error);
    }

    static void data(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.STREAMS) {
            int[] c = run.fds().connectedPair(f);
            sel.register(c[1], READ);
            run.notReady(sel, c[1], label(f) + " empty");
            send(c[0], 1);
            run.ready(sel, c[1], READ, label(f) + " 1 byte");
            assertThat(Fds.read(c[1], 16)).isEqualTo(1);
            sel.unregister(c[1]);
        }
    }

    /** SO_RCVLOWAT = 8: 7 bytes are not enough, the 8th is; socket(7) "since Linux 2.6.28". */
    static void lowWaterMark(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            int[] c = run.fds().connectedPair(f);
            Sockets.setOption(c[1], SockOpt.SO_RCVLOWAT, 8);
            sel.register(c[1], READ);
            send(c[0], 7);
            // select(2) with a timeout blocks: 7 bytes must neither be reported nor end the wait early.
            run.notReady(sel, c[1], label(f) + " 7 of 8");
            send(c[0], 1);
            run.ready(sel, c[1], READ, label(f) + " 8 of 8");
            sel.unregister(c[1]);
        }
    }

    static void lowWaterMarkEof(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            int[] c = run.fds().connectedPair(f);
            Sockets.setOption(c[1], SockOpt.SO_RCVLOWAT, 8);
            sel.register(c[1], READ);
            send(c[0], 3);
            run.notReady(sel, c[1], label(f) + " 3 of 8");
            Sockets.shutdownOutput(c[0]);
            int seen = run.ready(sel, c[1], READ, label(f) + " 3 of 8 + FIN");
            run.flagsIfDeclared(seen, READ_HANGUP, Capability.READ_HANGUP, "a FIN");
            sel.unregister(c[1]);
        }
    }

    /** A Linux divergence from socket(7): AF_UNIX readiness ignores SO_RCVLOWAT (observed, rule 1). */
    static void lowWaterMarkUnix(Run run) throws Exception {
        Selector sel = run.open();
        int[] c = run.fds().socketPair();
        Sockets.setOption(c[1], SockOpt.SO_RCVLOWAT, 100);
        sel.register(c[1], READ);
        run.notReady(sel, c[1], "unix empty, mark 100");
        send(c[0], 1);
        run.ready(sel, c[1], READ, "unix 1 byte, mark 100");
    }

    /** The peer's FIN, by shutdown(SHUT_WR) and by close(): R and RH, never H on TCP; reads return 0. */
    static void fin(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            for (boolean close : new boolean[] {false, true}) {
                String what = label(f) + (close ? " peer closed" : " peer shut down");
                int[] c = run.fds().connectedPair(f);
                sel.register(c[1], READ);
                if (close) {
                    run.fds().close(c[0]);
                } else {
                    Sockets.shutdownOutput(c[0]);
                }
                int seen = run.ready(sel, c[1], READ, what);
                run.flagsIfDeclared(seen, READ_HANGUP, Capability.READ_HANGUP, what);
                // tcp(7)/poll(2): POLLHUP needs both directions shut; a FIN alone is only RDHUP.
                run.without(seen, HANGUP | ERROR | WRITE, what);
                assertThat(Fds.read(c[1], 16)).as("read at end of stream").isZero();
                assertThat(Fds.read(c[1], 16)).as("and again").isZero();
                run.ready(sel, c[1], READ, what + ", after reading 0");
                sel.unregister(c[1]);
            }
        }
    }

    /**
     * A listener is readable with a connection queued and never writable, until shutdown: then TCP closes
     * it (inet_shutdown disconnects a listener; tcp_poll says POLLOUT and POLLHUP) and AF_UNIX keeps
     * accepting (unix_poll says POLLIN, POLLHUP, POLLRDHUP). A hang-up is ready in every registered
     * direction, so the READ and WRITE key gets both wherever the backend tells H apart.
     */
    static void accept(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.STREAMS) {
            int listener = run.fds().listener(f, 8);
            // A listener is never writable: WRITE is asked for too, and must not come.
            sel.register(listener, READ | WRITE);
            run.notReady(sel, listener, label(f) + " listener, empty queue");
            assertThat(Sockets.accept(listener)).as("accept on an empty queue: EAGAIN")
                    .isEqualTo(Descriptors.WOULD_BLOCK);
            run.fds().track(Sockets.connect(Sockets.localAddress(listener)));
            int seen = run.ready(sel, listener, READ, label(f) + " listener, 1 queued");
            run.without(seen, WRITE, "a listener");
            int conn = Sockets.accept(listener);
            assertThat(conn).as("accept does not block").isNotNegative();
            run.fds().track(conn);
            run.notReady(sel, listener, label(f) + " listener, drained");

            // The exception: shutdown(SHUT_RDWR).
            Sockets.shutdown(listener);
            boolean tcp = f != StandardProtocolFamily.UNIX;
            String what = label(f) + " listener after SHUT_RDWR";
            // TCP: kernel POLLOUT|POLLHUP, select R W. Unix: POLLIN|POLLHUP|POLLRDHUP, select R only.
            int expected = (tcp || run.supports(Capability.ERROR_HANGUP)) ? READ | WRITE : READ;
            seen = run.ready(sel, listener, expected, what);
            run.flagsIfDeclared(seen, HANGUP, Capability.ERROR_HANGUP, what);
            if (!tcp) {
                run.flagsIfDeclared(seen, READ_HANGUP, Capability.READ_HANGUP, what);
            }
            run.without(seen, ERROR, what);
            if (tcp) {
                failsWith("EINVAL", () -> Sockets.accept(listener));
            } else {
                assertThat(Sockets.accept(listener)).as("a unix listener after SHUT_RDWR, empty queue: EAGAIN")
                        .isEqualTo(Descriptors.WOULD_BLOCK);
            }
            sel.unregister(listener);
        }
    }

    /** A reset (SO_LINGER {1,0} then close): R and W, with E, H and RH where the backend tells them. */
    static void error(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            // First connection: read reports the error once, then end of stream.
            int[] c = run.fds().connectedPair(f);
            sel.register(c[1], READ | WRITE);
            Kit.reset(run, c[0]);
            int seen = run.ready(sel, c[1], READ | WRITE, label(f) + " reset");
            run.flagsIfDeclared(seen, ERROR | HANGUP, Capability.ERROR_HANGUP, "a reset");
            run.flagsIfDeclared(seen, READ_HANGUP, Capability.READ_HANGUP, "a reset");
            failsWith("ECONNRESET", () -> Fds.read(c[1], 16));
            assertThat(Fds.read(c[1], 16)).as("a read after the error: end of stream").isZero();
            // The read consumed the error (sk_err): the hang-up stays, the error is not reported again.
            seen = run.ready(sel, c[1], READ, label(f) + " reset, error read");
            run.flagsIfDeclared(seen, HANGUP, Capability.ERROR_HANGUP, "a reset whose error was read");
            run.without(seen, ERROR, "a reset whose error was read");
            sel.unregister(c[1]);
            // Second connection: SO_ERROR returns the error once, then 0.
            int[] d = run.fds().connectedPair(f);
            Kit.reset(run, d[0]);
            sel.register(d[1], READ);
            seen = run.ready(sel, d[1], READ, label(f) + " reset, READ only");
            run.flagsIfDeclared(seen, ERROR | HANGUP, Capability.ERROR_HANGUP, "a reset, READ asked");
            run.without(seen, WRITE, "a reset, READ asked");
            assertThat(Sockets.pendingError(d[1])).as("SO_ERROR").isEqualTo(Linux.ECONNRESET);
            assertThat(Sockets.pendingError(d[1])).as("SO_ERROR again").isZero();
            sel.unregister(d[1]);
        }
    }
}
