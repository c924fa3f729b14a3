package dev.iomux.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;

/**
 * The running JDK's java.nio Selector, used as its documentation shows: UNIX-domain SocketChannel
 * pairs (the kernel objects of socketpair(2)), {@code select()} and the selectedKeys iterator, non-blocking
 * channel reads and writes with direct buffers. The poll flavour sets the JDK's documented provider
 * property to {@code sun.nio.ch.PollSelectorProvider} before the first selector is opened.
 */
final class NioImpl extends Scaling.Impl {
    private final boolean poll;
    private SocketChannel[] src;
    private SocketChannel[] sink;
    private Selector sel;
    private final ByteBuffer wbuf = ByteBuffer.allocateDirect(1);
    private final ByteBuffer rbuf = ByteBuffer.allocateDirect(16);

    NioImpl(boolean poll) {
        this.poll = poll;
        if (poll) {
            System.setProperty("java.nio.channels.spi.SelectorProvider", "sun.nio.ch.PollSelectorProvider");
        }
        wbuf.put(0, (byte) 'e');
    }

    @Override
    protected String implName() {
        return "jdk" + Runtime.version().feature() + "-nio";
    }

    @Override
    protected String backendName() {
        return poll ? "poll" : "epoll";
    }

    @Override
    protected String open(int n) throws IOException {
        sel = Selector.open();
        String actual = sel.getClass().getSimpleName();
        if (!actual.toLowerCase().startsWith(backendName())) {
            return "the JDK opened " + actual + ", not a " + backendName() + " selector";
        }
        src = new SocketChannel[n];
        sink = new SocketChannel[n];
        Path dir = Files.createTempDirectory("iomux-scaling");
        Path path = dir.resolve("s");
        try (ServerSocketChannel ss = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ss.bind(UnixDomainSocketAddress.of(path), 128);
            for (int i = 0; i < n; i++) {
                SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.connect(ss.getLocalAddress());
                SocketChannel s = ss.accept();
                s.configureBlocking(false);
                c.configureBlocking(false);
                s.register(sel, SelectionKey.OP_READ, i);
                src[i] = s;
                sink[i] = c;
            }
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
        return null;
    }

    @Override
    protected void write1(int pair) throws IOException {
        wbuf.clear();
        if (sink[pair].write(wbuf) != 1) {
            throw new IOException("short write to pair " + pair);
        }
    }

    @Override
    protected int waitReady(int[] ready) throws IOException {
        sel.select();
        Set<SelectionKey> keys = sel.selectedKeys();
        int found = 0;
        for (Iterator<SelectionKey> it = keys.iterator(); it.hasNext(); ) {
            SelectionKey k = it.next();
            it.remove();
            ready[found++] = (Integer) k.attachment();
        }
        return found;
    }

    @Override
    protected int read(int pair) throws IOException {
        return src[pair].read(rbuf.clear());
    }

    @Override
    protected int read1(int pair) throws IOException {
        return src[pair].read(rbuf.clear().limit(1));
    }

    @Override
    protected int maxFd() {
        return -1;
    }

    @Override
    protected void close() {
        try {
            if (sel != null) {
                sel.close();
            }
            for (SocketChannel[] side : new SocketChannel[][] {src, sink}) {
                if (side != null) {
                    for (SocketChannel c : side) {
                        if (c != null) {
                            c.close();
                        }
                    }
                }
            }
        } catch (IOException ignored) {
            // the process ends right after
        }
    }
}
