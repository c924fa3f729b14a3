package dev.iomux.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.Set;

import dev.iomux.Events;
import dev.iomux.SelectorKey;
import dev.iomux.io.Descriptors;

/**
 * {@code iomux echo-server}: the echo server of Python's {@code selectors} documentation.
 *
 * <p>Run it with {@code ./iomux echo-server --port 1234} and talk to it with {@code nc 127.0.0.1 1234}.
 *
 * <p>It follows the example at the end of Python's {@code selectors} documentation: the listener is
 * registered for READ with {@code accept} as its data, {@code accept} registers
 * the connection for READ with {@code read} as its data, and the loop calls the data of each ready key
 * ({@code callback = key.data; callback(key.fileobj, mask)}, in {@link EventLoop}). An empty read closes
 * the connection. Where that example sends and hopes it won't block, this keeps what the kernel did not
 * take and waits for WRITE, reading nothing more until it is gone.
 */
final class EchoServer {
    static final String USAGE = """
            usage: iomux echo-server [-b|--backend select|poll|epoll|uring|uring-single] [--host 127.0.0.1]
                                     [-p|--port 1234] [--loops 1] [-v|--verbose]
              Echoes whatever each client sends, as the echo server of Python's selectors documentation.
              --port 0 picks a free port; the status line says which.
              --loops N: N event loops (1 to 64; one per core is the point), each a thread with its own
                selector and its own SO_REUSEPORT listener on the port; the kernel spreads connections."""
            + "\n" + Command.SERVER_EXIT;

    private EchoServer() {
    }

    /** The subcommand; see {@link Command#run}. */
    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options options = Options.parse("echo-server", args, Set.of("host", "port", "loops"), Set.of()).noPositional();
        return EventLoop.serve("echo-server", options, 1234, Events.READ,
                loop -> (key, events) -> accept(loop), out);
    }

    /** The listener's handler: the example's {@code accept(sock, mask)}. */
    private static void accept(EventLoop loop) throws IOException {
        int conn = loop.accept();
        if (conn >= 0) {
            loop.register(conn, Events.READ, new Connection(loop));
        }
    }

    /** A connection's handler: the example's {@code read(conn, mask)}, with what was not yet written. */
    private static final class Connection implements EventLoop.Handler {
        private final EventLoop loop;
        private final ByteBuffer pending = ByteBuffer.allocate(4096).flip();

        Connection(EventLoop loop) {
            this.loop = loop;
        }

        @Override
        public void ready(SelectorKey key, int events) throws IOException {
            int fd = key.fd();
            if (!pending.hasRemaining()) {
                int n = Descriptors.read(fd, pending.clear());
                pending.flip();
                if (n == 0) {
                    loop.close(fd); // end of stream: the client is gone
                    return;
                }
            }
            Descriptors.write(fd, pending);
            int wanted = pending.hasRemaining() ? Events.WRITE : Events.READ;
            if (key.interest() != wanted) {
                loop.selector().modify(fd, wanted);
            }
        }
    }
}
