package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code iomux http-hello} as a real process: keep-alive, pipelining in order, and the errors. */
@ExtendWith(LeakCheck.class)
class HttpHelloProcessTest {

    /** One parsed response. */
    private record Response(int status, Map<String, String> headers, String body) {
    }

    /** Reads one response; a response to HEAD has no body whatever its Content-Length says. */
    private static Response read(InputStream in, boolean head) throws IOException {
        String statusLine = line(in);
        assertThat(statusLine).startsWith("HTTP/1.1 ");
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h; !(h = line(in)).isEmpty(); ) {
            int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        int length = head ? 0 : Integer.parseInt(headers.get("content-length"));
        byte[] body = in.readNBytes(length);
        assertThat(body).hasSize(length);
        return new Response(Integer.parseInt(statusLine.substring(9, 12)), headers, new String(body, StandardCharsets.US_ASCII));
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("end of stream inside a response head: " + b);
            }
            b.write(c);
        }
        String s = b.toString(StandardCharsets.US_ASCII);
        assertThat(s).as("CRLF line endings").endsWith("\r");
        return s.substring(0, s.length() - 1);
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket(address.getAddress(), address.getPort());
        s.setSoTimeout(30_000);
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"select", "poll", "epoll"})
    void keepAliveAndPipelinedRequestsAnsweredInOrder(String backend) throws Exception {
        try (CliProcess server = CliProcess.start("http-hello", "--backend", backend, "--port", "0")) {
            InetSocketAddress address = server.awaitListening();
            String hello = "hello from iomux http-hello on " + backend + "\n";
            try (Socket s = connect(address)) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                // Keep-alive: two requests, one after the other, on one connection.
                for (int i = 0; i < 2; i++) {
                    send(s, "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n");
                    Response r = read(in, false);
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo(hello);
                    assertThat(r.headers()).doesNotContainKey("connection");
                }
                // Pipelined, in one write: GET, HEAD, POST with a body (405), GET that closes.
                send(s, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                        + "GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                Response get = read(in, false);
                Response head = read(in, true);
                Response post = read(in, false);
                Response last = read(in, false);
                assertThat(get.status()).isEqualTo(200);
                assertThat(get.body()).isEqualTo(hello);
                assertThat(head.status()).isEqualTo(200);
                assertThat(head.headers()).containsEntry("content-length", Integer.toString(hello.length()));
                assertThat(post.status()).isEqualTo(405);
                assertThat(post.headers()).containsEntry("allow", "GET, HEAD");
                assertThat(last.status()).isEqualTo(200);
                assertThat(last.headers()).containsEntry("connection", "close");
                assertThat(in.read()).as("closed after Connection: close").isEqualTo(-1);
            }
            assertThat(server.terminate()).isEqualTo(143);
        }
    }

    @Test
    void garbageOversizedHeadsAndOldClientsAreAnsweredAndClosed() throws Exception {
        try (CliProcess server = CliProcess.start("http-hello", "--port", "0", "--max-head", "1024")) {
            InetSocketAddress address = server.awaitListening();
            assertThat(answerThenEnd(address, "\u0016\u0003\u0001 not http at all\r\n\r\n").status()).isEqualTo(400);
            assertThat(answerThenEnd(address, "GET / HTTP/1.1\r\n\r\n").status()).as("no Host").isEqualTo(400);
            assertThat(answerThenEnd(address, "GET / HTTP/2.0\r\nHost: x\r\n\r\n").status()).isEqualTo(400);
            assertThat(answerThenEnd(address, "GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n").status()).isEqualTo(400);
            assertThat(answerThenEnd(address, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(2000) + "\r\n\r\n").status())
                    .as("a head over --max-head").isEqualTo(431);
            assertThat(answerThenEnd(address, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").status())
                    .isEqualTo(501);
            Response old = answerThenEnd(address, "GET / HTTP/1.0\r\n\r\n");
            assertThat(old.status()).isEqualTo(200);
            assertThat(old.headers()).containsEntry("connection", "close");

            // The server is still fine.
            try (Socket s = connect(address)) {
                send(s, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                Response r = read(new BufferedInputStream(s.getInputStream()), false);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.headers()).containsEntry("connection", "keep-alive");
            }
        }
    }

    /**
     * An idle keep-alive connection is closed after --idle-timeout; one that keeps talking is not, and a
     * connection that never sends anything is closed too (it would hold a descriptor forever otherwise).
     */
    @Test
    void idleConnectionsAreClosedAfterTheIdleTimeoutAndBusyOnesAreNot() throws Exception {
        try (CliProcess server = CliProcess.start("http-hello", "--port", "0", "--idle-timeout", "2")) {
            InetSocketAddress address = server.awaitListening();
            try (Socket idle = connect(address); Socket silent = connect(address); Socket busy = connect(address)) {
                InputStream idleIn = new BufferedInputStream(idle.getInputStream());
                InputStream busyIn = new BufferedInputStream(busy.getInputStream());
                send(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(read(idleIn, false).status()).isEqualTo(200);
                // The busy client makes a request every 200 ms for 3 s, past the 2 s timeout; its gaps are
                // 1.8 s short of it, room for a stalled machine.
                for (int i = 0; i < 15; i++) {
                    send(busy, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                    assertThat(read(busyIn, false).status()).as("busy request %d", i).isEqualTo(200);
                    Thread.sleep(200);
                }
                // By now both others are past their timeout; the server closes them (EOF, bounded wait).
                idle.setSoTimeout(10_000);
                silent.setSoTimeout(10_000);
                assertThat(idleIn.read()).as("idle keep-alive connection closed").isEqualTo(-1);
                assertThat(silent.getInputStream().read()).as("silent connection closed").isEqualTo(-1);
                send(busy, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(read(busyIn, false).status()).as("the busy connection is still served").isEqualTo(200);
            }
            assertThat(server.terminate()).isEqualTo(143);
        }
    }

    /** Sends a request on a new connection; reads one response and then end of stream. */
    private static Response answerThenEnd(InetSocketAddress address, String request) throws IOException {
        try (Socket s = connect(address)) {
            send(s, request);
            InputStream in = new BufferedInputStream(s.getInputStream());
            Response r = read(in, false);
            if (r.status() != 200) {
                assertThat(r.headers()).containsEntry("connection", "close");
            }
            assertThat(in.read()).as("end of stream after answering " + request.lines().findFirst().orElse(""))
                    .isEqualTo(-1);
            return r;
        }
    }
}
