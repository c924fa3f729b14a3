package dev.iomux.internal;

import static dev.iomux.internal.Native.C;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;

import dev.iomux.internal.binding.LibC;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import jnr.ffi.Platform;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Native}'s hot calls (read, write, poll, epoll_wait) through {@code syscall(2)} against
 * libc's wrappers of the same name, on real pipes: same results, same errno. A wrong system call number
 * in {@link Native} fails here, not as a strange errno in a backend.
 */
@ExtendWith(LeakCheck.class)
class NativeSyscallsTest {

    @Test
    void x86_64TakesTheDirectPathUnlessToldNotTo() {
        boolean x86 = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64;
        assertThat(Native.DIRECT_SYSCALLS).isEqualTo(x86 && !Boolean.getBoolean("iomux.libcWrappers"));
    }

    /**
     * jnr-ffi's x86-64 stub passes a sixth argument as garbage (jnr/jnr-ffi#181): a function with six
     * takes one as a Pointer, which keeps it off that stub (LibC's class comment), and none has more.
     */
    @Test
    void sixArgumentFunctionsTakeAPointer() {
        for (Method m : LibC.class.getMethods()) {
            assertThat(m.getParameterCount()).as("LibC.%s", m.getName()).isLessThanOrEqualTo(6);
            if (m.getParameterCount() == 6) {
                assertThat(m.getParameterTypes()).as("LibC.%s", m.getName()).contains(Pointer.class);
            }
        }
    }

