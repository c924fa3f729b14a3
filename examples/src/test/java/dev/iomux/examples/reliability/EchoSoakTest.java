package dev.iomux.examples.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.iomux.Selectors;
import dev.iomux.examples.EchoServerAccess;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Async;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Load: the README's echo server, in this process, against {@link SoakClient} in another
 * process: thousands of loopback connections held at once, each echoing its own pseudo-random payload,
 * every byte compared end to end; then the server's open descriptors and its native blocks must be back
 * where they started. Run on poll and epoll (select cannot watch descriptors past 1023).
 *
 * <p>Size: {@value #DEFAULT_CONNECTIONS} connections of 1..{@value #DEFAULT_MAX_BYTES} bytes each in
 * {@code mvn verify}; {@code -Diomux.soak.connections=8000} (and {@code -Diomux.soak.maxBytes}) for a
 * manual run, up to what the descriptor limit allows (see docs/RELIABILITY.md).
 */
@ExtendWith(LeakCheck.class)
class EchoSoakTest {
    static final int DEFAULT_CONNECTIONS = 4000;
    static final int DEFAULT_MAX_BYTES = 16384;
    private static final long CLIENT_DEADLINE_SECONDS = 240;
    private static final Pattern RESULT = Pattern.compile("RESULT connections=(\\d+) sent=(\\d+) received=(\\d+) "
            + "expected=(\\d+) mismatched=(\\d+) incomplete=(\\d+) millis=(\\d+)");

    @ParameterizedTest
    @ValueSource(strings = {"poll", "epoll"})
    void thousandsOfConnectionsEchoEveryByteAndTheServerGivesEverythingBack(String backend) throws Exception {
        int connections = Integer.getInteger("iomux.soak.connections", DEFAULT_CONNECTIONS);
        int maxBytes = Integer.getInteger("iomux.soak.maxBytes", DEFAULT_MAX_BYTES);
        long seed = Long.getLong("iomux.soak.seed", 6);
        // The server needs one descriptor per connection besides the JVM's own; the JVM raises its soft
        // limit to the hard one by itself (-XX:+MaxFDLimit), this makes sure of it.
        long limit = Descriptors.raiseLimit(connections + 1000L);
        assertThat(limit).as("RLIMIT_NOFILE for %d connections", connections).isGreaterThan(connections + 200L);

        Map<Integer, String> fdsBefore = LeakCheck.openDescriptors();
        long blocksBefore = NativeBuffer.liveBlocks();
        long bytesBefore = NativeBuffer.liveBytes();

        int listener = Sockets.listen(new InetSocketAddress("127.0.0.1", 0), 4096);
        int port = ((InetSocketAddress) Sockets.localAddress(listener)).getPort();
        AtomicBoolean running = new AtomicBoolean(true);
        String previous = System.getProperty(Selectors.BACKEND_PROPERTY);
        System.setProperty(Selectors.BACKEND_PROPERTY, backend);
        CompletableFuture<Void> server;
        try {
            server = Async.run(() -> {
                try {
                    EchoServerAccess.serve(listener, running::get);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            // Selectors.open() reads the property when the server opens its selector.
            long until = System.nanoTime() + 10_000_000_000L;
            while (Descriptors.openCount() <= fdsBefore.size() + 1 && System.nanoTime() < until) {
                Thread.sleep(10);
            }
        } finally {
            restore(previous);
        }
        // Sockets only: the client's pipes and the jar files the JVM opens as classes load are not the server's.
        long serverIdle = sockets(); // the listener, and the JVM's own

        Path log = Path.of("target", "soak-client-" + backend + ".log");
        Files.createDirectories(log.getParent());
        Process client = new ProcessBuilder(javaCommand(), "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), SoakClient.class.getName(),
                Integer.toString(port), Integer.toString(connections), Long.toString(seed), Integer.toString(maxBytes),
                Long.toString(CLIENT_DEADLINE_SECONDS))
                .redirectError(log.toFile()).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        CompletableFuture<Void> reader = Async.run(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII))) {
                for (String line; (line = r.readLine()) != null;) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        long start = System.nanoTime();
        String result;
        int heldByServer;
        long blocksWhileHolding;
        try {
            String held = lines.poll(120, TimeUnit.SECONDS);
            assertThat(held).as("the client's first line (stderr in %s)", log).isEqualTo("HELD " + connections);
            // All connected as far as the client knows; the server has them once it has accepted them all.
            long until = System.nanoTime() + 120_000_000_000L;
            while (sockets() < serverIdle + connections && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            heldByServer = (int) (sockets() - serverIdle);
            blocksWhileHolding = NativeBuffer.liveBlocks();
            assertThat(heldByServer).as("connections the server holds at once").isGreaterThanOrEqualTo(connections);
            try (OutputStream go = client.getOutputStream()) {
                go.write("GO\n".getBytes(StandardCharsets.US_ASCII));
            }
            assertThat(client.waitFor(CLIENT_DEADLINE_SECONDS + 30, TimeUnit.SECONDS))
                    .as("the client ends (stderr in %s)", log).isTrue();
            reader.get(10, TimeUnit.SECONDS);
            List<String> rest = new ArrayList<>();
            lines.drainTo(rest);
            result = rest.stream().filter(l -> l.startsWith("RESULT")).findFirst()
                    .orElseThrow(() -> new AssertionError("no RESULT line from the client: " + rest + ", see " + log));
            assertThat(client.exitValue()).as("client exit code; %s", result).isZero();
        } finally {
            client.destroyForcibly();
            client.waitFor(10, TimeUnit.SECONDS);
            client.getInputStream().close();
            client.getErrorStream().close();
            client.getOutputStream().close();
        }

        Matcher m = RESULT.matcher(result);
        assertThat(m.find()).as(result).isTrue();
        long expected = Long.parseLong(m.group(4));
        assertThat(Long.parseLong(m.group(2))).as("bytes sent; %s", result).isEqualTo(expected);
        assertThat(Long.parseLong(m.group(3))).as("bytes echoed back; %s", result).isEqualTo(expected);
        assertThat(Integer.parseInt(m.group(5))).as("connections with a wrong byte; %s", result).isZero();
        assertThat(Integer.parseInt(m.group(6))).as("connections short of their payload; %s", result).isZero();

        // The server closes each connection when it reads the client's end of stream.
        long until = System.nanoTime() + 60_000_000_000L;
        while (sockets() > serverIdle && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertThat(sockets()).as("server sockets once every client left").isEqualTo(serverIdle);
        running.set(false);
        server.get(30, TimeUnit.SECONDS);
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertThat(LeakCheck.leaked(fdsBefore, LeakCheck.openDescriptors())).as("descriptors left by the server")
                .isEmpty();
        assertThat(NativeBuffer.liveBlocks()).as("native blocks left by the server").isEqualTo(blocksBefore);
        assertThat(NativeBuffer.liveBytes()).as("native bytes left by the server").isEqualTo(bytesBefore);
        System.out.printf("SOAK on %s: %d connections held by the server at once, %d bytes echoed each way, "
                + "0 lost or reordered, %d ms in all (client transfer %s ms); server descriptors %d before, %d after; "
                + "native blocks %d before, %d while holding, %d after%n", backend, heldByServer, expected, millis,
                m.group(7), fdsBefore.size(), LeakCheck.openDescriptors().size(), blocksBefore, blocksWhileHolding,
                NativeBuffer.liveBlocks());
    }

    /** Sockets open in this process, from /proc/self/fd. */
    private static long sockets() throws IOException {
        return LeakCheck.openDescriptors().values().stream().filter(t -> t.startsWith("socket:")).count();
    }

    private static String javaCommand() {
        return ProcessHandle.current().info().command()
                .orElseThrow(() -> new AssertionError("cannot tell this JVM's java command"));
    }

    private static void restore(String previous) {
        if (previous == null) {
            System.clearProperty(Selectors.BACKEND_PROPERTY);
        } else {
            System.setProperty(Selectors.BACKEND_PROPERTY, previous);
        }
    }
}
