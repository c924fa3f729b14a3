package dev.iomux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.iomux.spi.NativeBuffer;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import jnr.ffi.Platform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The waits of a select (epoll_wait, epoll_pwait2, poll, ppoll and pselect, with a zero timeout and with
 * a positive one) and epoll_ctl allocate nothing on the Java heap when they succeed, whatever the JIT
 * decides: they are measured in a child JVM with escape analysis off ({@code -XX:-DoEscapeAnalysis}),
 * where an object that the JIT would otherwise have kept off the heap is allocated on every call. The
 * kit checks that a handler select allocates nothing (API-SELECT-RESULT); this is why that holds in every
 * run, not only in those where the JIT inlines far enough. The child uses this JVM's binding
 * (-D{@value Syscalls#PROPERTY}).
 */
@ExtendWith(LeakCheck.class)
class SyscallsAllocationTest {
    /** Calls measured per kind, after as many for the JIT; an allocation per call is far above a tenth. */
    static final int ROUNDS = 100_000;

    @Test
    void theWaitsAndEpollCtlAllocateNothingEvenWithoutEscapeAnalysis() throws Exception {
        Map<String, Long> bytes = childBytes("-XX:-DoEscapeAnalysis");
        assertThat(bytes.keySet()).as("the calls measured (epoll_pwait2 where libc and kernel have it)")
                .containsAll(Measure.KINDS.subList(0, Measure.KINDS.size() - 1));
        bytes.forEach((kind, b) -> assertThat(b)
                .as("%s binding: bytes allocated by %d calls of %s with -XX:-DoEscapeAnalysis (all: %s)",
                        Syscalls.binding(), ROUNDS, kind, bytes)
                .isLessThan(ROUNDS / 10));
    }

    /** Runs {@link Measure} in a JVM of this JDK with this class path, the binding and the options given. */
    private static Map<String, Long> childBytes(String... options) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        String binding = System.getProperty(Syscalls.PROPERTY);
        if (binding != null) {
            command.add("-D" + Syscalls.PROPERTY + "=" + binding);
        }
        command.addAll(List.of(options));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Measure.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the child JVM exits").isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        Map<String, Long> bytes = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length == 2 && Measure.KINDS.contains(f[0])) {
                bytes.put(f[0], Long.parseLong(f[1]));
            }
        }
        return bytes;
    }

    /** The child JVM's main: prints "kind bytes" per kind of call, for {@link #ROUNDS} successful calls. */
    static final class Measure {
        /** The calls measured: "now" with a zero timeout, "1s" with one second (each finds a key ready). */
        static final List<String> KINDS = List.of("epoll_ctl", "epoll_wait/now", "epoll_wait/1s", "poll/now",
                "poll/1s", "ppoll/1s", "pselect/now", "pselect/1s", "epoll_pwait2/1s");

        private Measure() {
        }

        public static void main(String[] args) throws IOException {
            try (Fds fds = new Fds()) {
                int[] p = fds.pipe();
                Fds.write(p[1], 1); // readable for every call below
                int ep = fds.track(Native.check(Native.C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1"));
                NativeBuffer ev = NativeBuffer.allocate(64);
                NativeBuffer pfd = NativeBuffer.allocate(8);
                NativeBuffer set = NativeBuffer.allocate(128); // one fd_set of 1024 bits
                NativeBuffer ts = NativeBuffer.allocate(Linux.TIMESPEC_SIZE);
                try {
                    int dataOffset = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64 ? 4 : 8;
                    ev.putInt(0, Linux.EPOLLIN);
                    ev.putLong(dataOffset, 7);
                    check(Syscalls.epollCtl(ep, Linux.EPOLL_CTL_ADD, p[0], ev.address()), 0, "epoll_ctl ADD");
                    pfd.putInt(0, p[0]);
                    pfd.putShort(4, (short) Linux.POLLIN);
                    ts.putLong(0, 0);
                    ts.putLong(8, 0);
                    long events = ev.address() + 16;
                    for (String kind : KINDS) {
                        Runnable call = switch (kind) {
                            case "epoll_ctl" -> () -> check(Syscalls.epollCtl(ep, Linux.EPOLL_CTL_MOD, p[0],
                                    ev.address()), 0, kind);
                            case "epoll_wait/now" -> () -> check(Syscalls.epollWait(ep, events, 2, 0), 1, kind);
                            case "epoll_wait/1s" -> () -> check(Syscalls.epollWait(ep, events, 2, 1_000), 1, kind);
                            case "poll/now" -> () -> check(Syscalls.poll(pfd.address(), 1, 0), 1, kind);
                            case "poll/1s" -> () -> check(Syscalls.poll(pfd.address(), 1, 1_000), 1, kind);
                            case "ppoll/1s" -> () -> {
                                ts.putLong(0, 1); // tv_sec; ppoll writes the time left back
                                check(Syscalls.ppoll(pfd.address(), 1, ts.address(), 0), 1, kind);
                                ts.putLong(0, 0);
                            };
                            case "pselect/now", "pselect/1s" -> () -> {
                                boolean now = kind.endsWith("now");
                                set.putLong(8 * (p[0] / 64), 1L << (p[0] % 64)); // pselect clears what is not ready
                                ts.putLong(0, now ? 0 : 1);
                                check(Syscalls.pselect(p[0] + 1, set.address(), 0, 0, ts.address(), 0, now), 1, kind);
                                ts.putLong(0, 0);
                            };
                            default -> () -> {
                                ts.putLong(0, 1);
                                check(Syscalls.epollPwait2(ep, events, 2, ts.address(), 0), 1, kind);
                                ts.putLong(0, 0);
                            };
                        };
                        if (kind.startsWith("epoll_pwait2") && !hasEpollPwait2()) {
                            continue;
                        }
                        bytes(call); // for the JIT
                        System.out.println(kind + " " + bytes(call));
                    }
                } finally {
                    ts.free();
                    set.free();
                    pfd.free();
                    ev.free();
                }
            }
        }

        /** Whether libc (glibc 2.35) and the kernel (5.11) have epoll_pwait2(2). */
        private static boolean hasEpollPwait2() {
            try {
                return Syscalls.epollPwait2(-1, 0, 1, 0, 0) == -Linux.EBADF;
            } catch (UnsatisfiedLinkError libcBefore235) {
                return false;
            }
        }

        private static long bytes(Runnable call) {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < ROUNDS; i++) {
                call.run();
            }
            return threads.getCurrentThreadAllocatedBytes() - before;
        }

        private static void check(long result, long expected, String kind) {
            if (result != expected) {
                throw new IllegalStateException(kind + " returned " + result + ", expected " + expected);
            }
        }
    }
}
