package dev.iomux.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A timed select counts its timeout from the call (TIMEOUT-POSITIVE): what the base does before the kernel
 * wait, such as applying a burst of registrations in {@link AbstractSelector#implPrepare}, comes out of the
 * wait instead of adding to it.
 */
@ExtendWith(LeakCheck.class)
class SelectDeadlineTest {
    private static final long PREPARE_MILLIS = 600;
    private static final long TIMEOUT_MILLIS = 1_000;

    /**
     * A backend whose implPrepare takes 600 ms, as one applying tens of thousands of changes might; its
     * wait is a real ppoll(2) on its waker.
     */
    private static final class SlowPrepare extends AbstractSelector {
        private final NativeBuffer pollfd = NativeBuffer.allocate(8);
        private final NativeBuffer timespec = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
        private final int wakerFd;

        SlowPrepare(Waker waker) {
            super("slow-prepare", Capabilities.of(EnumSet.noneOf(Capability.class), Capabilities.UNLIMITED), waker,
                    Updates.AT_NEXT_WAIT);
            this.wakerFd = waker.fd();
        }

        @Override
        protected void implPrepare(ChangedFds changed) {
            try {
                Thread.sleep(PREPARE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        protected int implSelect(long timeoutNanos) throws IOException {
            pollfd.putInt(0, wakerFd);
            pollfd.putShort(4, (short) PollBits.POLLIN);
            pollfd.putShort(6, (short) 0);
            return Kernel.poll(pollfd.address(), 1, timeoutNanos, timespec);
        }

        @Override
        protected void implCollect(int count) {
            wakeupReady(); // only the waker is watched
        }

        @Override
        protected void implClose() {
            pollfd.free();
            timespec.free();
        }
    }

    @Test
    void theTimeoutCountsFromTheCallNotFromTheKernelWait() throws Exception {
        try (Fds fds = new Fds(); SlowPrepare sel = new SlowPrepare(Waker.pipe("slow-prepare selector"))) {
            int[] p = fds.pipe();
            sel.register(p[0], Events.READ); // a change: the next select prepares
            long t0 = System.nanoTime();
            assertThat(sel.select(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS, (key, events) -> { })).isZero();
            long tookMillis = (System.nanoTime() - t0) / 1_000_000;
            // Counted from the kernel wait, it would take the prepare's time plus the whole timeout: 1.6 s.
            assertThat(tookMillis).as("select(%d ms) whose prepare took %d ms", TIMEOUT_MILLIS, PREPARE_MILLIS)
                    .isGreaterThanOrEqualTo(TIMEOUT_MILLIS).isLessThan(TIMEOUT_MILLIS + PREPARE_MILLIS / 2);
        }
    }
}
