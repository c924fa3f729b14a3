package dev.iomux.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iomux.internal.Native;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Kernel}'s nanosecond waits on real pipes: a short wait lowers the thread's timer slack only for
 * its length, and none waits less than asked.
 */
@ExtendWith(LeakCheck.class)
class KernelTimedWaitTest {

    @Test
    void aShortWaitPutsTheThreadsTimerSlackBack() throws Exception {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            NativeBuffer pfd = NativeBuffer.allocate(8);
            NativeBuffer ts = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
            NativeBuffer set = NativeBuffer.allocate(128);
            try {
                pfd.putInt(0, p[0]);
                pfd.putShort(4, (short) PollBits.POLLIN);
                long slack = Native.timerSlack();
                assertThat(slack).as("PR_GET_TIMERSLACK").isPositive();
                for (long nanos : new long[] {1, 50_000, 999_999, 20_000_000}) {
                    long t0 = System.nanoTime();
                    assertThat(Kernel.poll(pfd.address(), 1, nanos, ts)).isZero();
                    set.putByte(p[0] / 8, (byte) (1 << (p[0] % 8)));
                    assertThat(Kernel.select(p[0] + 1, set.address(), 0, 0, nanos, ts)).isZero();
                    assertThat(System.nanoTime() - t0).as("two waits of %d ns", nanos).isGreaterThanOrEqualTo(2 * nanos);
                    assertThat(Native.timerSlack()).as("the slack after waits of %d ns", nanos).isEqualTo(slack);
                }
            } finally {
                pfd.free();
                ts.free();
                set.free();
            }
        }
    }

    @Test
    void aTimespecTooSmallIsRefusedByName() throws Exception {
        NativeBuffer small = NativeBuffer.allocate(8);
        try {
            assertThatThrownBy(() -> Kernel.poll(0, 0, 1_000, small)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Kernel.TIMESPEC_SIZE");
        } finally {
            small.free();
        }
    }
}
