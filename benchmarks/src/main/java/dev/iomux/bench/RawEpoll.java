package dev.iomux.bench;

import java.io.IOException;

import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.spi.NativeBuffer;
import jnr.ffi.Platform;

/**
 * The floor under iomux's epoll backend: an epoll instance of its own, level-triggered read interest in
 * each descriptor, one {@code epoll_wait} through iomux's binding ({@code Native.epollWait}) and a walk
 * over the event array that sums the descriptors, as Netty's raw layer or a C loop does, with none of
 * iomux's bookkeeping. Shared by JMH's {@code SelectReadyBench} ({@code raw-epoll}) and
 * {@link DispatchPairs}.
 */
public final class RawEpoll implements AutoCloseable {
    // struct epoll_event: packed on x86-64 (12 bytes, data at 4), 8-byte aligned elsewhere (16, data at 8).
    private static final boolean PACKED = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64;
    private static final int EVENT_SIZE = PACKED ? 12 : 16;
    private static final int DATA_OFFSET = PACKED ? 4 : 8;

    private final int epfd;
    private final NativeBuffer events;
    private final int capacity;

    /**
     * Opens an epoll instance watching each descriptor for reading, the descriptor as its data.
     *
     * @param fds the descriptors; as many events are returned at most by one {@link #walk()}
     * @throws IOException if the kernel refuses
     */
    public RawEpoll(int[] fds) throws IOException {
        epfd = Native.check(Native.C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1");
        capacity = fds.length;
        NativeBuffer buffer = null;
        try {
            buffer = NativeBuffer.allocate(EVENT_SIZE * capacity);
            for (int fd : fds) {
                buffer.putInt(0, Linux.EPOLLIN);
                buffer.putLong(DATA_OFFSET, fd);
                Native.check(Native.C.epoll_ctl(epfd, Linux.EPOLL_CTL_ADD, fd, buffer.address()), "epoll_ctl");
            }
        } catch (IOException | RuntimeException e) {
            Native.closeQuietly(epfd);
            if (buffer != null) {
                buffer.free();
            }
            throw e;
        }
        events = buffer;
    }

    /**
     * One {@code epoll_wait} with a zero timeout and a walk over what it returned.
     *
     * @param counts where the number of events goes, at index 0
     * @return the sum of the ready descriptors
     */
    public long walk(int[] counts) {
        int n = Native.epollWait(epfd, events.address(), capacity, 0);
        counts[0] = n;
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (int) events.getLong(i * EVENT_SIZE + DATA_OFFSET);
        }
        return sum;
    }

    @Override
    public void close() {
        Native.closeQuietly(epfd);
        events.free();
    }
}
