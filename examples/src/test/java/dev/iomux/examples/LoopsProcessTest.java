package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code --loops 2} on the servers that take it, as real processes: many connections, every answer
 * right, both loops served some (SO_REUSEPORT hashes each connection's 4-tuple to one listener, so with
 * 48 connections the chance that one loop gets none is 2^-47), and on SIGTERM every loop stops and says
 * what it accepted and closed. Bad values are usage errors that name the value.
 */
@ExtendWith(LeakCheck.class)
class LoopsProcessTest {
    private static final int CONNECTIONS = 48;
    private static final Pattern STOPPED = Pattern.compile(
            "(\\S+) loop (\\d) of 2 stopped: closed the selector, the listener, (\\d+) connection\\(s\\) and the spare "
                    + "descriptor; it accepted (\\d+) connection\\(s\\)");

    @ParameterizedTest(name = "{0} --loops 2")
    @ValueSource(strings = {"http-hello", "echo-server"})
    void twoLoopsBothServeAndAllStop(String command) throws Exception {
        try (CliProcess server = CliProcess.start(command, "--loops", "2", "--port", "0")) {
            InetSocketAddress address = server.awaitListening();
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < CONNECTIONS; i++) {
                    Socket s = new Socket(address.getAddress(), address.getPort());
                    s.setSoTimeout(30_000);
                    clients.add(s);
                }
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < clients.size(); i++) {
                        String sent = command.equals("http-hello")
                                ? "GET /" + i + " HTTP/1.1\r\nHost: x\r\n\r\n" : "line " + i + " round " + round + "\n";
                        clients.get(i).getOutputStream().write(sent.getBytes(StandardCharsets.US_ASCII));
                    }
                    for (int i = 0; i < clients.size(); i++) {
                        InputStream in = clients.get(i).getInputStream();
                        if (command.equals("http-hello")) {
                            String head = readHead(in);
                            assertThat(head).startsWith("HTTP/1.1 200 OK\r\n");
                            int length = Integer.parseInt(head.replaceAll("(?s).*Content-Length: (\\d+).*", "$1"));
                            assertThat(new String(in.readNBytes(length), StandardCharsets.US_ASCII))
                                    .startsWith("hello from iomux http-hello");
                        } else {
                            String want = "line " + i + " round " + round + "\n";
                            assertThat(new String(in.readNBytes(want.length()), StandardCharsets.US_ASCII))
                                    .isEqualTo(want);
                        }
                    }
                }
                assertThat(server.terminate()).as(server.stderr()).isEqualTo(143);
            } finally {
                for (Socket s : clients) {
                    s.close();
                }
            }
            Matcher m = STOPPED.matcher(server.stderr());
            int loops = 0;
            int accepted = 0;
            int closed = 0;
            while (m.find()) {
                loops++;
                assertThat(m.group(1)).isEqualTo(command);
                assertThat(Integer.parseInt(m.group(4))).as("loop %s accepted some: %s", m.group(2), server.stderr())
                        .isPositive();
                accepted += Integer.parseInt(m.group(4));
                closed += Integer.parseInt(m.group(3));
            }
            assertThat(loops).as(server.stderr()).isEqualTo(2);
            assertThat(accepted).isEqualTo(CONNECTIONS);
            assertThat(closed).as("every connection still open at SIGTERM closed by its loop").isEqualTo(CONNECTIONS);
        }
    }

    @ParameterizedTest(name = "--loops {0}")
    @ValueSource(strings = {"0", "-1", "x", "65", "1.5"})
    void badLoopCountsAreUsageErrorsNamingTheValue(String value) throws Exception {
        try (CliProcess server = CliProcess.start("http-hello", "--port", "0", "--loops=" + value)) {
            assertThat(server.awaitExit()).isEqualTo(Command.USAGE);
            assertThat(server.stderr()).contains("iomux http-hello: --loops must be a whole number from 1 to 64 (got '"
                    + value + "')");
            assertThat(server.stdout()).as("no status line: it never listened").isEmpty();
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("end of stream inside a response head: " + b);
            }
            b.append((char) c);
        }
        return b.toString();
    }

}
