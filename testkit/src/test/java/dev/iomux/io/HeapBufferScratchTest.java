package dev.iomux.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.iomux.internal.IoBuffers;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The direct memory behind heap-buffer I/O: sized to the transfer and bounded in total, however many
 * threads do it. A heap buffer cannot be handed to the kernel (the garbage collector moves it), so its
 * bytes go through native scratch memory.
 */
@ExtendWith(LeakCheck.class)
class HeapBufferScratchTest {
    /** Virtual threads where the JDK has them (21+): thousands are cheap, and each once held 64 KiB. */
    private static final int VIRTUAL_THREADS = 2_000;
    /** Platform threads otherwise, fewer: each has a real stack. */
    private static final int PLATFORM_THREADS = 200;
    private static final long MIB = 1024 * 1024;

    /**
     * Many threads each write one byte from a heap buffer and stay alive. The scratch memory they leave
     * behind must stay within a fixed bound, not grow by a scratch buffer per thread (it was 64 KiB each:
     * 125 MiB for 2,000 virtual threads).
     */
    @Test
    void tinyHeapWritesFromManyLiveThreadsHoldBoundedScratchMemory() throws Exception {
        boolean virtual = Runtime.version().feature() >= 21;
        int threads = virtual ? VIRTUAL_THREADS : PLATFORM_THREADS;
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe(); // 64 KiB of pipe buffer (pipe(7)): every thread's byte fits
            long directBefore = direct.getMemoryUsed();
            CountDownLatch written = new CountDownLatch(threads);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger bytes = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Runnable task = () -> {
                try {
                    bytes.addAndGet(Descriptors.write(p[1], ByteBuffer.wrap(new byte[] {42})));
                } catch (IOException | RuntimeException e) {
                    failure.compareAndSet(null, e);
                } finally {
                    written.countDown();
                }
                try {
                    release.await(); // stay alive, and with it anything kept per thread
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            List<Thread> started = new ArrayList<>();
            try {
                for (int i = 0; i < threads; i++) {
                    started.add(virtual ? startVirtual(task) : startPlatform(task));
                }
                assertThat(written.await(60, TimeUnit.SECONDS)).as("all %d threads wrote", threads).isTrue();
                assertThat(failure.get()).isNull();
                assertThat(bytes.get()).isEqualTo(threads);

                long directGrowth = direct.getMemoryUsed() - directBefore;
                long scratch = IoBuffers.scratchBytes();
                System.out.printf("scratch: %d %s threads, 1-byte heap writes: direct pool grew %,d bytes, "
                        + "scratch memory %,d bytes%n", threads, virtual ? "virtual" : "platform", directGrowth, scratch);
                assertThat(directGrowth).as("direct memory held after %d live threads wrote one byte each", threads)
                        .isLessThan(4 * MIB);
                assertThat(scratch).as("scratch memory held after %d live threads wrote one byte each", threads)
                        .isLessThanOrEqualTo(IoBuffers.SCRATCH_POOL_BYTES);
                assertThat(Sockets.available(p[0])).as("every byte arrived").isEqualTo(threads);
            } finally {
                release.countDown();
                for (Thread t : started) {
                    t.join(10_000);
                }
            }
        }
    }

    /**
     * Heap buffers larger than the most one call moves still work, in parts: a 1 MiB heap write and read
     * move at most {@link IoBuffers#SCRATCH_SIZE} per call, intact.
     */
    @Test
    void largeHeapTransfersStillWorkInParts() throws IOException {
        byte[] data = new byte[1024 * 1024];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        ByteBuffer src = ByteBuffer.wrap(data);
        ByteBuffer dst = ByteBuffer.allocate(data.length);
        try (Fds fds = new Fds()) {
            int[] s = fds.socketPair();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (dst.hasRemaining()) {
                assertThat(System.nanoTime()).as("stalled at %d", dst.position()).isLessThan(deadline);
                if (src.hasRemaining()) {
                    int n = Descriptors.write(s[0], src);
                    assertThat(n).isLessThanOrEqualTo(IoBuffers.SCRATCH_SIZE);
                }
                int r = Descriptors.read(s[1], dst);
                assertThat(r).isNotZero().isLessThanOrEqualTo(IoBuffers.SCRATCH_SIZE);
            }
        }
        assertThat(dst.array()).isEqualTo(data);
        assertThat(IoBuffers.scratchBytes()).as("kept for reuse once no call is in flight")
                .isLessThanOrEqualTo(IoBuffers.SCRATCH_POOL_BYTES);
    }

    private static Thread startPlatform(Runnable task) {
        Thread t = new Thread(task, "scratch-writer");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** {@code Thread.startVirtualThread(task)}, through reflection: the tests compile for Java 17. */
    private static Thread startVirtual(Runnable task) throws ReflectiveOperationException {
        Method start = Thread.class.getMethod("startVirtualThread", Runnable.class);
        return (Thread) start.invoke(null, task);
    }
}
