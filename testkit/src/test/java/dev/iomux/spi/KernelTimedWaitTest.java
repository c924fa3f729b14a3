package dev.iomux.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;

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

    /**
     * Without epoll_pwait2 (ENOSYS: Linux before 5.11; or glibc before 2.35), a positive timeout goes to
     * epoll_wait rounded up to its millisecond: never shorter than asked, and never a zero timeout.
     */
    @Test
    void withoutEpollPwait2APositiveTimeoutIsRoundedUpToAMillisecond() throws Exception {
        Field available = Class.forName(Kernel.class.getName() + "$EpollPwait2").getDeclaredField("available");
        available.setAccessible(true);
        boolean had = available.getBoolean(null);
        try (Fds fds = new Fds()) {
            int ep = fds.track(Kernel.epollCreate());
            NativeBuffer ev = NativeBuffer.allocate(16);
            NativeBuffer ts = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
            try {
                available.setBoolean(null, false);
                assertThat(Kernel.hasEpollPwait2()).isFalse();
                for (int i = 0; i < 3; i++) {
                    long t0 = System.nanoTime();
                    assertThat(Kernel.epollWait(ep, ev.address(), 1, 50_000, ts)).isZero();
                    assertThat(System.nanoTime() - t0).as("epoll_wait(1 ms) for 50 us").isGreaterThanOrEqualTo(1_000_000);
                }
            } finally {
                available.setBoolean(null, had);
                ev.free();
                ts.free();
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
