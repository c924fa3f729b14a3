package dev.iomux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

import dev.iomux.spi.NativeBuffer;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import dev.iomux.testing.Signals;
import jnr.ffi.Platform;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Syscalls}: which binding a JDK gets (java.lang.foreign from JDK 22, from core-api's
 * {@code META-INF/versions/22}; jnr-ffi before, or with {@code -Ddev.iomux.native=jnr}), and that the
 * binding in use and {@link JnrSyscalls} give the same results and errnos on real pipes, sockets and epoll.
 * On JDK 17 both sides are jnr-ffi; the second test pass (JDK 25) compares the two bindings.
 */
@ExtendWith(LeakCheck.class)
class SyscallsBindingTest {
    private static final int FEATURE = Runtime.version().feature();

    @Test
    void jdk22AndLaterUseJavaLangForeignUnlessToldOtherwise() {
        String property = System.getProperty(Syscalls.PROPERTY);
        String expected = FEATURE >= 22 && !"jnr".equals(property) ? "ffm" : "jnr";
        assertThat(Syscalls.binding()).as("JDK %d, -D%s=%s, cause %s", FEATURE, Syscalls.PROPERTY, property,
                Syscalls.foreignUnavailabilityCause()).isEqualTo(expected);
        assertThat(Syscalls.isForeign()).isEqualTo(expected.equals("ffm"));
        if (Syscalls.isForeign()) {
            assertThat(Syscalls.foreignUnavailabilityCause()).isNull();
        } else {
            assertThat(Syscalls.foreignUnavailabilityCause()).isNotNull();
        }
    }

    @Test
    void thePropertySwitchesTheBinding() throws Exception {
        Assumptions.assumeTrue(FEATURE >= 22, "one binding below JDK 22");
        assertThat(childBinding("jnr")).isEqualTo("jnr java.lang.UnsupportedOperationException: "
                + "-Ddev.iomux.native=jnr");
        assertThat(childBinding("ffm")).isEqualTo("ffm null");
        assertThat(childBinding(null)).as("the default").isEqualTo("ffm null");
        assertThat(childBinding("jffi")).isEqualTo("jnr java.lang.IllegalArgumentException: "
                + "-Ddev.iomux.native=jffi: use ffm or jnr");
    }

    /** Runs {@link PrintBinding} in a JVM of this JDK with this class path and the property set (null: unset). */
    private static String childBinding(String value) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        if (value != null) {
            command.add("-D" + Syscalls.PROPERTY + "=" + value);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), PrintBinding.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the child JVM exits").isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    /** The child JVM's main: the binding and the reason java.lang.foreign is not used. */
    static final class PrintBinding {
        private PrintBinding() {
        }

        public static void main(String[] args) {
            System.out.println(Syscalls.binding() + " " + Syscalls.foreignUnavailabilityCause());
        }
    }

    @Test
    void readAndWriteAgreeOnBytesAndErrnos() throws IOException {
        try (Fds fds = new Fds()) {
            NativeBuffer buf = NativeBuffer.allocate(16);
            try {
                for (int[] p : new int[][] {fds.pipe(), fds.socketPair()}) { // both non-blocking
                    buf.putLong(0, 0x0102030405060708L);
                    assertThat(Syscalls.write(p[1], buf.address(), 8)).isEqualTo(8);
                    assertThat(JnrSyscalls.write(p[1], buf.address(), 3)).isEqualTo(3);
                    buf.putLong(0, 0);
                    assertThat(Syscalls.read(p[0], buf.address(), 5)).isEqualTo(5);
                    assertThat(JnrSyscalls.read(p[0], buf.address() + 5, 11)).isEqualTo(6);
                    assertThat(buf.getLong(0)).isEqualTo(0x0102030405060708L);
                    assertThat(Syscalls.read(p[0], buf.address(), 8)).isEqualTo(-Linux.EAGAIN);
                    assertThat(JnrSyscalls.read(p[0], buf.address(), 8)).isEqualTo(-Linux.EAGAIN);
                }
                int closed = fds.pipe()[1];
                fds.close(closed);
                assertThat(Syscalls.write(closed, buf.address(), 8)).isEqualTo(-Linux.EBADF);
                assertThat(JnrSyscalls.write(closed, buf.address(), 8)).isEqualTo(-Linux.EBADF);
                assertThat(Syscalls.read(closed, buf.address(), 8)).isEqualTo(-Linux.EBADF);
                assertThat(JnrSyscalls.read(closed, buf.address(), 8)).isEqualTo(-Linux.EBADF);
            } finally {
                buf.free();
            }
        }
    }

