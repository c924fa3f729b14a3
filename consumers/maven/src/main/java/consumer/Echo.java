package consumer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;

/**
 * A user's program on iomux: a selector sees a pipe readable, then an echo server on loopback answers a
 * client. Prints one line per check and exits non-zero at the first that fails.
 */
public final class Echo {
    private Echo() {
    }

    public static void main(String[] args) throws Exception {
        try (Selector selector = Selectors.open()) {
            check(selector.backend().equals("epoll"), "Selectors.open() gives epoll, got " + selector.backend());
            int[] pipe = Descriptors.pipe();
            try {
                selector.register(pipe[0], Events.READ);
                check(selector.select(Duration.ZERO).isEmpty(), "an empty pipe is not readable");
                Descriptors.write(pipe[1], new byte[] {42}, 0, 1);
                List<Ready> ready = selector.select(Duration.ofSeconds(5));
                check(ready.size() == 1 && ready.get(0).fd() == pipe[0] && ready.get(0).isReadable(),
                        "the pipe is readable after a write: " + ready);
            } finally {
                selector.unregister(pipe[0]);
                Descriptors.close(pipe[0]);
                Descriptors.close(pipe[1]);
            }
        }

        int listener = Sockets.listen(new InetSocketAddress("127.0.0.1", 0), 16);
        int port = ((InetSocketAddress) Sockets.localAddress(listener)).getPort();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread server = new Thread(() -> {
            try {
                serve(listener, running::get);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "echo");
        server.start();
        try (Socket client = new Socket("127.0.0.1", port)) {
            client.setSoTimeout(5000);
            byte[] line = "hello iomux\n".getBytes(StandardCharsets.US_ASCII);
            OutputStream out = client.getOutputStream();
            out.write(line);
            out.flush();
            InputStream in = client.getInputStream();
            byte[] back = in.readNBytes(line.length);
            check(new String(back, StandardCharsets.US_ASCII).equals("hello iomux\n"),
                    "the echo server on port " + port + " sends the line back");
        } finally {
            running.set(false);
            server.join(5000);
        }
        check(!server.isAlive(), "the echo server stops");
        System.out.println("consumer: all checks passed");
    }

    /** Echoes every connection accepted on {@code listener} while {@code running} says so (README's loop). */
    static void serve(int listener, java.util.function.BooleanSupplier running) throws IOException {
        try (Selector selector = Selectors.open()) {
            selector.register(listener, Events.READ);
            while (running.getAsBoolean()) {
                for (Ready ready : selector.select(Duration.ofMillis(100))) {
                    int fd = ready.fd();
                    if (fd == listener) {
                        int conn = Sockets.accept(listener);
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
                        Descriptors.write(fd, buf);
                        selector.modify(fd, buf.hasRemaining() ? Events.WRITE : Events.READ);
                    } catch (IOException endOrReset) {
                        selector.unregister(fd);
                        Descriptors.close(fd);
                    }
                }
            }
            for (int fd : selector.keys().keySet()) {
                Descriptors.close(fd);
            }
        }
    }

    static void check(boolean ok, String what) {
        System.out.println("consumer: " + (ok ? "ok    " : "FAILED") + " " + what);
        if (!ok) {
            System.exit(1);
        }
    }
}
