package dev.iomux.bench.servers;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpServer;
import dev.iomux.bench.echo.EchoServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;

/**
 * The servers {@code benchmarks/servers} sets against iomux's {@code http-hello} and {@code echo-server}:
 * each on 127.0.0.1, printing {@code LISTENING <port>}, running until SIGTERM.
 *
 * <pre>RivalServers netty-http | jdk-http | netty-echo  PORT  THREADS</pre>
 *
 * <p>{@code netty-http} answers the bytes {@code http-hello} answers, with a raw handler that does the
 * work {@code http-hello} does per request: find the blank line that ends the head, copy the head into a
 * String, split it into lines, check the request line and each header name (as tokens) and read the
 * headers (Host, Connection, Content-Length). Netty's {@code HttpServerCodec} would build request objects, header maps and
 * a last-content marker per request: more work than {@code http-hello} does, so not like with like.
 * {@code jdk-http} is {@code com.sun.net.httpserver} with the same body (it adds a Date header: its
 * response is some 37 bytes longer). {@code netty-echo} is Netty's canonical echo handler.
 *
 * <p>THREADS: Netty's event-loop threads, one group for accepting and serving, as a single-threaded
 * iomux loop also accepts on its serving thread; Netty then spreads accepted connections over the threads
 * round-robin. For the JDK server, 1 runs the handler on its dispatcher thread (no executor), 2 or more
 * on a pool of that many threads.
 */
public final class RivalServers {
    private RivalServers() {
    }

    /**
     * Serves until the process is stopped.
     *
     * @param args kind, port, threads
     * @throws Exception if it cannot listen
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: RivalServers netty-http|jdk-http|netty-echo PORT THREADS");
        }
        int port = Integer.parseInt(args[1]);
        int threads = Integer.parseInt(args[2]);
        switch (args[0]) {
            case "netty-http" -> netty(port, threads, true);
            case "netty-echo" -> netty(port, threads, false);
            case "jdk-http" -> jdk(port, threads);
            default -> throw new IllegalArgumentException("unknown server '" + args[0]
                    + "': use netty-http, jdk-http or netty-echo");
        }
    }

    /** The body http-hello sends on the epoll backend, byte for byte. */
    static final byte[] BODY = "hello from iomux http-hello on epoll\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OK = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + BODY.length
            + "\r\n\r\n" + new String(BODY, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OK_CLOSE = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + BODY.length + "\r\nConnection: close\r\n\r\n" + new String(BODY, StandardCharsets.US_ASCII))
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BAD = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private static void listening(int port) {
        System.out.println("LISTENING " + port);
        System.out.flush();
    }

    // ------------------------------------------------------------------------------------------ Netty

    private static void netty(int port, int threads, boolean http) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
        try {
            ChannelHandler echo = new EchoServer.Echo();
            Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childHandler(http ? new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new Hello());
                        }
                    } : echo)
                    .bind(new InetSocketAddress("127.0.0.1", port)).sync().channel();
            listening(((InetSocketAddress) server.localAddress()).getPort());
            server.closeFuture().await();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** http-hello's per-request work on Netty: one handler per connection, holding a partial head. */
    private static final class Hello extends ChannelInboundHandlerAdapter {
        private static final ByteBuf OK_BUF = Unpooled.unreleasableBuffer(Unpooled.directBuffer(OK.length).writeBytes(OK));
        private static final ByteBuf CLOSE_BUF = Unpooled.unreleasableBuffer(
                Unpooled.directBuffer(OK_CLOSE.length).writeBytes(OK_CLOSE));
        private static final ByteBuf BAD_BUF = Unpooled.unreleasableBuffer(Unpooled.directBuffer(BAD.length).writeBytes(BAD));
        private ByteBuf in;
        private boolean closing;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            if (closing) {
                b.release();
                return;
            }
            if (in == null) {
                in = b;
            } else {
                in = ctx.alloc().directBuffer(in.readableBytes() + b.readableBytes()).writeBytes(in).writeBytes(b);
                b.release();
            }
            for (int end; !closing && (end = headEnd(in)) >= 0; ) {
                byte[] head = new byte[end - in.readerIndex()];
                in.readBytes(head);
                int status = parse(new String(head, StandardCharsets.ISO_8859_1).stripTrailing());
                if (status == 200) {
                    ctx.write(OK_BUF.duplicate());
                } else {
                    closing = true;
                    ctx.write(status == 0 ? CLOSE_BUF.duplicate() : BAD_BUF.duplicate())
                            .addListener(ChannelFutureListener.CLOSE);
                }
            }
            if (in.readableBytes() > 8192) {
                closing = true;
                ctx.write(BAD_BUF.duplicate()).addListener(ChannelFutureListener.CLOSE);
            }
            if (!in.isReadable() || closing) {
                in.release();
                in = null;
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (in != null) {
                in.release();
                in = null;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private static int headEnd(ByteBuf in) {
            for (int i = in.readerIndex(); i < in.writerIndex(); i++) {
                if (in.getByte(i) == '\n') {
                    if (i + 1 < in.writerIndex() && in.getByte(i + 1) == '\n') {
                        return i + 2;
                    }
                    if (i + 2 < in.writerIndex() && in.getByte(i + 1) == '\r' && in.getByte(i + 2) == '\n') {
                        return i + 3;
                    }
                }
            }
            return -1;
        }

        /** @return 200 to keep the connection, 0 for a request that closes it, 400 for one that does not parse */
        private static int parse(String head) {
            String[] lines = head.replace("\r", "").split("\n", -1);
            String[] requestLine = lines[0].split(" ", -1);
            if (requestLine.length != 3 || !isToken(requestLine[0]) || requestLine[1].isEmpty()
                    || !(requestLine[2].equals("HTTP/1.1") || requestLine[2].equals("HTTP/1.0"))) {
                return 400;
            }
            boolean host = false;
            boolean close = requestLine[2].equals("HTTP/1.0");
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0 || !isToken(lines[i].substring(0, colon))) {
                    return 400;
                }
                String name = lines[i].substring(0, colon).toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).trim();
                switch (name) {
                    case "host" -> host = true;
                    case "connection" -> {
                        String v = value.toLowerCase(Locale.ROOT);
                        close = v.contains("close") || (close && !v.contains("keep-alive"));
                    }
                    case "content-length" -> {
                        if (!value.equals("0")) {
                            return 400; // wrk sends no body; http-hello skips one, this need not
                        }
                    }
                    default -> { }
                }
            }
            return !host && requestLine[2].equals("HTTP/1.1") ? 400 : close ? 0 : 200;
        }

        /** http-hello's token check (RFC 9110 section 5.6.2), on a substring as there. */
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
    }

    // ------------------------------------------------------------------------------------------ JDK

    private static void jdk(int port, int threads) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
        server.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                exchange.getResponseHeaders().set("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, BODY.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(BODY);
                }
            }
        });
        ExecutorService pool = threads > 1 ? Executors.newFixedThreadPool(threads) : null;
        server.setExecutor(pool);
        server.start();
        listening(server.getAddress().getPort());
    }
}