    /** Native's -1-and-errno contract over either binding: errno() reads what the failed call saw. */
    @Test
    void nativeErrnoFollowsTheBindingsFailures() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            NativeBuffer buf = NativeBuffer.allocate(8);
            try {
                assertThat(Native.read(p[0], buf.address(), 8)).isEqualTo(-1);
                assertThat(Native.errno()).isEqualTo(Linux.EAGAIN);
                assertThat(Native.epollWait(-1, buf.address(), 1, 0)).isEqualTo(-1);
                assertThat(Native.errno()).isEqualTo(Linux.EBADF);
                assertThat(Native.read(p[0], buf.address(), 8)).isEqualTo(-1);
                assertThat(Native.errno()).isEqualTo(Linux.EAGAIN);
            } finally {
                buf.free();
            }
        }
    }

    @Test
    void epollAgrees() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int[] q = fds.socketPair();
            int ep = fds.track(Native.check(Native.C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1"));
            NativeBuffer ev = NativeBuffer.allocate(64);
            try {
                int dataOffset = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64 ? 4 : 8;
                ev.putInt(0, Linux.EPOLLIN);
                ev.putLong(dataOffset, 0x1234_5678_9abc_def0L);
                assertThat(Syscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, p[0], ev.address())).isZero();
                ev.putLong(dataOffset, 42);
                assertThat(JnrSyscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, q[0], ev.address())).isZero();
                assertThat(Syscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, p[0], ev.address())).isEqualTo(-Linux.EEXIST);
                assertThat(JnrSyscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, q[0], ev.address()))
                        .isEqualTo(-Linux.EEXIST);
                assertThat(Syscalls.epollCtl(ep, Linux.EPOLL_CTL_DEL, p[1], 0)).isEqualTo(-Linux.ENOENT);
                assertThat(JnrSyscalls.epollCtl(ep, Linux.EPOLL_CTL_DEL, p[1], 0)).isEqualTo(-Linux.ENOENT);
                assertThat(Syscalls.epollCtl(-1, Linux.EPOLL_CTL_DEL, p[1], 0)).isEqualTo(-Linux.EBADF);

                assertThat(Syscalls.epollWait(ep, ev.address(), 4, 0)).isZero();
                assertThat(JnrSyscalls.epollWait(ep, ev.address(), 4, 0)).isZero();
                assertThat(Syscalls.epollWait(ep, ev.address(), 4, 1)).isZero(); // the blocking handle
                Fds.write(p[1], 1);
                ev.putLong(dataOffset, 0);
                assertThat(Syscalls.epollWait(ep, ev.address(), 4, 0)).isEqualTo(1);
                assertThat(ev.getLong(dataOffset)).isEqualTo(0x1234_5678_9abc_def0L);
                ev.putLong(dataOffset, 0);
                assertThat(JnrSyscalls.epollWait(ep, ev.address(), 4, 0)).isEqualTo(1);
                assertThat(ev.getLong(dataOffset)).isEqualTo(0x1234_5678_9abc_def0L);
                Fds.write(q[1], 1);
                assertThat(Syscalls.epollWait(ep, ev.address(), 4, 5_000)).isEqualTo(2);
                assertThat(JnrSyscalls.epollWait(ep, ev.address(), 4, 5_000)).isEqualTo(2);
                assertThat(Syscalls.epollWait(-1, ev.address(), 4, 0)).isEqualTo(-Linux.EBADF);
                assertThat(JnrSyscalls.epollWait(-1, ev.address(), 4, 0)).isEqualTo(-Linux.EBADF);
                assertThat(Syscalls.epollWait(ep, ev.address(), 0, 0)).isEqualTo(-Linux.EINVAL);
                assertThat(JnrSyscalls.epollWait(ep, ev.address(), 0, 0)).isEqualTo(-Linux.EINVAL);
            } finally {
                ev.free();
            }
        }
    }

    @Test
    void pollPpollAndPselectAgree() throws IOException {
        try (Fds fds = new Fds()) {
            int[] idle = fds.pipe();
            int[] full = fds.pipe();
            Fds.write(full[1], 1);
            NativeBuffer pfds = NativeBuffer.allocate(16);
            NativeBuffer ts = NativeBuffer.allocate(Linux.TIMESPEC_SIZE);
            NativeBuffer set = NativeBuffer.allocate(128); // one fd_set of 1024 bits
            try {
                pfds.putInt(0, idle[0]);
                pfds.putShort(4, (short) Linux.POLLIN);
                pfds.putInt(8, full[0]);
                pfds.putShort(12, (short) Linux.POLLIN);
                assertThat(Syscalls.poll(pfds.address(), 2, 0)).isEqualTo(1);
                assertThat(JnrSyscalls.poll(pfds.address(), 2, 0)).isEqualTo(1);
                assertThat(Syscalls.poll(pfds.address(), 2, 5_000)).isEqualTo(1);
                assertThat(Syscalls.poll(pfds.address(), 1, 1)).isZero();
                assertThat(JnrSyscalls.poll(pfds.address(), 1, 1)).isZero();
                assertThat(Syscalls.poll(-1L & ~0xfffL, 1, 0)).isEqualTo(-Linux.EFAULT);
                assertThat(JnrSyscalls.poll(-1L & ~0xfffL, 1, 0)).isEqualTo(-Linux.EFAULT);

                ts.putLong(0, 0);
                ts.putLong(8, 1_000);
                assertThat(Syscalls.ppoll(pfds.address(), 2, ts.address(), 0)).isEqualTo(1);
                ts.putLong(8, 1_000);
                assertThat(JnrSyscalls.ppoll(pfds.address(), 2, ts.address(), 0)).isEqualTo(1);
                ts.putLong(8, -1);
                assertThat(Syscalls.ppoll(pfds.address(), 2, ts.address(), 0)).isEqualTo(-Linux.EINVAL);
                ts.putLong(8, -1);
                assertThat(JnrSyscalls.ppoll(pfds.address(), 2, ts.address(), 0)).isEqualTo(-Linux.EINVAL);

                int nfds = Math.max(idle[0], full[0]) + 1;
                for (boolean noWait : new boolean[] {true, false}) {
                    set.putLong(8 * (full[0] / 64), 1L << (full[0] % 64));
                    ts.putLong(0, 0);
                    ts.putLong(8, noWait ? 0 : 1_000);
                    assertThat(Syscalls.pselect(nfds, set.address(), 0, 0, ts.address(), 0, noWait)).isEqualTo(1);
                    set.putLong(8 * (full[0] / 64), 1L << (full[0] % 64));
                    ts.putLong(8, noWait ? 0 : 1_000);
                    assertThat(JnrSyscalls.pselect(nfds, set.address(), 0, 0, ts.address(), 0)).isEqualTo(1);
                }
                int closed = fds.pipe()[0];
                fds.close(closed);
                set.putLong(8 * (closed / 64), 1L << (closed % 64));
                ts.putLong(0, 0);
                ts.putLong(8, 0);
                assertThat(Syscalls.pselect(closed + 1, set.address(), 0, 0, ts.address(), 0, true))
                        .isEqualTo(-Linux.EBADF);
                assertThat(JnrSyscalls.pselect(closed + 1, set.address(), 0, 0, ts.address(), 0))
                        .isEqualTo(-Linux.EBADF);
            } finally {
                set.free();
                ts.free();
                pfds.free();
            }
        }
    }

    @Test
    void epollPwait2Agrees() throws IOException {
        int probe;
        try {
            probe = JnrSyscalls.epollPwait2(-1, 0, 1, 0, 0);
        } catch (UnsatisfiedLinkError libcBefore235) {
            Assumptions.abort("libc before glibc 2.35");
            return;
        }
        Assumptions.assumeFalse(probe == -Linux.ENOSYS, "a kernel before 5.11");
        assertThat(probe).isEqualTo(-Linux.EBADF);
        assertThat(Syscalls.epollPwait2(-1, 0, 1, 0, 0)).isEqualTo(-Linux.EBADF);
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int ep = fds.track(Native.check(Native.C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1"));
            NativeBuffer ev = NativeBuffer.allocate(32);
            NativeBuffer ts = NativeBuffer.allocate(Linux.TIMESPEC_SIZE);
            try {
                ev.putInt(0, Linux.EPOLLIN);
                assertThat(Syscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, p[0], ev.address())).isZero();
                ts.putLong(0, 0);
                ts.putLong(8, 50_000);
                assertThat(Syscalls.epollPwait2(ep, ev.address(), 2, ts.address(), 0)).isZero();
                assertThat(JnrSyscalls.epollPwait2(ep, ev.address(), 2, ts.address(), 0)).isZero();
                Fds.write(p[1], 1);
                assertThat(Syscalls.epollPwait2(ep, ev.address(), 2, ts.address(), 0)).isEqualTo(1);
                assertThat(JnrSyscalls.epollPwait2(ep, ev.address(), 2, ts.address(), 0)).isEqualTo(1);
            } finally {
                ts.free();
                ev.free();
            }
        }
    }

    /**
     * A wait that a signal interrupts returns at once: -EINTR through jnr-ffi; through java.lang.foreign,
     * which asks a failed wait again without waiting to learn its errno, what is ready then (0 here).
     */
    @Test
    void aWaitASignalInterruptsReturnsAtOnce() throws Exception {
        Signals.installWinchHandler();
        try (Fds fds = new Fds()) {
            int[] idle = fds.pipe();
            int ep = fds.track(Native.check(Native.C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1"));
            NativeBuffer b = NativeBuffer.allocate(256);
            try {
                long ev = b.address();
                long pfd = ev + 32;
                long ts = pfd + 16;
                long set = ts + 16; // 128 bytes: one fd_set
                b.putInt(0, Linux.EPOLLIN);
                assertThat(Syscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, idle[0], ev)).isZero();
                b.putInt(32, idle[0]);
                b.putShort(36, (short) Linux.POLLIN);
                assertInterrupted("epoll_wait", () -> Syscalls.epollWait(ep, ev, 1, 10_000));
                assertInterrupted("poll", () -> Syscalls.poll(pfd, 1, 10_000));
                assertInterrupted("ppoll", () -> {
                    b.putLong(48, 10); // 10 s
                    b.putLong(56, 0);
                    return Syscalls.ppoll(pfd, 1, ts, 0);
                });
                assertInterrupted("pselect", () -> {
                    b.putLong(48, 10);
                    b.putLong(56, 0);
                    b.putLong(64 + 8 * (idle[0] / 64), 1L << (idle[0] % 64));
                    return Syscalls.pselect(idle[0] + 1, set, 0, 0, ts, 0, false);
                });
                if (Syscalls.epollPwait2(-1, 0, 1, 0, 0) == -Linux.EBADF) { // glibc 2.35 and Linux 5.11
                    assertInterrupted("epoll_pwait2", () -> {
                        b.putLong(48, 10);
                        b.putLong(56, 0);
                        return Syscalls.epollPwait2(ep, ev, 1, ts, 0);
                    });
                }
            } catch (UnsatisfiedLinkError libcBefore235) {
                // epoll_pwait2's probe: the other waits were checked
            } finally {
                b.free();
            }
        }
    }

    /** Runs a 10 s wait on nothing in another thread, signals it every 50 ms, and checks how it returns. */
    private static void assertInterrupted(String call, IntSupplier wait) throws Exception {
        AtomicLong thread = new AtomicLong();
        long start = System.nanoTime();
        CompletableFuture<Integer> result = CompletableFuture.supplyAsync(() -> {
            thread.set(Signals.self());
            return wait.getAsInt();
        });
        while (!result.isDone() && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5)) {
            Thread.sleep(50);
            if (thread.get() != 0 && !result.isDone()) {
                Signals.interrupt(thread.get());
            }
        }
        int r = result.get(10, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(millis).as("%s: ms before a signalled 10 s wait on nothing returned", call).isLessThan(5_000);
        assertThat(r).as("%s (%s binding): the result of a wait a signal interrupted", call, Syscalls.binding())
                .isIn(Syscalls.isForeign() ? List.of(0, -Linux.EINTR) : List.of(-Linux.EINTR));
    }
}
