package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import dev.iomux.testing.Async;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code iomux chat} as a real process: broadcast to the others only, and a slow client told and dropped. */
@ExtendWith(LeakCheck.class)
class ChatProcessTest {

    /** A chat participant: a socket, a line reader, and its name as the server sees it. */
    private static final class Peer implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;
        final String name;

        Peer(InetSocketAddress server, int receiveBuffer) throws IOException {
            socket = new Socket();
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer); // before connect: it sets the TCP window
            }
            socket.connect(server);
            socket.setSoTimeout(30_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            name = "127.0.0.1:" + socket.getLocalPort();
        }

        void say(String line) throws IOException {
            OutputStream out = socket.getOutputStream();
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /** Reads lines until one matches; returns every line read, that one last. */
        List<String> readUntil(Predicate<String> wanted) throws IOException {
            List<String> lines = new ArrayList<>();
            for (String line; (line = in.readLine()) != null; ) {
                lines.add(line);
                if (wanted.test(line)) {
                    return lines;
                }
            }
            throw new IOException("end of stream before the line wanted; read " + lines);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void eachLineGoesToEveryOtherClient() throws Exception {
        try (CliProcess chat = CliProcess.start("chat", "--port", "0", "--backend", "poll")) {
            InetSocketAddress address = chat.awaitListening();
            try (Peer a = new Peer(address, 0); Peer b = new Peer(address, 0); Peer c = new Peer(address, 0)) {
                a.readUntil(line -> line.equals("* " + c.name + " joined")); // all three are in
                b.readUntil(line -> line.equals("* " + c.name + " joined"));

                a.say("hello from a");
                assertThat(b.readUntil(line -> line.contains("hello"))).last().isEqualTo(a.name + "> hello from a");
                assertThat(c.readUntil(line -> line.contains("hello"))).last().isEqualTo(a.name + "> hello from a");

                b.say("and from b");
                List<String> toA = a.readUntil(line -> line.contains("from b"));
                assertThat(toA).last().isEqualTo(b.name + "> and from b");
                assertThat(toA).as("a is not sent its own line").noneMatch(line -> line.contains("hello from a"));

                c.close();
                assertThat(a.readUntil(line -> line.startsWith("* " + c.name))).last().isEqualTo("* " + c.name + " left");
            }
            assertThat(chat.terminate()).isEqualTo(143);
        }
    }

    @Test
    void aSlowClientIsToldAndDroppedWhileTheOthersGoOn() throws Exception {
        int lines = 2000;
        try (CliProcess chat = CliProcess.start("chat", "--port", "0", "--queue-limit", "16384", "--grace", "20s")) {
            InetSocketAddress address = chat.awaitListening();
            // A small receive buffer: the slow client's TCP window fills after a few kilobytes.
            try (Peer slow = new Peer(address, 4096); Peer a = new Peer(address, 0); Peer b = new Peer(address, 0)) {
                a.readUntil(line -> line.equals("* " + b.name + " joined"));

                // b reads in a thread of its own and counts a's lines; a sends in chunks, each once b
                // has the one before, so that b never falls behind by more than a chunk (~5 KB) and only
                // the slow client overflows.
                AtomicInteger seen = new AtomicInteger();
                CompletableFuture<List<String>> received = Async.supply(() -> {
                    try {
                        return b.readUntil(line -> line.startsWith(a.name + "> ") && seen.incrementAndGet() == lines);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                String padding = "x".repeat(90);
                int chunk = 50;
                for (int first = 0; first < lines; first += chunk) {
                    StringBuilder burst = new StringBuilder();
                    for (int i = first; i < first + chunk; i++) {
                        burst.append(padding).append(" line ").append(i).append('\n');
                    }
                    a.socket.getOutputStream().write(burst.toString().getBytes(StandardCharsets.US_ASCII));
                    a.socket.getOutputStream().flush();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (seen.get() < first + chunk && !received.isDone()) {
                        assertThat(System.nanoTime()).as("b received line %d in time", first + chunk - 1).isLessThan(deadline);
                        Thread.sleep(1);
                    }
                }

                // b gets every line, in order, although the slow client reads nothing.
                List<String> got = received.get(60, TimeUnit.SECONDS);
                List<String> fromA = got.stream().filter(l -> l.startsWith(a.name + "> ")).toList();
                assertThat(fromA).hasSize(lines);
                for (int i = 0; i < lines; i++) {
                    assertThat(fromA.get(i)).isEqualTo(a.name + "> " + padding + " line " + i);
                }
                chat.awaitStderr("dropping slow client " + slow.name);
                List<String> toB = new ArrayList<>(got);
                if (toB.stream().noneMatch(line -> line.startsWith("* " + slow.name))) {
                    toB.addAll(b.readUntil(line -> line.startsWith("* " + slow.name)));
                }
                assertThat(toB).as("b is told").contains("* " + slow.name + " was dropped: too slow");

                // Now the slow client reads: the backlog the kernel held, then the notice, then end of stream.
                List<String> backlog = slow.readUntil(line -> line.startsWith("* you are too slow"));
                assertThat(backlog).last().asString().contains("more than 16384 bytes were waiting for you");
                assertThat(slow.in.readLine()).as("closed after the notice").isNull();
                chat.awaitStderr("dropped slow client " + slow.name + " after telling it");

                // And the others still talk.
                b.say("still here");
                assertThat(a.readUntil(line -> line.contains("still here"))).last().isEqualTo(b.name + "> still here");
            }
        }
    }
}
