package dev.iomux.it.reliability;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.iomux.NativeIOException;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.internal.IoBuffers;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Async;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Accounting: every descriptor and every native block the library takes is given back. The counts
 * are /proc/self/fd (what the kernel says is open) and {@link NativeBuffer#liveBlocks()} and
 * {@link NativeBuffer#liveBytes()} (every block of native memory iomux allocates goes through
 * NativeBuffer). Each selector is grown well past its initial sizes, driven through its failure paths,
 * and closed; then the counts must be back where they started.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AccountingTest {

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aSelectorGrownAndDrivenThroughItsFailurePathsGivesEverythingBackOnClose(String backend) throws Exception {
        try (Fds fds = new Fds()) {
            // The descriptors to register are opened first: they are the test's, not the selector's.
            // select watches 0..1023 only, so it gets fewer.
            int pipes = backend.equals("select") ? 400 : 1500;
            List<int[]> ends = new ArrayList<>();
            for (int i = 0; i < pipes; i++) {
                ends.add(fds.pipe());
            }
            int file = fds.regularFile();
            Map<Integer, String> fdsBefore = LeakCheck.openDescriptors();
            long blocksBefore = NativeBuffer.liveBlocks();
            long bytesBefore = NativeBuffer.liveBytes();

            Selector sel = Selectors.open(backend);
            int refused = 0;
            for (int[] p : ends) {
                sel.register(p[0], READ | ONESHOT);
                sel.register(p[1], WRITE);
            }
            for (int i = 0; i < 50; i++) {
                refused += refuse(() -> sel.register(ends.get(0)[0], READ)); // duplicate
                refused += refuse(() -> sel.register(Integer.MAX_VALUE - 1, READ)); // huge
                if (backend.equals("epoll")) {
                    refused += refuse(() -> sel.register(file, READ)); // EPERM
                }
            }
            // Every write end is writable; epoll hands out at most its event array's 1024 per wait.
            java.util.Set<Integer> writable = new java.util.HashSet<>();
            for (int i = 0; i < 20 && writable.size() < pipes; i++) {
                sel.select(Duration.ofSeconds(5)).forEach(r -> writable.add(r.fd()));
            }
            assertThat(writable).hasSize(pipes);
            for (int round = 0; round < 20; round++) {
                Fds.write(ends.get(round)[1], 1);
                sel.modify(ends.get(round)[0], READ | ONESHOT);
                sel.selectNow();
            }
            for (int i = 0; i < pipes; i += 2) {
                sel.unregister(ends.get(i)[0]);
                sel.unregister(ends.get(i)[1]);
            }
            sel.selectNow();
            long blocksOpen = NativeBuffer.liveBlocks() - blocksBefore;
            long bytesOpen = NativeBuffer.liveBytes() - bytesBefore;
            int fdsOpen = LeakCheck.openDescriptors().size() - fdsBefore.size();
            sel.close();

            assertThat(LeakCheck.leaked(fdsBefore, LeakCheck.openDescriptors())).as("%s: descriptors after close",
                    backend).isEmpty();
            assertThat(NativeBuffer.liveBlocks()).as("%s: native blocks after close", backend).isEqualTo(blocksBefore);
            assertThat(NativeBuffer.liveBytes()).as("%s: native bytes after close", backend).isEqualTo(bytesBefore);
            System.out.printf("accounting on %s: %d registrations, %d refused; while open: %d descriptors, "
                    + "%d native blocks, %d bytes; after close: all back%n", backend, 2 * pipes, refused, fdsOpen,
                    blocksOpen, bytesOpen);
            assertThat(blocksOpen).as("%s: the selector held native memory while open", backend).isPositive();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aThousandSelectorsOpenedAndClosedFromManyThreadsLeaveNothing(String backend) throws Exception {
        Map<Integer, String> fdsBefore = LeakCheck.openDescriptors();
        long blocksBefore = NativeBuffer.liveBlocks();
        List<java.util.concurrent.CompletableFuture<Void>> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(Async.run(() -> {
                try (Fds fds = new Fds()) {
                    int[] p = fds.pipe();
                    for (int i = 0; i < 250; i++) {
                        try (Selector s = Selectors.open(backend)) {
                            s.register(p[0], READ);
                            s.register(p[1], WRITE);
                            s.selectNow();
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (var f : threads) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertThat(LeakCheck.leaked(fdsBefore, LeakCheck.openDescriptors())).isEmpty();
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocksBefore);
    }

    @Test
    void theSocketHelpersGiveBackTheirNativeBlocksOnSuccessAndOnFailure() throws Exception {
        try (Fds fds = new Fds()) {
            int listener = fds.listener(StandardProtocolFamily.INET, 4);
            InetSocketAddress taken = (InetSocketAddress) Sockets.localAddress(listener);
            Map<Integer, String> fdsBefore = LeakCheck.openDescriptors();
            long blocksBefore = NativeBuffer.liveBlocks();
            int failures = 0;
            for (int i = 0; i < 200; i++) {
                failures += refuse(() -> Sockets.listen(taken, 4)); // EADDRINUSE: socket closed, sockaddr freed
                failures += refuse(() -> Sockets.setOption(-1, dev.iomux.io.SockOpt.TCP_NODELAY, 1)); // EBADF
                failures += refuse(() -> Sockets.localAddress(-1));
                int c = Sockets.connect(taken);
                Sockets.setLinger(c, true, 0);
                Sockets.pendingError(c);
                Descriptors.close(c);
                int a;
                while ((a = Sockets.accept(listener)) < 0) {
                    Thread.onSpinWait();
                }
                Descriptors.close(a);
            }
            assertThat(failures).isEqualTo(600);
            assertThat(LeakCheck.leaked(fdsBefore, LeakCheck.openDescriptors())).isEmpty();
            assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocksBefore);
        }
    }

    /**
     * Reads and writes through heap buffers go through native scratch memory taken from a pool for the
     * call and given back after it: 20,000 calls allocate nothing new once the first has (neither scratch
     * memory nor direct buffers), and the pool keeps at most {@link IoBuffers#SCRATCH_POOL_BYTES}.
     */
    @Test
    void heapBufferIoReusesPooledScratchMemoryNotOnePerCall() throws Exception {
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long[] counts = Async.supply(() -> {
            try (Fds fds = new Fds()) {
                int[] p = fds.pipe();
                ByteBuffer heap = ByteBuffer.allocate(4096);
                Descriptors.write(p[1], heap.clear()); // the first call may allocate its scratch block
                Descriptors.read(p[0], heap.clear());
                long before = direct.getCount();
                long scratchBefore = IoBuffers.scratchBytes();
                for (int i = 0; i < 10_000; i++) {
                    Descriptors.write(p[1], heap.clear());
                    Descriptors.read(p[0], heap.clear());
                }
                return new long[] {before, direct.getCount(), scratchBefore, IoBuffers.scratchBytes()};
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }).get(60, TimeUnit.SECONDS);
        assertThat(counts[1]).as("direct buffers after 20,000 heap-buffer calls").isEqualTo(counts[0]);
        assertThat(counts[3]).as("scratch bytes after 20,000 heap-buffer calls").isEqualTo(counts[2])
                .isLessThanOrEqualTo(IoBuffers.SCRATCH_POOL_BYTES);
    }

    private interface Refusable {
        void run() throws IOException;
    }

    /** Runs a call that must be refused; returns 1. */
    private static int refuse(Refusable call) {
        try {
            call.run();
        } catch (NativeIOException | IllegalArgumentException | IllegalStateException expected) {
            return 1;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("the call was not refused");
    }
}