    @Test
    void readAndWriteMoveTheSameBytesAsLibc() throws Exception {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            NativeBuffer buf = NativeBuffer.allocate(16);
            try {
                buf.putLong(0, 0x0102030405060708L);
                assertThat(Native.write(p[1], buf.address(), 8)).isEqualTo(8);
                assertThat(C.write(p[1], buf.address(), 3)).isEqualTo(3);
                buf.putLong(0, 0);
                assertThat(Native.read(p[0], buf.address(), 5)).isEqualTo(5);
                assertThat(C.read(p[0], buf.address() + 5, 16 - 5)).isEqualTo(6);
                assertThat(buf.getLong(0)).isEqualTo(0x0102030405060708L);
                assertThat(buf.getInt(8) & 0xffffff).isEqualTo(0x060708);
            } finally {
                buf.free();
            }
        }
    }

    @Test
    void failuresSaveTheSameErrno() throws Exception {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe(); // non-blocking: an empty read is EAGAIN
            NativeBuffer buf = NativeBuffer.allocate(8);
            try {
                assertThat(Native.read(p[0], buf.address(), 8)).isEqualTo(-1);
                assertThat(Native.errno()).isEqualTo(Linux.EAGAIN);
                assertThat(C.read(p[0], buf.address(), 8)).isEqualTo(-1);
                assertThat(Native.errno()).isEqualTo(Linux.EAGAIN);

                int closed = fds.pipe()[0];
                fds.close(closed);
                assertThat(Native.write(closed, buf.address(), 8)).isEqualTo(-1);
                assertThat(Native.errno()).isEqualTo(Linux.EBADF);
                assertThat(Native.poll(0, 0, 0)).isZero();
                assertThat(Native.epollWait(closed, buf.address(), 1, 0)).isEqualTo(-1);
                assertThat(Native.errno()).isEqualTo(Linux.EBADF);
            } finally {
                buf.free();
            }
        }
    }

    @Test
    void pollReportsWhatLibcPollReports() throws Exception {
        try (Fds fds = new Fds()) {
            int[] idle = fds.pipe();
            int[] full = fds.pipe();
            Fds.write(full[1], 1);
            NativeBuffer pfds = NativeBuffer.allocate(16); // two struct pollfd {int fd; short events, revents;}
            try {
                pfds.putInt(0, idle[0]);
                pfds.putShort(4, (short) Linux.POLLIN);
                pfds.putInt(8, full[0]);
                pfds.putShort(12, (short) Linux.POLLIN);
                assertThat(Native.poll(pfds.address(), 2, 0)).isEqualTo(1);
                assertThat(pfds.getShort(6)).isZero();
                assertThat(pfds.getShort(14)).isEqualTo((short) Linux.POLLIN);
                pfds.putShort(14, (short) 0);
                assertThat(C.poll(pfds.address(), 2, 0)).isEqualTo(1);
                assertThat(pfds.getShort(14)).isEqualTo((short) Linux.POLLIN);
            } finally {
                pfds.free();
            }
        }
    }

    @Test
    void epollWaitReturnsTheRegisteredData() throws Exception {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int ep = fds.track(Native.check(C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1"));
            NativeBuffer ev = NativeBuffer.allocate(32); // room for two events in either layout
            try {
                ev.putInt(0, Linux.EPOLLIN);
                long data = 0x1234_5678_9abc_def0L;
                // x86-64 packs struct epoll_event (data at offset 4), elsewhere data is at offset 8.
                int dataOffset = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64 ? 4 : 8;
                ev.putLong(dataOffset, data);
                Native.check(C.epoll_ctl(ep, Linux.EPOLL_CTL_ADD, p[0], ev.address()), "epoll_ctl");
                assertThat(Native.epollWait(ep, ev.address(), 2, 0)).isZero();
                Fds.write(p[1], 1);
                ev.putLong(dataOffset, 0);
                assertThat(Native.epollWait(ep, ev.address(), 2, 0)).isEqualTo(1);
                assertThat(ev.getInt(0) & Linux.EPOLLIN).isEqualTo(Linux.EPOLLIN);
                assertThat(ev.getLong(dataOffset)).isEqualTo(data);
            } finally {
                ev.free();
            }
        }
    }

    /**
     * ppoll takes five arguments, so through syscall(2) on x86-64 the last, sigsetsize, is the sixth:
     * jnr-ffi's x86-64 stub passed it as garbage (jnr/jnr-ffi#181), which the kernel checks whenever a
     * mask is given (EINVAL unless 8). Checked with a mask, on a real pipe.
     */
    @Test
    void ppollWithASignalMaskReportsTheReadyPipe() throws Exception {
        try (Fds fds = new Fds()) {
            int[] idle = fds.pipe();
            int[] full = fds.pipe();
            Fds.write(full[1], 1);
            NativeBuffer b = NativeBuffer.allocate(16 + Linux.TIMESPEC_SIZE + Linux.SIGSET_SIZE);
            try {
                long pfds = b.address();
                long ts = pfds + 16;
                long mask = ts + Linux.TIMESPEC_SIZE; // empty: blocks no signal
                b.putInt(0, idle[0]);
                b.putShort(4, Linux.POLLIN);
                b.putInt(8, full[0]);
                b.putShort(12, Linux.POLLIN);
                b.putLong(16, 5); // 5 s: the pipe is ready, it returns at once
                int n = Native.ppoll(pfds, 2, ts, mask);
                assertThat(n).as("ppoll with a mask (errno %d)", n < 0 ? Native.errno() : 0).isEqualTo(1);
                assertThat(b.getShort(14)).isEqualTo(Linux.POLLIN);
                assertThat(b.getShort(6)).isZero();
                b.putLong(16, 0);
                b.putLong(24, 1_000); // 1 us, nothing ready on the idle pipe alone
                assertThat(Native.ppoll(pfds, 1, ts, mask)).isZero();
            } finally {
                b.free();
            }
        }
    }

    /**
     * pselect's sixth argument is the signal mask: passed as garbage (jnr/jnr-ffi#181) it would be a
     * pointer into code, which the kernel reads as a mask, and a bad address would not be seen. Checked
     * both ways, on a real pipe: an empty mask waits and reports, an unmapped one is EFAULT.
     */
    @Test
    void pselectPassesItsSixthArgumentTheSignalMask() throws Exception {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            Fds.write(p[1], 1);
            NativeBuffer b = NativeBuffer.allocate(128 + Linux.TIMESPEC_SIZE + Linux.SIGSET_SIZE);
            try {
                long set = b.address(); // an fd_set: FD_SETSIZE bits
                long ts = set + 128;
                long mask = ts + Linux.TIMESPEC_SIZE;
                b.putByte(p[0] / 8, (byte) (1 << (p[0] % 8)));
                b.putLong(128, 5);
                int n = Native.pselect(p[0] + 1, set, 0, 0, ts, mask);
                assertThat(n).as("pselect with an empty mask (errno %d)", n < 0 ? Native.errno() : 0).isEqualTo(1);
                assertThat(b.getByte(p[0] / 8)).isEqualTo((byte) (1 << (p[0] % 8)));
                long unmapped = 8; // in page zero, never mapped
                assertThat(Native.pselect(p[0] + 1, set, 0, 0, ts, unmapped)).as("pselect with mask at 0x8")
                        .isEqualTo(-1);
                assertThat(Native.errno()).isEqualTo(Linux.EFAULT);
            } finally {
                b.free();
            }
        }
    }

    /** epoll_pwait2 checks its sixth argument (sigsetsize, 8, given by libc) whenever a mask is passed. */
    @Test
    void epollPwait2WithASignalMaskReportsTheReadyPipe() throws Exception {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int ep = fds.track(Native.check(C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1"));
            NativeBuffer b = NativeBuffer.allocate(32 + Linux.TIMESPEC_SIZE + Linux.SIGSET_SIZE);
            try {
                long ev = b.address();
                long ts = ev + 32;
                long mask = ts + Linux.TIMESPEC_SIZE;
                b.putInt(0, Linux.EPOLLIN);
                Native.check(C.epoll_ctl(ep, Linux.EPOLL_CTL_ADD, p[0], ev), "epoll_ctl");
                b.putLong(40, 1_000); // 1 us
                int n;
                try {
                    n = Native.epollPwait2(ep, ev, 2, ts, mask);
                } catch (UnsatisfiedLinkError oldLibc) {
                    Assumptions.abort("no epoll_pwait2 in this libc (glibc 2.35 and later)");
                    return;
                }
                Assumptions.assumeFalse(n < 0 && Native.errno() == Linux.ENOSYS, "a kernel before 5.11");
                assertThat(n).as("epoll_pwait2, nothing ready (errno %d)", n < 0 ? Native.errno() : 0).isZero();
                Fds.write(p[1], 1);
                b.putLong(32, 5);
                b.putLong(40, 0);
                assertThat(Native.epollPwait2(ep, ev, 2, ts, mask)).isEqualTo(1);
                assertThat(b.getInt(0) & Linux.EPOLLIN).isEqualTo(Linux.EPOLLIN);
            } finally {
                b.free();
            }
        }
    }
}
