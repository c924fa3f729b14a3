package dev.iomux.examples;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;

/**
 * The README's echo server: the echo server of Python's {@code selectors} documentation, on raw
 * descriptors. Run it with
 * {@code mvn -q -pl examples exec:java} and talk to it with {@code nc 127.0.0.1 7007}. README.md shows
 * this file's code between the README markers; ReadmeEchoTest checks they match and runs it.
 */
public final class ReadmeEcho {
    private ReadmeEcho() {
    }

    /**
     * Serves on 127.0.0.1:7007, or the port given as the first argument, until killed.
     *
     * @param args an optional port
     * @throws IOException if the port is taken
     */
    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 7007;
        int listener = Sockets.listen(new InetSocketAddress("127.0.0.1", port), 128);
        System.out.println("echo on " + Sockets.localAddress(listener) + "; try: nc 127.0.0.1 " + port);
        serve(listener, () -> true);
    }

    // README:begin
    /** Echoes every connection accepted on {@code listener} while {@code running} says so. */
    static void serve(int listener, BooleanSupplier running) throws IOException {
        try (Selector selector = Selectors.open()) {          // epoll, else poll, else select
            selector.register(listener, Events.READ);
            while (running.getAsBoolean()) {
                for (Ready ready : selector.select(Duration.ofMillis(200))) {
                    int fd = ready.fd();
                    if (fd == listener) {                      // readable listener: a connection
                        int conn = Sockets.accept(listener);   // WOULD_BLOCK (-1) if it went away
                        if (conn >= 0) {
                            selector.register(conn, Events.READ, ByteBuffer.allocate(4096));
                        }
                        continue;
                    }
                    ByteBuffer buf = (ByteBuffer) ready.attachment();
                    try {
                        if (ready.isReadable()) {
                            if (Descriptors.read(fd, buf.clear()) == 0) {
                                throw new IOException("end of stream");
                            }
                            buf.flip();
                        }
                        Descriptors.write(fd, buf);           // may write less than all of it
                        // Output pending: wait until writable, and read nothing more until then.
                        selector.modify(fd, buf.hasRemaining() ? Events.WRITE : Events.READ);
                    } catch (IOException endOrReset) {        // 0 bytes read, ECONNRESET, EPIPE
                        selector.unregister(fd);
                        Descriptors.close(fd);
                    }
                }
            }
            for (int fd : selector.keys().keySet()) {
                Descriptors.close(fd);                        // the listener and open connections
            }
        }
    }
    // README:end
}
