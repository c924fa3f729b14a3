package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.iomux.Selectors;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Async;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The README's echo example is this module's ReadmeEcho, and it echoes on every backend. */
@ExtendWith(LeakCheck.class)
class ReadmeEchoTest {

    @Test
    void theReadmeShowsTheCompiledCode() throws IOException {
        List<String> source = Files.readAllLines(Path.of("src/main/java/dev/iomux/examples/ReadmeEcho.java"));
        int begin = source.indexOf("    // README:begin");
        int end = source.indexOf("    // README:end");
        assertThat(begin).as("README:begin marker").isNotNegative();
        assertThat(end).as("README:end marker").isGreaterThan(begin);
        // The README's example is a whole class: the method sits there at member indentation, as here.
        String region = String.join("\n", source.subList(begin + 1, end));
        String readme = Files.readString(Path.of("..", "README.md"));
        assertThat(readme).as("README.md must show ReadmeEcho's code between its README markers, verbatim")
                .contains(region);
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "poll", "select"})
    void echoesOnEveryBackend(String backend) throws Exception {
        String previous = System.getProperty(Selectors.BACKEND_PROPERTY);
        System.setProperty(Selectors.BACKEND_PROPERTY, backend);
        AtomicBoolean running = new AtomicBoolean(true);
        int listener = Sockets.listen(new InetSocketAddress("127.0.0.1", 0), 16);
        int port = ((InetSocketAddress) Sockets.localAddress(listener)).getPort();
        CompletableFuture<Void> server = Async.run(() -> {
            try {
                ReadmeEcho.serve(listener, running::get);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            // A line, then 2 MiB from each of two clients at once: more than socket buffers hold,
            // so the server meets partial writes and waits for WRITE.
            assertThat(roundTrip(port, "hello\n".getBytes(StandardCharsets.US_ASCII))).isEqualTo("hello\n".getBytes(StandardCharsets.US_ASCII));
            byte[] a = random(2 << 20, 1);
            byte[] b = random(2 << 20, 2);
            CompletableFuture<byte[]> ca = Async.supply(() -> roundTrip(port, a));
            CompletableFuture<byte[]> cb = Async.supply(() -> roundTrip(port, b));
            assertThat(ca.get(60, TimeUnit.SECONDS)).isEqualTo(a);
            assertThat(cb.get(60, TimeUnit.SECONDS)).isEqualTo(b);
        } finally {
            running.set(false);
            server.get(30, TimeUnit.SECONDS);
            if (previous == null) {
                System.clearProperty(Selectors.BACKEND_PROPERTY);
            } else {
                System.setProperty(Selectors.BACKEND_PROPERTY, previous);
            }
        }
        assertThat(dev.iomux.io.Descriptors.isOpen(listener)).as("the server closes its listener").isFalse();
    }

    /** Sends everything from one thread while reading the echo on this one, then closes. */
    private static byte[] roundTrip(int port, byte[] payload) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            CompletableFuture<Void> writer = Async.run(() -> {
                try {
                    out.write(payload);
                    out.flush();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            byte[] echoed = new byte[payload.length];
            InputStream in = s.getInputStream();
            new DataInputStream(in).readFully(echoed);
            writer.get(30, TimeUnit.SECONDS);
            return echoed;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return Arrays.copyOf(bytes, size);
    }
}
