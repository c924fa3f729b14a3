package dev.iomux.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

import dev.iomux.Events;
import dev.iomux.SelectorKey;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;

/**
 * {@code iomux http-hello}: a minimal HTTP/1.1 server that says hello.
 *
 * <p>Run it with {@code ./iomux http-hello --port 8787}, then {@code curl 127.0.0.1:8787}, or load it
 * with {@code wrk -t1 -c100 -d5s http://127.0.0.1:8787/}.
 *
 * <p>Tutorials of select and epoll servers end with "now try it with curl"; this is the server that
 * request deserves, on the classic epoll loop (one handler per descriptor, interest switched between
 * reading and writing). HTTP/1.1 as RFC 9112 has it, minimally: persistent
 * connections (HTTP/1.0 only with {@code Connection: keep-alive}), pipelined requests answered in order
 * (responses go into one output buffer; when it is full, parsing waits for the client to read), a
 * {@code Content-Length} body read and ignored, 400 for anything that does not parse (including a
 * missing {@code Host}), 431 for a request head over {@code --max-head} bytes, 405 for methods other than
 * GET and HEAD, 501 for {@code Transfer-Encoding}. After an error or {@code Connection: close} it
 * shuts down its side and reads until the client closes (at most two seconds), so the client is not
 * reset before it has read the answer. A connection that moves no byte either way for
 * {@code --idle-timeout} seconds is closed (RFC 9112 section 9.8: a server may close an idle connection
 * at any time), so that idle keep-alive clients cannot hold the server's descriptors forever.
 */
final class HttpHello {
    static final String USAGE = """
            usage: iomux http-hello [-b|--backend select|poll|epoll|uring|uring-single] [--host 127.0.0.1]
                                    [-p|--port 8787] [--max-head 8192] [--idle-timeout 60] [--loops 1] [-v|--verbose]
              A minimal HTTP/1.1 server: keep-alive, pipelining, 400 for garbage. Try: curl 127.0.0.1:8787
              --max-head: the largest request head (request line and headers) accepted, in bytes.
              --idle-timeout: seconds without a byte either way after which a connection is closed.
              --loops N: N event loops (1 to 64; one per core is the point), each a thread with its own
                selector and its own SO_REUSEPORT listener on the port; the kernel spreads connections."""
            + "\n" + Command.SERVER_EXIT;

    private static final System.Logger LOG = System.getLogger(HttpHello.class.getName());
    private static final int OUT_SIZE = 64 * 1024;
    private static final int MAX_BODY = 1 << 20;
    private static final long LINGER_NANOS = Duration.ofSeconds(2).toNanos();
    /** How often the deadlines (lingering, idle) are checked: they are seconds long, a sweep costs O(open). */
    private static final long SWEEP_NANOS = Duration.ofMillis(250).toNanos();

    private final EventLoop loop;
    private final int maxHead;
    private final long idleNanos;
    private final byte[] hello;
    private final byte[] okKeepAlive;
    private final byte[] okHttp10KeepAlive;
    private final byte[] okClose;
    private final Set<Connection> open = new HashSet<>();
    private long nextSweep;

    private HttpHello(EventLoop loop, int maxHead, int idleSeconds) {
        this.loop = loop;
        this.maxHead = maxHead;
        this.idleNanos = Duration.ofSeconds(idleSeconds).toNanos();
        this.hello = ("hello from iomux http-hello on " + loop.selector().backend() + "\n").getBytes(StandardCharsets.US_ASCII);
        this.okKeepAlive = head(200, hello.length, true, false);
        this.okHttp10KeepAlive = head(200, hello.length, true, true);
        this.okClose = head(200, hello.length, false, false);
    }

