package dev.iomux.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;

import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;

/**
 * {@code iomux client}: a line client, on one selector for the keyboard and the socket.
 *
 * <p>Run it with {@code ./iomux client --port 1234} against {@code ./iomux echo-server}, or
 * {@code ./iomux client --port 7000} against {@code ./iomux chat}, and type lines; or pipe them in.
 *
 * <p>The client of the usual echo examples sends a line and then waits for the answer
 * ({@code s.sendall(msg); data = s.recv(1024)}); a chat client cannot, because lines arrive while you
 * type. So this one multiplexes what a client must, interactive input and a network socket: standard
 * input and the socket on one selector. What stdin gives goes to the server; what the server sends goes to stdout.
 * At the end of stdin it shuts its sending side down and prints what the server still sends until it
 * closes. Stdin is left blocking (it is shared with the shell); one read per readiness never blocks.
 */
final class LineClient {
    static final String USAGE = """
            usage: iomux client [-b|--backend select|poll|epoll|uring|uring-single] [--host 127.0.0.1]
                                [-p|--port 1234] [--connect-timeout 5s] [-v|--verbose]
              Sends standard input to the server and prints what it sends back, until the server closes."""
            + "\n  Exit status: 0 when the server closes; 1 if it cannot connect or fails; 2 for bad arguments.";

    private static final int STDIN = 0;
    /** errno(3): epoll_ctl refuses a regular file. */
    private static final int EPERM = 1;

    private static boolean stdinUnwatchable;

    private LineClient() {
    }

    /** The subcommand; see {@link Command#run}. */
    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options options = Options.parse("client", args, Set.of("host", "port", "connect-timeout"), Set.of()).noPositional();
        InetSocketAddress server = options.listenAddress(1234);
        Duration connectTimeout = options.duration("connect-timeout", Duration.ofSeconds(5));
        ByteBuffer toServer = ByteBuffer.allocate(4096).flip();
        ByteBuffer fromServer = ByteBuffer.allocate(4096);
        int sock = Sockets.connect(server);
        try (Selector selector = options.openSelector()) {
            selector.register(sock, Events.WRITE);
            if (selector.select(connectTimeout).isEmpty()) {
                err.println("iomux client: no connection to " + EventLoop.hostAndPort(server) + " within "
                        + connectTimeout.toMillis() + " ms");
                return Command.FAILED;
            }
            int error = Sockets.pendingError(sock);
            if (error != 0) {
                throw new NativeIOException("connect(" + EventLoop.hostAndPort(server) + ")", error,
                        "is the server running? start one with ./iomux echo-server --port " + server.getPort());
            }
            boolean stdinOpen = watchStdin(selector, true);
            selector.modify(sock, Events.READ);
            while (true) {
                // Stdin that cannot be watched (a regular file under epoll) is always ready, as select(2) has it.
                boolean stdinReady = stdinOpen && selector.key(STDIN) == null && !toServer.hasRemaining();
                for (Ready ready : stdinReady ? selector.selectNow() : selector.select()) {
                    if (ready.fd() == STDIN) {
                        stdinReady = true;
                    } else if (ready.isReadable()) {
                        int n = Descriptors.read(sock, fromServer.clear());
                        if (n == 0) {
                            return Command.OK; // the server closed: done
                        }
                        out.write(fromServer.array(), 0, Math.max(n, 0));
                        out.flush();
                    }
                }
                if (stdinReady) {
                    int n = Descriptors.read(STDIN, toServer.clear());
                    toServer.flip();
                    if (n == 0) {
                        stdinOpen = false;
                        Sockets.shutdownOutput(sock); // end of input: the server reads end of stream
                    }
                }
                if (toServer.hasRemaining()) {
                    Descriptors.write(sock, toServer);
                }
                // While input is half sent, wait for the socket to take it, not for more input.
                selector.modify(sock, toServer.hasRemaining() ? Events.READ | Events.WRITE : Events.READ);
                watchStdin(selector, stdinOpen && !toServer.hasRemaining());
            }
        } finally {
            EventLoop.closeQuietly(sock);
        }
    }

    /**
     * Watches stdin, or stops watching it. A regular file cannot be watched by epoll (EPERM); it is then
     * read without waiting, since a file is always ready.
     *
     * @return {@code watch}
     */
    private static boolean watchStdin(Selector selector, boolean watch) throws IOException {
        boolean watched = selector.key(STDIN) != null;
        if (watch && !watched && !stdinUnwatchable) {
            try {
                selector.register(STDIN, Events.READ);
            } catch (NativeIOException e) {
                if (e.errno() != EPERM) {
                    throw e;
                }
                stdinUnwatchable = true;
            }
        } else if (!watch && watched) {
            selector.unregister(STDIN);
        }
        return watch;
    }
}
