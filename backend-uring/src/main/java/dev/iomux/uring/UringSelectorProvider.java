package dev.iomux.uring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import dev.iomux.NativeIOException;
import dev.iomux.Selector;
import dev.iomux.spi.AbstractSelectorProvider;

/**
 * The io_uring backend: readiness through IORING_OP_POLL_ADD, level-triggered by re-arming, with
 * {@code EDGE} (a multishot poll) and {@code ONESHOT} modes, distinct error and hang-up flags, and no
 * descriptor limit of its own; no {@code PRIORITY} (a POLLPRI poll is not woken by TCP urgent data). Never opened by {@code Selectors.open()} (its rank is 0): ask for it by name,
 * {@code Selectors.open("uring")}.
 *
 * <p>Unregister before closing a descriptor, and let the selector select once: a descriptor closed while
 * its poll is armed stays open in the kernel until the selecting thread's next wait cancels the poll.
 *
 * <p>Needs Linux 5.13 or later (multishot polls) with io_uring allowed:
 * {@link #unavailabilityCause()} says why not otherwise (kernel.io_uring_disabled, a seccomp filter,
 * a missing feature).
 *
 * <p>For one dedicated event-loop thread, {@link UringSingleSelectorProvider} ({@code "uring-single"}) sets
 * its rings up with IORING_SETUP_SINGLE_ISSUER and IORING_SETUP_DEFER_TASKRUN.
 */
public final class UringSelectorProvider extends AbstractSelectorProvider {
    /** Not above 0: {@code Selectors.open()} never picks it (epoll, poll, select stay the default order). */
    static final int PRIORITY = 0;

    static final Path IO_URING_DISABLED = Path.of("/proc/sys/kernel/io_uring_disabled");

    /** Creates the provider; {@link java.util.ServiceLoader} does this. */
    public UringSelectorProvider() {
        super("uring", PRIORITY, UringSelector.CAPABILITIES);
    }

    /** Sets up a ring with the selector's flags, checks its features, and closes it. */
    @Override
    protected void probe() throws IOException {
        String disabled = disabledBySysctl(IO_URING_DISABLED);
        if (disabled != null) {
            throw new IOException(disabled);
        }
        int flags;
        try {
            flags = SelectorFlags.choose(); // its first ring is the first io_uring_setup: ENOSYS, EPERM show here
        } catch (NativeIOException e) {
            throw new IOException(reason(e), e);
        }
        probeSetup(flags);
    }

    /** Sets up a small ring with {@code flags} and closes it; the exception says why it failed. */
    static void probeSetup(int flags) throws IOException {
        try {
            new Ring(2, 4, flags).close();
        } catch (NativeIOException e) {
            throw new IOException(reason(e), e);
        }
    }

    /** A failed io_uring_setup in words a user can act on. */
    static String reason(NativeIOException e) {
        return reason(e, IO_URING_DISABLED);
    }

    /** As {@link #reason(NativeIOException)}, an EPERM told by the value of {@code sysctl}. */
    static String reason(NativeIOException e, Path sysctl) {
        if (e.syscall() == null || !e.syscall().startsWith("io_uring_setup")) {
            return e.getMessage();
        }
        String why;
        switch (e.errnoName()) {
            case "ENOSYS":
                why = "the kernel has no io_uring (built without CONFIG_IO_URING), or a seccomp filter answers "
                        + "ENOSYS for it, as container runtimes' default profiles do";
                break;
            case "EPERM":
                why = forbidden(sysctl);
                break;
            case "EINVAL":
                why = "the kernel refused the ring's parameters (a setup flag it does not know)";
                break;
            case "ENOMEM":
                why = "no memory for the rings (locked-memory limit, RLIMIT_MEMLOCK, before Linux 5.12)";
                break;
            default:
                why = "io_uring cannot be used here";
        }
        return e.getMessage() + ": " + why;
    }

    /**
     * Why io_uring_setup answered EPERM, told by the sysctl's value: io_uring_allowed (io_uring/io_uring.c)
     * gives EPERM for kernel.io_uring_disabled=2, and for 1 to a process outside kernel.io_uring_group
     * without CAP_SYS_ADMIN; otherwise it is a seccomp filter's answer.
     */
    private static String forbidden(Path sysctl) {
        String value;
        try {
            value = Files.readString(sysctl).strip();
        } catch (NoSuchFileException e) {
            return "a seccomp filter forbids io_uring to this process (no kernel.io_uring_disabled before Linux 6.6)";
        } catch (IOException e) {
            return "io_uring is not allowed for this process: kernel.io_uring_disabled (unreadable here), "
                    + "or a seccomp filter";
        }
        switch (value) {
            case "0":
                return "a seccomp filter forbids io_uring to this process (kernel.io_uring_disabled=0 allows it)";
            case "1":
                return "kernel.io_uring_disabled=1 allows io_uring only to members of kernel.io_uring_group and "
                        + "to CAP_SYS_ADMIN, or a seccomp filter forbids it";
            case "2":
                return "io_uring is disabled on this system (kernel.io_uring_disabled=2)";
            default:
                return "io_uring is not allowed for this process: kernel.io_uring_disabled=" + value
                        + ", or a seccomp filter";
        }
    }

    /**
     * @return why {@code sysctl} (kernel.io_uring_disabled, Linux 6.6) forbids io_uring to this process,
     *         or null if it allows it or does not exist
     */
    static String disabledBySysctl(Path sysctl) {
        String value;
        try {
            value = Files.readString(sysctl).strip();
        } catch (NoSuchFileException e) {
            return null; // before Linux 6.6: no such switch
        } catch (IOException e) {
            return null; // unreadable: let io_uring_setup answer
        }
        if ("2".equals(value)) {
            return "io_uring is disabled on this system (kernel.io_uring_disabled=2)";
        }
        return null; // 0: allowed; 1: allowed to the io_uring_group and CAP_SYS_ADMIN, which setup tells
    }

    @Override
    protected Selector newSelector() throws IOException {
        return new UringSelector(SelectorFlags.choose());
    }
}
