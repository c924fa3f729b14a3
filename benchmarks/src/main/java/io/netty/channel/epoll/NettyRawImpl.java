package io.netty.channel.epoll;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.iomux.bench.Scaling;
import io.netty.channel.unix.FileDescriptor;

/**
 * Netty's JNI epoll binding one level below its EpollEventLoop, called as the event loop calls it:
 * Native.epollCtlAdd, Native.epollWait over an EpollEventArray, and FileDescriptor read/write. It sits in
 * Netty's package because EpollEventArray and the int-timeout epollWait are package-private (fine on the
 * class path). The socketpairs are the same ones iomux measures (made with libc, wrapped in Netty's
 * FileDescriptor). {@code -b netty-epollet} registers with EPOLLET, Netty's own default.
 */
public final class NettyRawImpl extends Scaling.Impl {
    private final boolean et;
    private Scaling.Pairs pairs;
    private FileDescriptor epfd;
    private FileDescriptor[] rd;
    private FileDescriptor[] wr;
    private int[] fd2idx;
    private EpollEventArray events;
    private final ByteBuffer wbuf = ByteBuffer.allocateDirect(1).order(ByteOrder.nativeOrder());
    private final ByteBuffer rbuf = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());

    /**
     * @param et whether to register edge-triggered
     */
    public NettyRawImpl(boolean et) {
        this.et = et;
        wbuf.put(0, (byte) 'e');
    }

    @Override
    protected String implName() {
        io.netty.util.Version v = io.netty.util.Version.identify().get("netty-transport-classes-epoll");
        return "netty" + (v == null ? "" : "-" + v.artifactVersion().replace(".Final", "")) + "-jni";
    }

    @Override
    protected String backendName() {
        return et ? "epollet" : "epoll";
    }

    @Override
    protected String open(int n) throws IOException {
        Epoll.ensureAvailability();
        pairs = new Scaling.Pairs(n);
        fd2idx = pairs.fd2idx;
        rd = new FileDescriptor[n];
        wr = new FileDescriptor[n];
        epfd = Native.newEpollCreate();
        int flags = Native.EPOLLIN | (et ? Native.EPOLLET : 0);
        for (int i = 0; i < n; i++) {
            rd[i] = new FileDescriptor(pairs.rfd[i]);
            wr[i] = new FileDescriptor(pairs.wfd[i]);
            Native.epollCtlAdd(epfd.intValue(), rd[i].intValue(), flags);
        }
        events = new EpollEventArray(1024);
        return null;
    }

    @Override
    protected void write1(int pair) throws IOException {
        if (wr[pair].write(wbuf, 0, 1) != 1) {
            throw new IOException("short write to pair " + pair);
        }
    }

    @Override
    protected int waitReady(int[] ready) throws IOException {
        int r = Native.epollWait(epfd, events, -1);
        for (int e = 0; e < r; e++) {
            ready[e] = fd2idx[events.fd(e)];
        }
        return r;
    }

    @Override
    protected int read(int pair) throws IOException {
        return rd[pair].read(rbuf, 0, 16);
    }

    @Override
    protected int read1(int pair) throws IOException {
        return rd[pair].read(rbuf, 0, 1);
    }

    @Override
    protected boolean edgeTriggered() {
        return et;
    }

    @Override
    protected int maxFd() {
        return pairs == null ? -1 : pairs.maxFd;
    }

    @Override
    protected void close() {
        if (events != null) {
            events.free();
        }
        if (epfd != null) {
            try {
                epfd.close();
            } catch (IOException ignored) {
                // the process ends right after
            }
        }
        if (pairs != null) {
            pairs.close();
        }
    }
}
