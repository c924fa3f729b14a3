package dev.iomux.internal;

import static dev.iomux.internal.Native.C;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;

import dev.iomux.internal.binding.LibC;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import jnr.ffi.Platform;
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

    /** jnr-ffi 2.3 passes a sixth argument as garbage on x86-64 (jnr/jnr-ffi#181): none may have six. */
    @Test
    void noBoundFunctionTakesMoreThanFiveArguments() {
        for (Method m : LibC.class.getMethods()) {
            assertThat(m.getParameterCount()).as("LibC.%s", m.getName()).isLessThanOrEqualTo(5);
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
}
