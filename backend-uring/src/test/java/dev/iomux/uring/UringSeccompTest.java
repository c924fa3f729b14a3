package dev.iomux.uring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.iomux.NativeIOException;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;
import dev.iomux.testing.LeakCheck;
import dev.iomux.testing.Seccomp;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Availability told under a real seccomp filter: a child JVM confines itself ({@link Seccomp}) so that
 * io_uring_setup fails with ENOSYS, as Docker's and Podman's default profiles answer, or with EPERM, and
 * prints what the library says ({@link Child}); the test checks the words.
 *
 * <p>The EPERM case stands for kernel.io_uring_disabled too: with the sysctl at 2 (or at 1 for a process
 * outside io_uring_group without CAP_SYS_ADMIN), io_uring_setup fails with exactly that errno before it
 * does anything else (io_uring/io_uring.c, io_uring_allowed), so the process sees what it sees here. The
 * sysctl itself, which a test on a shared machine cannot set, is read from a file in
 * {@link UringSelectorProviderTest}.
 */
@ExtendWith(LeakCheck.class)
class UringSeccompTest {
    private static final int ENOSYS = 38;
    private static final int EPERM = 1;

    @BeforeAll
    static void onX8664() {
        Assumptions.assumeTrue(Seccomp.supported(), "the seccomp filter is installed on Linux x86-64 only");
    }

    @Test
    @DisplayName("io_uring_setup answered ENOSYS by seccomp: unavailable, and the reason says seccomp or no io_uring")
    void enosysIsToldAsSeccompOrNoIoUring() throws Exception {
        String out = child(ENOSYS);
        assertThat(out).contains("io_uring_setup directly: -1, errno 38")
                .containsPattern("cause: java.io.IOException: io_uring_setup\\(entries=2, flags=0x[0-9a-f]+\\)[^\n]*ENOSYS")
                .containsPattern("cause: [^\n]*a seccomp filter answers ENOSYS")
                .containsPattern("cause: [^\n]*built without CONFIG_IO_URING");
        assertTold(out, "ENOSYS");
    }

    @Test
    @DisplayName("io_uring_setup answered EPERM (what kernel.io_uring_disabled gives): the reason says which, by the sysctl's value")
    void epermIsToldAsTheSysctlOrSeccomp() throws Exception {
        String out = child(EPERM);
        assertThat(out).contains("io_uring_setup directly: -1, errno 1")
                .containsPattern("cause: java.io.IOException: io_uring_setup\\(entries=2, flags=0x[0-9a-f]+\\)[^\n]*EPERM")
                .containsPattern("cause: [^\n]*kernel.io_uring_disabled")
                .containsPattern("cause: [^\n]*a seccomp filter");
        assertTold(out, "EPERM");
        // The same EPERM of the kernel, told against each value the sysctl can have (a file standing for it):
        // the reason says which one applies, rather than listing both.
        assertThat(line(out, "EPERM with the sysctl at 0: "))
                .endsWith("a seccomp filter forbids io_uring to this process (kernel.io_uring_disabled=0 allows it)");
        assertThat(line(out, "EPERM with the sysctl at 1: ")).endsWith("kernel.io_uring_disabled=1 allows io_uring "
                + "only to members of kernel.io_uring_group and to CAP_SYS_ADMIN, or a seccomp filter forbids it");
        assertThat(line(out, "EPERM with the sysctl at 2: "))
                .endsWith("io_uring is disabled on this system (kernel.io_uring_disabled=2)");
        assertThat(line(out, "EPERM with the sysctl absent: ")).endsWith(
                "a seccomp filter forbids io_uring to this process (no kernel.io_uring_disabled before Linux 6.6)");
    }

    /** The same cause everywhere a user meets it, and everything else of the library still working. */
    private static void assertTold(String out, String errno) {
        String cause = line(out, "cause: java.io.IOException: ");
        assertThat(out).contains("available: false")
                .contains("open(\"uring\"): java.lang.UnsupportedOperationException: the uring backend is not available here: " + cause)
                // Alone on this class path, uring is the only backend: the default refuses, naming why.
                .contains("open(): java.lang.UnsupportedOperationException: no iomux backend is available here: "
                        + "uring: java.io.IOException: " + cause)
                .contains("providers: [uring, uring-single]")
                .contains("a pipe still works: 1 byte")
                .doesNotContain("Exception in thread");
        assertThat(cause).contains(errno);
    }

    private static String line(String out, String prefix) {
        int at = out.indexOf(prefix);
        assertThat(at).as("a line starting %s in:%n%s", prefix, out).isNotNegative();
        int end = out.indexOf('\n', at);
        return out.substring(at + prefix.length(), end < 0 ? out.length() : end).strip();
    }

    private static String child(int errno) throws Exception {
        Seccomp.Result r = Seccomp.run((int) Ring.SYS_IO_URING_SETUP, errno, Child.class);
        assertThat(r.exitCode()).as("the child's exit status; it printed:%n%s", r.output()).isZero();
        assertThat(r.output()).as("the filter is in place").contains("seccomp: system call 425 fails with errno " + errno);
        return r.output();
    }

    /**
     * Run under the filter: the library's availability, its reason, the refusals, then io_uring_setup
     * called directly (after the library, so that nothing could have asked before it), and a pipe.
     */
    static final class Child {
        private Child() {
        }

        public static void main(String[] args) throws Exception {
            SelectorProvider uring = Selectors.provider("uring");
            System.out.println("available: " + uring.isAvailable());
            System.out.println("cause: " + uring.unavailabilityCause());
            System.out.println("open(\"uring\"): " + outcome(() -> Selectors.open("uring")));
            System.out.println("open(): " + outcome(Selectors::open));
            List<String> names = new ArrayList<>();
            Selectors.providers().forEach(p -> names.add(p.name()));
            System.out.println("providers: " + names);
            long rc = Ring.LIB.syscall(Ring.SYS_IO_URING_SETUP, 2, 0, 0, 0, 0, 0);
            System.out.println("io_uring_setup directly: " + rc + ", errno "
                    + jnr.ffi.Runtime.getRuntime(Ring.LIB).getLastError());
            if (uring.unavailabilityCause().getCause() instanceof NativeIOException e && e.errno() == 1) {
                Path dir = Files.createTempDirectory("iomux-sysctl");
                Path sysctl = dir.resolve("io_uring_disabled");
                for (String value : new String[] {"0", "1", "2"}) {
                    Files.writeString(sysctl, value + "\n");
                    System.out.println("EPERM with the sysctl at " + value + ": "
                            + UringSelectorProvider.reason(e, sysctl));
                }
                Files.delete(sysctl);
                Files.delete(dir);
                System.out.println("EPERM with the sysctl absent: " + UringSelectorProvider.reason(e, sysctl));
            }
            var pipe = java.nio.channels.Pipe.open();
            int n = pipe.sink().write(java.nio.ByteBuffer.wrap(new byte[] {1}));
            System.out.println("a pipe still works: " + n + " byte");
            pipe.sink().close();
            pipe.source().close();
        }

        private interface Open {
            Selector open() throws Exception;
        }

        private static String outcome(Open open) {
            try (Selector s = open.open()) {
                return "opened " + s.backend();
            } catch (Exception e) {
                return e.toString();
            }
        }
    }
}
