package dev.iomux.conformance;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static dev.iomux.conformance.Kit.failsWith;
import static dev.iomux.conformance.Kit.label;
import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;

import dev.iomux.Capability;
import dev.iomux.NativeIOException;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.internal.Linux;
import dev.iomux.io.SockOpt;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Fds;

/** Section 2 of the catalog: when a descriptor is writable. */
final class WriteScenarios {
    private WriteScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("WRITE-SPACE", uses(Uses.TCP4, Uses.TCP6, Uses.UNIX, Uses.PIPE), WriteScenarios::space);
        b.rule("WRITE-SNDLOWAT", uses(Uses.TCP4, Uses.TCP6), WriteScenarios::sendLowWaterMark);
        b.rule("WRITE-SHUT", uses(Uses.TCP4, Uses.TCP6, Uses.UNIX), WriteScenarios::shut);
        b.rule("WRITE-CONNECT", uses(Uses.TCP4, Uses.TCP6), WriteScenarios::connect);
        b.rule("WRITE-CONNECT-REFUSED", uses(Uses.TCP4, Uses.TCP6), WriteScenarios::connectRefused);
        b.rule("WRITE-CONNECT-PENDING", uses(Uses.TCP4, Uses.TCP6), WriteScenarios::connectPending);
        b.rule("WRITE-ERROR", uses(Uses.TCP4, Uses.TCP6), WriteScenarios::error);
    }

    static void space(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.STREAMS) {
            int[] c = run.fds().connectedPair(f);
            if (f != java.net.StandardProtocolFamily.UNIX) {
                // Fixed, small buffers: filling takes little memory, and autotuning cannot make room
                // behind the test's back (socket(7): setting them disables autotuning).
                Sockets.setOption(c[0], SockOpt.SO_SNDBUF, 32 * 1024);
                Sockets.setOption(c[1], SockOpt.SO_RCVBUF, 32 * 1024);
            }
            fillAndDrain(run, sel, c[0], c[1], label(f));
        }
        int[] p = run.fds().pipe();
        fillAndDrain(run, sel, p[1], p[0], "pipe");
    }

    private static void fillAndDrain(Run run, Selector sel, int writer, int reader, String what) throws Exception {
        sel.register(writer, WRITE);
        run.ready(sel, writer, WRITE, what + " empty");
        long filled = Fds.fill(writer);
        assertThat(filled).as("bytes written until EAGAIN").isPositive();
        // TCP frees send-buffer space as loopback delivers what is in flight (and, later, as the receiver
        // collapses its queue and reopens the window), so the check is made right after EAGAIN, with
        // zero timeouts, as C probes of the same situation do.
        for (int round = 0; round < 50 && reportedNow(sel, writer); round++) {
            filled += Fds.fill(writer);
        }
        assertThat(reportedNow(sel, writer)).as("%s: writable right after EAGAIN", what).isFalse();
        run.note(what + " full after " + filled + " bytes (EAGAIN): -");
        // The peer drains; writability comes back once enough has gone (for TCP when the queued bytes
        // fall to 2/3 of SO_SNDBUF), which may take a few rounds as the data crosses loopback.
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (;;) {
            Fds.drain(reader);
            boolean writable = false;
            for (Ready r : sel.select(Duration.ofMillis(50))) {
                writable |= r.fd() == writer && r.isWritable();
            }
            if (writable) {
                run.note(what + " drained: W");
                break;
            }
            assertThat(System.nanoTime()).as("%s: writable again once the peer drained", what)
                    .isLessThan(deadline);
        }
        sel.unregister(writer);
    }

    private static boolean reportedNow(Selector sel, int fd) throws Exception {
        for (Ready r : sel.selectNow()) {
            if (r.fd() == fd) {
                return true;
            }
        }
        return false;
    }

    /** socket(7): "SO_SNDLOWAT ... not changeable on Linux (setsockopt fails with ENOPROTOOPT)"; it is 1. */
    static void sendLowWaterMark(Run run) throws Exception {
        for (ProtocolFamily f : Kit.TCP) {
            int fd = run.fds().track(Sockets.open(f));
            failsWith("ENOPROTOOPT", () -> Sockets.setOption(fd, SockOpt.SO_SNDLOWAT, 2048));
            assertThat(Sockets.getOption(fd, SockOpt.SO_SNDLOWAT)).as("SO_SNDLOWAT on Linux").isEqualTo(1);
            run.note(label(f) + ": set ENOPROTOOPT, get 1");
        }
    }

    static void shut(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.STREAMS) {
            int[] c = run.fds().connectedPair(f);
            Sockets.shutdownOutput(c[0]);
            sel.register(c[0], WRITE);
            run.ready(sel, c[0], WRITE, label(f) + " after SHUT_WR");
            // Sockets.send adds MSG_NOSIGNAL: EPIPE, and no SIGPIPE.
            failsWith("EPIPE", () -> Sockets.send(c[0], ByteBuffer.wrap(new byte[1]), 0));
            sel.unregister(c[0]);
        }
    }

    static void connect(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            int listener = run.fds().listener(f, 8);
            int fd = run.fds().track(Sockets.open(f));
            boolean atOnce = Sockets.connect(fd, Sockets.localAddress(listener));
            sel.register(fd, WRITE);
            run.ready(sel, fd, WRITE, label(f) + (atOnce ? " connected at once" : " EINPROGRESS, then"));
            assertThat(Sockets.pendingError(fd)).as("SO_ERROR after the connect completed").isZero();
            sel.unregister(fd);
        }
    }

    static void connectRefused(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            SocketAddress closed = closedPort(run, f);
            int fd = run.fds().track(Sockets.open(f));
            try {
                Sockets.connect(fd, closed);
            } catch (NativeIOException e) {
                assertThat(e.errnoName()).isEqualTo("ECONNREFUSED");
                run.note(label(f) + ": ECONNREFUSED at once (allowed)");
                continue;
            }
            sel.register(fd, READ | WRITE);
            int seen = run.ready(sel, fd, READ | WRITE, label(f) + " refused");
            // The reset closes both directions: tcp_poll adds POLLHUP and POLLRDHUP to POLLERR.
            run.flagsIfDeclared(seen, ERROR | HANGUP, Capability.ERROR_HANGUP, "a refused connect");
            run.flagsIfDeclared(seen, READ_HANGUP, Capability.READ_HANGUP, "a refused connect");
            assertThat(Sockets.pendingError(fd)).as("SO_ERROR").isEqualTo(Linux.ECONNREFUSED);
            assertThat(Sockets.pendingError(fd)).as("SO_ERROR again").isZero();
            // The error is consumed (POLLERR goes), the hang-up stays.
            seen = run.ready(sel, fd, READ | WRITE, label(f) + " refused, after SO_ERROR");
            run.flagsIfDeclared(seen, HANGUP, Capability.ERROR_HANGUP, "a refused connect after SO_ERROR");
            run.without(seen, ERROR, "a refused connect after SO_ERROR");
            sel.unregister(fd);
        }
    }

    /** A port nothing listens on: one that was just listened on and closed. */
    private static SocketAddress closedPort(Run run, ProtocolFamily f) throws Exception {
        int l = run.fds().listener(f, 1);
        SocketAddress a = Sockets.localAddress(l);
        run.fds().close(l);
        return new InetSocketAddress(((InetSocketAddress) a).getAddress(), ((InetSocketAddress) a).getPort());
    }

    /**
     * A listener with backlog 0 admits one unaccepted connection; the next SYN is dropped, so that connect
     * stays in progress (rule WRITE-CONNECT-PENDING) until accept frees the slot and the SYN is
     * retransmitted, about 1 s later.
     */
    static void connectPending(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            int listener = run.fds().listener(f, 0);
            SocketAddress address = Sockets.localAddress(listener);
            int first = run.fds().track(Sockets.connect(address));
            sel.register(first, WRITE);
            run.ready(sel, first, WRITE, label(f) + " first connect (queued)");
            sel.unregister(first);

            int fd = run.fds().track(Sockets.open(f));
            assertThat(Sockets.connect(fd, address)).as("a connect into a full queue completes at once").isFalse();
            sel.register(fd, READ | WRITE);
            run.notReady(sel, fd, label(f) + " in progress");
            failsWith("EALREADY", () -> Sockets.connect(fd, address));
            assertThat(Sockets.pendingError(fd)).as("SO_ERROR while in progress").isZero();

            run.fds().track(Sockets.accept(listener));
            long start = System.nanoTime();
            run.ready(sel, fd, WRITE, label(f) + " after accept freed the slot");
            run.note(label(f) + " completed after " + (System.nanoTime() - start) / 1_000_000 + " ms");
            assertThat(Sockets.pendingError(fd)).as("SO_ERROR once connected").isZero();
            sel.unregister(fd);
        }
    }

    static void error(Run run) throws Exception {
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            int[] c = run.fds().connectedPair(f);
            sel.register(c[1], WRITE);
            Kit.reset(run, c[0]);
            int seen = run.ready(sel, c[1], WRITE, label(f) + " reset, WRITE only");
            // tcp_poll: POLLOUT, POLLERR and POLLHUP (POLLIN and POLLRDHUP too, but READ was not asked).
            run.flagsIfDeclared(seen, ERROR | HANGUP, Capability.ERROR_HANGUP, "a reset");
            run.without(seen, READ | READ_HANGUP, "a reset, WRITE asked");
            ByteBuffer one = ByteBuffer.wrap(new byte[1]);
            failsWith("ECONNRESET", () -> Sockets.send(c[1], one, 0));
            failsWith("EPIPE", () -> Sockets.send(c[1], one.clear(), 0));
            sel.unregister(c[1]);
        }
    }
}
