package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.iomux.testing.Async;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The echo servers and the line client as real processes on loopback: round trips on every backend
 * (with more data than socket buffers hold, so that writes are partial), a clean shutdown on SIGTERM
 * with clients still connected, and et-echo refusing backends without EDGE.
 */
@ExtendWith(LeakCheck.class)
class EchoProcessTest {

    @ParameterizedTest(name = "echo-server on {0}")
    @ValueSource(strings = {"select", "poll", "epoll"})
    void echoServerEchoesAndShutsDownCleanly(String backend) throws Exception {
        echoesThenStopsOnSigterm("echo-server", backend);
    }

    @ParameterizedTest(name = "select-echo on {0}")
    @ValueSource(strings = {"select", "poll", "epoll"})
    void selectEchoEchoesAndShutsDownCleanly(String backend) throws Exception {
        // A queue limit below one client's burst: the server must stop reading, drain, and read on.
        echoesThenStopsOnSigterm("select-echo", backend, "--queue-limit", "65536");
    }

    @Test
    void edgeTriggeredEchoOnEpoll() throws Exception {
        echoesThenStopsOnSigterm("et-echo", "epoll", "--queue-limit", "65536");
    }

    @ParameterizedTest(name = "et-echo refuses {0}")
    @ValueSource(strings = {"select", "poll"})
    void edgeTriggeredEchoRefusesLevelOnlyBackends(String backend) throws Exception {
        try (CliProcess et = CliProcess.start("et-echo", "--backend", backend, "--port", "0")) {
            assertThat(et.awaitExit()).isEqualTo(Command.USAGE);
            assertThat(et.stderr()).contains("the " + backend + " backend has no edge-triggered mode (Events.EDGE")
                    .contains("--backend epoll");
            assertThat(et.stdout()).as("no status line: it never listened").isEmpty();
        }
    }

    @Test
    void ctrlCStopsCleanlyAndVerboseLogsEachConnection() throws Exception {
        try (CliProcess server = CliProcess.start("echo-server", "--port", "0", "--verbose")) {
            InetSocketAddress address = server.awaitListening();
            // A process started with SIGINT ignored (a background job of a script) keeps it ignored:
            // the JVM installs no handler then, so there is nothing to test.
            String status = Files.readString(Path.of("/proc", Long.toString(server.pid()), "status"));
            long ignored = Long.parseLong(status.replaceAll("(?s).*\\nSigIgn:\\s*([0-9a-f]+).*", "$1"), 16);
            assumeTrue((ignored & (1L << (2 - 1))) == 0, "SIGINT is ignored in processes started here");
            try (Socket a = connect(address)) {
                assertThat(roundTrip(a, "x\n".getBytes(StandardCharsets.US_ASCII))).hasSize(2);
                server.awaitStderr("DEBUG EventLoop: accepted fd");
                Process kill = new ProcessBuilder("kill", "-INT", Long.toString(server.pid())).start();
                assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(server.awaitExit()).as("exit status after SIGINT").isEqualTo(130);
                assertThat(server.stderr())
                        .contains("echo-server stopped: closed the selector, the listener, 1 connection(s)");
            }
        }
    }

    @Test
    void shortOptionsPickTheBackendThePortAndVerbose() throws Exception {
        try (CliProcess server = CliProcess.start("echo-server", "-b", "poll", "-p", "0", "-v")) {
            InetSocketAddress address = server.awaitListening();
            assertThat(server.backend()).isEqualTo("poll");
            try (Socket a = connect(address)) {
                assertThat(roundTrip(a, "x\n".getBytes(StandardCharsets.US_ASCII))).hasSize(2);
                server.awaitStderr("DEBUG EventLoop: accepted fd");
                assertThat(server.terminate()).isEqualTo(143);
            }
        }
    }

    @Test
    void clientSendsStdinAndPrintsReplies() throws Exception {
        try (CliProcess server = CliProcess.start("echo-server", "--port", "0")) {
            InetSocketAddress address = server.awaitListening();
            try (CliProcess client = CliProcess.start("client", "--backend", "poll", "--port",
                    Integer.toString(address.getPort()))) {
                client.stdin().write("hello\nworld\n".getBytes(StandardCharsets.US_ASCII));
                client.stdin().flush();
                client.awaitStdout(s -> s.equals("hello\nworld\n"), "the echo of two lines");
                client.stdin().close(); // end of input: the client half-closes, the server closes, it exits
                assertThat(client.awaitExit()).isZero();
                assertThat(client.stdout()).isEqualTo("hello\nworld\n");
            }
        }
    }

    @Test
    void clientSaysWhenNothingListens() throws Exception {
        int port;
        try (Socket bound = new Socket()) {
            bound.bind(new InetSocketAddress("127.0.0.1", 0)); // bound, not listening: connects are refused
            port = bound.getLocalPort();
            try (CliProcess client = CliProcess.start("client", "--port", Integer.toString(port))) {
                assertThat(client.awaitExit()).isEqualTo(Command.FAILED);
                assertThat(client.stderr()).contains("ECONNREFUSED").contains("is the server running?");
            }
        }
    }

    private static void echoesThenStopsOnSigterm(String command, String backend, String... extra) throws Exception {
        String[] args = new String[4 + extra.length];
        System.arraycopy(new String[] {command, "--backend", backend, "--port=0"}, 0, args, 0, 4);
        System.arraycopy(extra, 0, args, 4, extra.length);
        try (CliProcess server = CliProcess.start(args)) {
            InetSocketAddress address = server.awaitListening();
            assertThat(server.backend()).isEqualTo(backend);
            try (Socket a = connect(address); Socket b = connect(address)) {
                assertThat(roundTrip(a, "hello\n".getBytes(StandardCharsets.US_ASCII)))
                        .isEqualTo("hello\n".getBytes(StandardCharsets.US_ASCII));
                byte[] big1 = random(1 << 20, 1);
                byte[] big2 = random(1 << 20, 2);
                CompletableFuture<byte[]> ea = Async.supply(() -> roundTrip(a, big1));
                CompletableFuture<byte[]> eb = Async.supply(() -> roundTrip(b, big2));
                assertThat(ea.get(60, TimeUnit.SECONDS)).isEqualTo(big1);
                assertThat(eb.get(60, TimeUnit.SECONDS)).isEqualTo(big2);

                // SIGTERM with both clients connected: the loop closes them, the listener and the selector.
                assertThat(server.terminate()).as("exit status after SIGTERM").isEqualTo(143);
                assertThat(server.stderr())
                        .contains(command + " shutting down (SIGINT or SIGTERM)")
                        .contains(command + " stopped: closed the selector, the listener, 2 connection(s) and the spare descriptor");
                assertThat(a.getInputStream().read()).as("end of stream after the shutdown").isEqualTo(-1);
            }
        }
    }

    static Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket(address.getAddress(), address.getPort());
        s.setSoTimeout(30_000);
        return s;
    }

    /** Writes the payload from another thread while reading its echo here. */
    static byte[] roundTrip(Socket s, byte[] payload) {
        try {
            CompletableFuture<Void> writer = Async.run(() -> {
                try {
                    s.getOutputStream().write(payload);
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            byte[] echoed = new byte[payload.length];
            new DataInputStream(s.getInputStream()).readFully(echoed);
            writer.get(30, TimeUnit.SECONDS);
            return echoed;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
