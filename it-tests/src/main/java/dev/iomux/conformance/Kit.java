package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.util.List;

import dev.iomux.NativeIOException;
import dev.iomux.io.Sockets;

/** Small helpers the scenarios share. */
final class Kit {
    /** TCP over IPv4 and IPv6: every TCP rule runs on both (Linux showed no difference between them). */
    static final List<ProtocolFamily> TCP = List.of(StandardProtocolFamily.INET, StandardProtocolFamily.INET6);

    /** TCP on both families and AF_UNIX stream sockets. */
    static final List<ProtocolFamily> STREAMS = List.of(StandardProtocolFamily.INET, StandardProtocolFamily.INET6,
            StandardProtocolFamily.UNIX);

    private Kit() {
    }

    static String label(ProtocolFamily f) {
        if (f == StandardProtocolFamily.INET) {
            return "tcp4";
        }
        return f == StandardProtocolFamily.INET6 ? "tcp6" : "unix";
    }

    /** Sends {@code n} bytes with MSG_NOSIGNAL (Sockets.send always adds it). */
    static void send(int fd, int n) throws IOException {
        ByteBuffer b = ByteBuffer.wrap("y".repeat(n).getBytes());
        while (b.hasRemaining()) {
            assertThat(Sockets.send(fd, b, 0)).as("send on fd %d would block", fd).isPositive();
        }
    }

    /** Sends one urgent byte (MSG_OOB). */
    static void sendUrgent(int fd, byte b) throws IOException {
        assertThat(Sockets.send(fd, ByteBuffer.wrap(new byte[] {b}), Sockets.MSG_OOB)).isEqualTo(1);
    }

    /** Resets a connection: SO_LINGER {1, 0} then close sends an RST (socket(7)). */
    static void reset(Run run, int fd) throws IOException {
        Sockets.setLinger(fd, true, 0);
        run.fds().close(fd);
    }

    /**
     * Runs {@code call}, which must fail with a {@link NativeIOException} carrying {@code errnoName}.
     *
     * @return the exception
     */
    static NativeIOException failsWith(String errnoName, ThrowingCall call) {
        Throwable t = catchThrowable(call::run);
        assertThat(t).as("expected %s", errnoName).isInstanceOf(NativeIOException.class);
        NativeIOException e = (NativeIOException) t;
        assertThat(e.errnoName()).as("errno of %s", e.getMessage()).isEqualTo(errnoName);
        return e;
    }

    /** A call that may throw anything. */
    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
