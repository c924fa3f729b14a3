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
 * {@link Kernel}'s nanosecond waits on real pipes: a short wait lowers the thread's timer slack until a
 * long one, and none waits less than asked.
 */
@ExtendWith(LeakCheck.class)
class KernelTimedWaitTest {

    /**
     * A short wait lowers the thread's timer slack to a power of two at most 0.1% of it, and leaves it
     * lowered for the next short waits (an event loop's waits then make no prctl call); a wait of a
     * millisecond or more puts the thread's own slack back first.
     */
    @Test
    void shortWaitsKeepTheSlackLoweredUntilALongWaitPutsItBack() throws Exception {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            NativeBuffer pfd = NativeBuffer.allocate(8);
            NativeBuffer ts = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
            NativeBuffer set = NativeBuffer.allocate(128);
            try {
                pfd.putInt(0, p[0]);
                pfd.putShort(4, (short) PollBits.POLLIN);
                set.putByte(p[0] / 8, (byte) (1 << (p[0] % 8)));
                long own = Native.timerSlack();
                assertThat(own).as("PR_GET_TIMERSLACK (the default is 50 us)").isGreaterThan(1_000);
                // {wait, the slack after it}: 0.1% of the wait rounded down to a power of two, then the thread's;
                // half of that is kept where it is already (64.5 us: 32, not 64 and then 32 again at 63.9 us).
                long[][] steps = {{1, 1}, {50_000, 32}, {999_999, 512}, {50_000, 32}, {64_500, 32}, {63_900, 32},
                    {130_000, 128}, {20_000_000, own}, {50_000, 32}, {1_000_000, own}};
                for (long[] step : steps) {
                    long nanos = step[0];
                    long t0 = System.nanoTime();
                    assertThat(Kernel.poll(pfd.address(), 1, nanos, ts)).isZero();
                    assertThat(Kernel.select(p[0] + 1, set.address(), 0, 0, nanos, ts)).isZero();
                    assertThat(System.nanoTime() - t0).as("two waits of %d ns", nanos).isGreaterThanOrEqualTo(2 * nanos);
                    assertThat(Native.timerSlack()).as("the slack after waits of %d ns", nanos).isEqualTo(step[1]);
                }
            } finally {
                Kernel.poll(pfd.address(), 1, 1_000_000, ts); // the thread's own slack back for the next test
                pfd.free();
                ts.free();
                set.free();
            }
        }
    }

    /** A virtual thread's carrier gets its slack back after each short wait: the next wait may be elsewhere. */
    @Test
    void aVirtualThreadsCarrierGetsItsSlackBackAfterEachWait() throws Exception {
        java.lang.reflect.Method start;
        try {
            start = Thread.class.getMethod("startVirtualThread", Runnable.class);
        } catch (NoSuchMethodException e) {
            org.junit.jupiter.api.Assumptions.abort("no virtual threads before JDK 21");
            return;
        }
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            NativeBuffer pfd = NativeBuffer.allocate(8);
            NativeBuffer ts = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
            long[] seen = new long[2];
            Throwable[] failed = new Throwable[1];
            try {
                pfd.putInt(0, p[0]);
                pfd.putShort(4, (short) PollBits.POLLIN);
                Thread t = (Thread) start.invoke(null, (Runnable) () -> {
                    try {
                        // No blocking Java call in between: the thread stays on one carrier throughout.
                        seen[0] = Native.timerSlack();
                        Kernel.poll(pfd.address(), 1, 50_000, ts);
                        seen[1] = Native.timerSlack();
                    } catch (Throwable e) {
                        failed[0] = e;
                    }
                });
                t.join(10_000);
                assertThat(failed[0]).isNull();
                assertThat(seen[1]).as("the carrier's slack after a 50 us wait of a virtual thread").isEqualTo(seen[0]);
            } finally {
                pfd.free();
                ts.free();
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
