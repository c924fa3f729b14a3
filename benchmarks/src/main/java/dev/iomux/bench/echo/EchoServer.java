package dev.iomux.bench.echo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

import dev.iomux.Events;
import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.SelectorKey;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.io.SockOpt;
import dev.iomux.io.Sockets;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;

/**
 * An echo server in its own process, for {@link EchoBench}: one selecting thread, TCP on 127.0.0.1, an
 * ephemeral port printed as {@code LISTENING <port>}. It exits when its standard input closes.
 *
 * <pre>EchoServer iomux-select | iomux-poll | iomux-epoll | nio | netty-epoll</pre>
 *
 * <p>The iomux server is the README's echo server written against the allocation-free handler select,
 * with one direct buffer per connection; the JDK one is the same loop on java.nio; Netty's is the
 * canonical echo handler (write on read, flush on read-complete) on one epoll event loop thread.
 */
public final class EchoServer {
    private EchoServer() {
    }

    /**
     * Serves until standard input closes.
     *
     * @param args the server kind
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        String kind = args.length > 0 ? args[0] : "iomux-epoll";
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the driver never writes; EOF means stop
                }
            } catch (IOException ignored) {
                // stop as well
            }
            System.exit(0);
        }, "stdin-watcher");
        watcher.setDaemon(true);
        watcher.start();
        switch (kind) {
            case "iomux-select":
            case "iomux-poll":
            case "iomux-epoll":
                iomux(kind.substring("iomux-".length()));
                break;
            case "nio":
                nio();
                break;
            case "netty-epoll":
                netty();
                break;
            default:
                throw new IllegalArgumentException("unknown server '" + kind
                        + "': use iomux-select, iomux-poll, iomux-epoll, nio or netty-epoll");
        }
    }

    private static void listening(int port) {
        System.out.println("LISTENING " + port);
        System.out.flush();
    }

    // --------------------------------------------------------------------------------------- iomux

    private static void iomux(String backend) throws IOException {
        int listener = Sockets.listen(new InetSocketAddress("127.0.0.1", 0), 1024);
        listening(((InetSocketAddress) Sockets.localAddress(listener)).getPort());
        try (Selector selector = Selectors.open(backend)) {
            selector.register(listener, Events.READ);
            ReadyHandler handler = new ReadyHandler() {
                @Override
                public void ready(SelectorKey key, int events) throws IOException {
                    int fd = key.fd();
                    if (fd == listener) {
                        int conn;
                        while ((conn = Sockets.accept(listener)) >= 0) {
                            Sockets.setOption(conn, SockOpt.TCP_NODELAY, 1);
                            selector.register(conn, Events.READ, ByteBuffer.allocateDirect(16 * 1024));
                        }
                        return;
                    }
                    ByteBuffer buf = (ByteBuffer) key.attachment();
                    try {
                        if ((events & Events.READ) != 0) {
                            int n = Descriptors.read(fd, buf.clear());
                            if (n == 0) {
                                throw new IOException("end of stream");
                            }
                            buf.flip();
                        }
                        Descriptors.write(fd, buf);
                        int want = buf.hasRemaining() ? Events.WRITE : Events.READ;
                        if (want != key.interest()) {
                            selector.modify(fd, want);
                        }
                    } catch (IOException endOrReset) {
                        selector.unregister(fd);
                        Descriptors.close(fd);
                    }
                }
            };
            for (;;) {
                selector.select(handler);
            }
        }
    }

    // ----------------------------------------------------------------------------------------- NIO

    private static void nio() throws IOException {
        try (java.nio.channels.Selector sel = java.nio.channels.Selector.open();
             ServerSocketChannel ss = ServerSocketChannel.open()) {
            ss.bind(new InetSocketAddress("127.0.0.1", 0), 1024);
            ss.configureBlocking(false);
            ss.register(sel, SelectionKey.OP_ACCEPT);
            listening(((InetSocketAddress) ss.getLocalAddress()).getPort());
            for (;;) {
                sel.select();
                for (Iterator<SelectionKey> it = sel.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey k = it.next();
                    it.remove();
                    if (k.channel() == ss) {
                        SocketChannel c;
                        while ((c = ss.accept()) != null) {
                            c.configureBlocking(false);
                            c.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                            c.register(sel, SelectionKey.OP_READ, ByteBuffer.allocateDirect(16 * 1024));
                        }
                        continue;
                    }
                    SocketChannel c = (SocketChannel) k.channel();
                    ByteBuffer buf = (ByteBuffer) k.attachment();
                    try {
                        if (k.isReadable()) {
                            if (c.read(buf.clear()) < 0) {
                                throw new IOException("end of stream");
                            }
                            buf.flip();
                        }
                        c.write(buf);
                        int want = buf.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ;
                        if (want != k.interestOps()) {
                            k.interestOps(want);
                        }
                    } catch (IOException endOrReset) {
                        k.cancel();
                        c.close();
                    }
                }
            }
        }
    }

    // --------------------------------------------------------------------------------------- Netty

    /** Netty's echo: each read written back, flushed once per batch of reads. Shared by the whole-server runs. */
    @ChannelHandler.Sharable
    public static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static void netty() throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Echo echo = new Echo();
            Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(echo)
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            listening(((InetSocketAddress) server.localAddress()).getPort());
            server.closeFuture().await();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