    /** A response head; HEAD gets the same head as GET (RFC 9110 section 9.3.2), without the body. */
    private static byte[] head(int status, int length, boolean keepAlive, boolean http10) {
        return ("HTTP/1.1 " + status + " " + reason(status) + "\r\n"
                + "Content-Type: text/plain\r\n"
                + "Content-Length: " + length + "\r\n"
                + (status == 405 ? "Allow: GET, HEAD\r\n" : "")
                + (!keepAlive ? "Connection: close\r\n" : http10 ? "Connection: keep-alive\r\n" : "")
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The subcommand; see {@link Command#run}. */
    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options options = Options.parse("http-hello", args, Set.of("host", "port", "max-head", "idle-timeout", "loops"),
                Set.of()).noPositional();
        int maxHead = options.integer("max-head", 8192, 64, 1 << 20);
        int idleSeconds = options.integer("idle-timeout", 60, 1, 86_400);
        // One HttpHello per loop: its connections and their deadlines belong to that loop's thread.
        return EventLoop.serve("http-hello", options, 8787, Events.READ, loop -> {
            HttpHello server = new HttpHello(loop, maxHead, idleSeconds);
            loop.every(Duration.ofSeconds(1), server::sweep);
            return (key, events) -> {
                for (int conn; (conn = loop.accept()) >= 0; ) {
                    Connection c = server.new Connection(conn);
                    if (loop.register(conn, Events.READ, c)) { // else closed already: nothing to time out
                        server.open.add(c);
                    }
                }
            };
        }, out);
    }

    /** Closes connections past their linger deadline or idle too long. Runs after every select. */
    private void sweep() {
        long now = System.nanoTime();
        if (now - nextSweep < 0) {
            return;
        }
        nextSweep = now + SWEEP_NANOS;
        open.removeIf(c -> {
            boolean lingeredOut = c.lingerDeadline != 0 && now - c.lingerDeadline > 0;
            boolean idle = now - c.lastActive > idleNanos;
            if (lingeredOut || idle) {
                if (idle && !lingeredOut) {
                    LOG.log(System.Logger.Level.DEBUG, () -> "fd " + c.fd + ": idle for "
                            + Duration.ofNanos(idleNanos).toSeconds() + " s, closed");
                }
                loop.close(c.fd);
                return true;
            }
            return false;
        });
    }

    /** A parsed request head, or why it does not parse. */
    private record Request(String method, boolean http10, boolean keepAlive, long bodyLength, int errorStatus,
                           String error) {
        static Request error(int status, String why) {
            return new Request(null, false, false, 0, status, why);
        }
    }

    /** Parses a request head (request line and header lines, without the blank line that ends it). */
    private static Request parse(String head) {
        String[] lines = head.replace("\r", "").split("\n", -1);
        String[] requestLine = lines[0].split(" ", -1);
        if (requestLine.length != 3 || !isToken(requestLine[0]) || requestLine[1].isEmpty()) {
            return Request.error(400, "malformed request line");
        }
        String version = requestLine[2];
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            return Request.error(400, "not HTTP/1.0 or HTTP/1.1: " + version);
        }
        boolean http11 = version.equals("HTTP/1.1");
        boolean close = false;
        boolean keepAlive = false;
        boolean host = false;
        long length = 0;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0 || !isToken(lines[i].substring(0, colon))) {
                return Request.error(400, "malformed header line");
            }
            String name = lines[i].substring(0, colon).toLowerCase(Locale.ROOT);
            String value = lines[i].substring(colon + 1).trim();
            switch (name) {
                case "host" -> host = true;
                case "connection" -> {
                    String v = value.toLowerCase(Locale.ROOT);
                    close |= v.contains("close");
                    keepAlive |= v.contains("keep-alive");
                }
                case "content-length" -> {
                    if (!value.matches("[0-9]{1,9}") || (length != 0 && length != Long.parseLong(value))) {
                        return Request.error(400, "bad Content-Length");
                    }
                    length = Long.parseLong(value);
                    if (length > MAX_BODY) {
                        return Request.error(413, "body over " + MAX_BODY + " bytes");
                    }
                }
                case "transfer-encoding" -> {
                    return Request.error(501, "Transfer-Encoding is not supported");
                }
                default -> { }
            }
        }
        if (http11 && !host) {
            return Request.error(400, "HTTP/1.1 request without Host"); // RFC 9112 section 3.2
        }
        return new Request(requestLine[0], !http11, http11 ? !close : keepAlive && !close, length, 0, null);
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 405 -> "Method Not Allowed";
            case 413 -> "Content Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 501 -> "Not Implemented";
            default -> "Error";
        };
    }

    private final class Connection implements EventLoop.Handler {
        private final ByteBuffer in = ByteBuffer.allocateDirect(maxHead); // write mode: data is [0, position)
        private final ByteBuffer out = ByteBuffer.allocateDirect(OUT_SIZE); // the same
        private final int fd;
        private long bodyToSkip;
        private boolean peerDone;    // the client sent end of stream
        private boolean answering = true; // false once the last response is queued
        private long lingerDeadline; // 0 until the connection lingers
        private long lastActive = System.nanoTime(); // the last byte read or written

        Connection(int fd) {
            this.fd = fd;
        }

        @Override
        public void ready(SelectorKey key, int events) throws IOException {
            try {
                serve(key, events);
            } catch (IOException reset) {
                open.remove(this); // the loop closes it now; its number may be reused at once
                throw reset;
            }
        }

        private void serve(SelectorKey key, int events) throws IOException {
            if (Events.any(events, Events.READ) && in.hasRemaining() && !peerDone) {
                int n = Descriptors.read(fd, in);
                peerDone = n == 0;
                if (n > 0) {
                    lastActive = System.nanoTime();
                }
            }
            boolean outWasFull;
            do {
                outWasFull = answering && answer();
                if (out.position() > 0) {
                    out.flip();
                    if (Descriptors.write(fd, out) > 0) {
                        lastActive = System.nanoTime();
                    }
                    out.compact();
                }
            } while (outWasFull && out.position() == 0);
            if (!answering) {
                in.clear(); // answered for the last time: what it still sends is read and dropped
            }
            if (out.position() == 0 && (peerDone || (!answering && lingerDeadline == 0))) {
                if (peerDone) {
                    open.remove(this);
                    loop.close(fd);
                    return;
                }
                // Everything answered: FIN, then read until the client closes (or the deadline).
                Sockets.shutdownOutput(fd);
                lingerDeadline = System.nanoTime() + LINGER_NANOS;
            }
            int wanted = (in.hasRemaining() && !peerDone ? Events.READ : 0) | (out.position() > 0 ? Events.WRITE : 0);
            if (wanted != key.interest()) {
                loop.selector().modify(fd, wanted);
            }
        }

        /**
         * Answers every complete request in {@code in}, in order, while {@code out} has room.
         *
         * @return true if it stopped for want of room in {@code out}
         */
        private boolean answer() {
            boolean full = false;
            in.flip();
            while (answering) {
                if (bodyToSkip > 0) {
                    int skip = (int) Math.min(bodyToSkip, in.remaining());
                    in.position(in.position() + skip);
                    bodyToSkip -= skip;
                    if (bodyToSkip > 0) {
                        break;
                    }
                }
                if (out.remaining() < 512 + hello.length) {
                    full = true; // answer the rest once the client has taken these
                    break;
                }
                int end = headEnd();
                if (end < 0) {
                    if (in.remaining() == in.capacity()) {
                        respond(431, "request head over " + maxHead + " bytes", false, false);
                    } else if (peerDone && in.hasRemaining()) {
                        respond(400, "end of stream inside a request head", false, false);
                    }
                    break;
                }
                byte[] bytes = new byte[end - in.position()];
                in.get(bytes);
                Request r = parse(new String(bytes, StandardCharsets.ISO_8859_1).stripTrailing());
                if (r.errorStatus() != 0) {
                    respond(r.errorStatus(), r.error(), false, false);
                } else if (r.method().equals("GET") || r.method().equals("HEAD")) {
                    bodyToSkip = r.bodyLength();
                    out.put(r.keepAlive() ? (r.http10() ? okHttp10KeepAlive : okKeepAlive) : okClose);
                    if (r.method().equals("GET")) {
                        out.put(hello);
                    }
                    answering = r.keepAlive();
                } else {
                    bodyToSkip = r.bodyLength();
                    respond(405, "only GET and HEAD", r.keepAlive(), r.http10());
                }
            }
            in.compact();
            return full;
        }

        /** Returns the index just after the blank line that ends the head at {@code in}'s position, or -1. */
        private int headEnd() {
            for (int i = in.position(); i < in.limit(); i++) {
                if (in.get(i) == '\n') {
                    if (i + 1 < in.limit() && in.get(i + 1) == '\n') {
                        return i + 2;
                    }
                    if (i + 2 < in.limit() && in.get(i + 1) == '\r' && in.get(i + 2) == '\n') {
                        return i + 3;
                    }
                }
            }
            return -1;
        }

        private void respond(int status, String error, boolean keepAlive, boolean http10) {
            byte[] body = (reason(status) + ": " + error + "\n").getBytes(StandardCharsets.US_ASCII);
            out.put(head(status, body.length, keepAlive, http10)).put(body);
            answering = keepAlive;
            LOG.log(System.Logger.Level.DEBUG, () -> "fd " + fd + ": " + status + " " + error);
        }
    }
}
