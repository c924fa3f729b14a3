package dev.iomux.bench;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.iomux.Events;
import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;

/**
 * iomux on one backend: the allocation-free {@link Selector#select(ReadyHandler)}, and
 * {@link Descriptors#read}/{@link Descriptors#write} with direct buffers, as an event loop would use them.
 */
final class IomuxImpl extends Scaling.Impl {
    private final String backend;
    private final boolean edge;
    private Scaling.Pairs pairs;
    private Selector selector;
    private final ByteBuffer wbuf = ByteBuffer.allocateDirect(1);
    private final ByteBuffer rbuf = ByteBuffer.allocateDirect(16);
    private int[] out;
    private int found;
    private int[] fd2idx;
    // A field, not a lambda per call: the select allocates nothing.
    private final ReadyHandler collect = (key, events) -> out[found++] = fd2idx[key.fd()];

    IomuxImpl(String backend) {
        // epollet, uringet, uring-singleet: the backend's EDGE mode (EPOLLET, a multishot POLL_ADD)
        this.edge = backend.endsWith("et");
        this.backend = edge ? backend.substring(0, backend.length() - 2) : backend;
        wbuf.put(0, (byte) 'e');
    }

    @Override
    protected String implName() {
        return "iomux";
    }

    @Override
    protected String backendName() {
        return edge ? backend + "et" : backend;
    }

    @Override
    protected String open(int n) throws IOException {
        // The selector first, so that its own descriptors take low numbers (select's wake-up eventfd must
        // fit an fd_set), then the pairs.
        selector = Selectors.open(backend);
        pairs = new Scaling.Pairs(n);
        fd2idx = pairs.fd2idx;
        long maxFd = selector.capabilities().maxFd();
        if (pairs.maxFd > maxFd) {
            return "fds past FD_SETSIZE-1 (" + maxFd + ") do not fit an fd_set";
        }
        int events = Events.READ | (edge ? Events.EDGE : 0);
        for (int i = 0; i < n; i++) {
            selector.register(pairs.rfd[i], events, null);
        }
        return null;
    }

    @Override
    protected void write1(int pair) throws IOException {
        wbuf.clear();
        if (Descriptors.write(pairs.wfd[pair], wbuf) != 1) {
            throw new IOException("short write to pair " + pair);
        }
    }

    @Override
    protected int waitReady(int[] ready) throws IOException {
        out = ready;
        found = 0;
        selector.select(collect);
        return found;
    }

    @Override
    protected int read(int pair) throws IOException {
        return Descriptors.read(pairs.rfd[pair], rbuf.clear());
    }

    @Override
    protected int read1(int pair) throws IOException {
        return Descriptors.read(pairs.rfd[pair], rbuf.clear().limit(1));
    }

    @Override
    protected boolean edgeTriggered() {
        return edge;
    }

    @Override
    protected int maxFd() {
        return pairs == null ? -1 : pairs.maxFd;
    }

    @Override
    protected void close() {
        if (selector != null) {
            selector.close();
        }
        if (pairs != null) {
            pairs.close();
        }
    }
}
