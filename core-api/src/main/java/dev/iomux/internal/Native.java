package dev.iomux.internal;

import java.lang.reflect.Proxy;
import java.util.EnumSet;
import java.util.Set;

import dev.iomux.NativeIOException;
import dev.iomux.internal.binding.LibC;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.Platform;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The libc binding, loaded once, and the errno funnel every native call goes through.
 *
 * <p>Internal. On a platform iomux does not support, {@link #C} is a stand-in whose every method throws
 * {@link UnsupportedOperationException} naming the reason, and {@link #unavailabilityCause()} returns it;
 * backends report it from {@code unavailabilityCause()}.
 *
 * <p>read, write, poll, ppoll, pselect, epoll_wait and epoll_pwait2 here go through {@link Syscalls},
 * jnr-ffi on JDK 17 to 21 and {@code java.lang.foreign} from JDK 22; they keep this class's contract
 * (-1, then {@link #errno()}). Hot callers use {@link Syscalls} itself, which returns minus the errno.
 */
public final class Native {
    /** CPUs whose Linux ABI matches {@link Linux}'s constants (asm-generic numbering). */
    public static final Set<Platform.CPU> SUPPORTED_CPUS =
            EnumSet.of(Platform.CPU.X86_64, Platform.CPU.AARCH64, Platform.CPU.RISCV64);

    /** The binding. Never null; see the class comment for unsupported platforms. */
    public static final LibC C;

    private static final Runtime RUNTIME;
    private static final Throwable UNAVAILABLE;

    /**
     * Whether the hot calls (read, write, poll, ppoll and epoll_wait) go straight to the kernel through
     * {@code syscall(2)} instead of libc's wrappers of the same name.
     *
     * <p>Those wrappers are POSIX cancellation points: in a process with more than one thread (a JVM
     * always is one) glibc brackets each system call with {@code __pthread_enable_asynccancel} and
     * {@code __pthread_disable_asynccancel}, which was 4.9% of all samples of the epoll scaling benchmark
     * at N = 100 (docs/PERFORMANCE.md). A single-threaded C program skips them, and so does
     * {@code syscall(2)}, which is not a cancellation point. The JVM never cancels threads with
     * {@code pthread_cancel}, so nothing is lost. Only on x86-64, whose system call numbers follow
     * (checked against libc by NativeSyscallsTest); elsewhere, or with {@code -Diomux.libcWrappers=true},
     * libc's wrappers are called. ppoll goes through syscall(2) too, with six arguments, one a Pointer
     * ({@link LibC}, jnr/jnr-ffi#181). select and pselect stay with libc: pselect6's six arguments after the
     * number would make seven, which jnr-ffi passes through a buffer allocated per call, and the wrapper
     * costs once per wait, not per event.
     */
    static final boolean DIRECT_SYSCALLS;

    // x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
    static final long SYS_READ = 0;
    static final long SYS_WRITE = 1;
    static final long SYS_POLL = 7;
    static final long SYS_EPOLL_WAIT = 232;
    static final long SYS_PPOLL = 271;

    static {
        LibC lib = null;
        Runtime runtime = null;
        Throwable cause = null;
        try {
            Platform p = Platform.getNativePlatform();
            if (p.getOS() != Platform.OS.LINUX) {
                throw new UnsupportedOperationException(
                        "iomux binds Linux system calls (select, poll, epoll); this is " + p.getOSName());
            }
            if (!SUPPORTED_CPUS.contains(p.getCPU())) {
                throw new UnsupportedOperationException("iomux supports Linux on " + SUPPORTED_CPUS
                        + ", whose socket constants it knows; this is " + p.getCPU());
            }
            lib = LibraryLoader.create(LibC.class).option(LibraryOption.IgnoreError, true).load("c");
            runtime = Runtime.getRuntime(lib);
        } catch (Throwable t) {
            cause = t;
            lib = unavailable(t);
        }
        C = lib;
        RUNTIME = runtime;
        UNAVAILABLE = cause;
        DIRECT_SYSCALLS = cause == null && Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64
                && !Boolean.getBoolean("iomux.libcWrappers");
    }

    private Native() {
    }

    /**
     * Returns why the binding could not be loaded.
     *
     * @return the failure, or null when {@link #C} is usable
     */
    public static Throwable unavailabilityCause() {
        return UNAVAILABLE;
    }

    /**
     * read(2). Like every call here: the result, or -1 with {@link #errno()} set.
     *
     * @param fd    the descriptor
     * @param buf   the address to read into
     * @param count the most bytes to read
     * @return bytes read, 0 at end of stream, or -1
     */
    public static long read(int fd, long buf, long count) {
        return failed(Syscalls.read(fd, buf, count));
    }

    /**
     * write(2).
     *
     * @param fd    the descriptor
     * @param buf   the address of the bytes
     * @param count how many bytes
     * @return bytes written, or -1
     */
    public static long write(int fd, long buf, long count) {
        return failed(Syscalls.write(fd, buf, count));
    }

    /**
     * epoll_wait(2).
     *
     * @param epfd      the epoll instance
     * @param events    the address of the event array
     * @param maxEvents its length
     * @param timeout   milliseconds; -1 waits without a timeout
     * @return the count of events, or -1
     */
    public static int epollWait(int epfd, long events, int maxEvents, int timeout) {
        return failed(Syscalls.epollWait(epfd, events, maxEvents, timeout));
    }

    /**
     * poll(2).
     *
     * @param fds     the address of the pollfd array
     * @param nfds    its length
     * @param timeout milliseconds; -1 waits without a timeout
     * @return the count of ready entries, or -1
     */
    public static int poll(long fds, long nfds, int timeout) {
        return failed(Syscalls.poll(fds, nfds, timeout));
    }

    /**
     * ppoll(2): poll with a {@code struct timespec} timeout, nanoseconds. The kernel writes the time left
     * back into it (as select(2) does; the libc wrapper does too), so fill it before every call.
     *
     * @param fds      the address of the pollfd array
     * @param nfds     its length
     * @param timespec the address of a {@code struct timespec}, or 0 to wait without a timeout
     * @param sigmask  the address of a {@code sigset_t} to wait with, or 0 to keep the thread's mask
     * @return the count of ready entries, or -1
     */
    public static int ppoll(long fds, long nfds, long timespec, long sigmask) {
        return failed(Syscalls.ppoll(fds, nfds, timespec, sigmask));
    }

    /**
     * pselect(2) through libc (the pselect6 system call, whose sixth argument is a pointer to a pair:
     * the mask and its size, which glibc builds).
     *
     * @param nfds      the highest descriptor in the sets, plus one
     * @param readfds   address of an fd_set, or 0
     * @param writefds  address of an fd_set, or 0
     * @param exceptfds address of an fd_set, or 0
     * @param timespec  the address of a {@code struct timespec}, or 0 to wait without a timeout
     * @param sigmask   the address of a {@code sigset_t} to wait with, or 0 to keep the thread's mask
     * @return the count of set bits, or -1
     */
    public static int pselect(int nfds, long readfds, long writefds, long exceptfds, long timespec, long sigmask) {
        return failed(Syscalls.pselect(nfds, readfds, writefds, exceptfds, timespec, sigmask, false));
    }

    /** A Pointer for a sixth-argument binding (LibC, jnr/jnr-ffi#181): null, allocating nothing, for 0. */
    static Pointer pointer(long address) {
        return address == 0 ? null : Pointer.wrap(RUNTIME, address);
    }

    /**
     * epoll_pwait2(2) (Linux 5.11, glibc 2.35): epoll_wait with a {@code struct timespec} timeout, which
     * the kernel only reads.
     *
     * @param epfd      the epoll instance
     * @param events    the address of the event array
     * @param maxEvents its length
     * @param timespec  the address of a {@code struct timespec}, or 0 to wait without a timeout
     * @param sigmask   the address of a {@code sigset_t} to wait with, or 0 to keep the thread's mask
     * @return the count of events, or -1 (ENOSYS on a kernel before 5.11)
     * @throws UnsatisfiedLinkError with a libc before glibc 2.35, which has no such function
     */
    public static int epollPwait2(int epfd, long events, int maxEvents, long timespec, long sigmask) {
        return failed(Syscalls.epollPwait2(epfd, events, maxEvents, timespec, sigmask));
    }

    /**
     * The calling thread's timer slack, prctl(2) PR_GET_TIMERSLACK.
     *
     * @return nanoseconds, or -1
     */
    public static long timerSlack() {
        return C.prctl(Linux.PR_GET_TIMERSLACK, 0, 0, 0, 0);
    }

    /**
     * Sets the calling thread's timer slack, prctl(2) PR_SET_TIMERSLACK.
     *
     * @param nanos at least 1 (0 means the thread's default)
     * @return 0, or -1
     */
    public static int setTimerSlack(long nanos) {
        return C.prctl(Linux.PR_SET_TIMERSLACK, nanos, 0, 0, 0);
    }

    /**
     * fstat(2) through {@code syscall(2)}: glibc before 2.33 has no {@code fstat} symbol (only
     * {@code __fxstat}). Only {@code st_dev} and {@code st_ino} are read by callers, at offsets 0 and 8 on
     * every supported CPU (x86-64's {@code struct stat} and the generic one of AArch64 and RISC-V).
     *
     * @param fd   the descriptor
     * @param stat the address of at least {@link #STAT_SIZE} bytes
     * @return 0, or -1
     */
    public static int fstat(int fd, long stat) {
        return (int) C.syscall(SYS_FSTAT, fd, stat, 0, 0);
    }

    /** Bytes of a {@code struct stat} on the supported CPUs (144 on x86-64, 128 on the generic ABI). */
    public static final int STAT_SIZE = 144;

    /** fstat's number: arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h. */
    private static final long SYS_FSTAT =
            Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64 ? 5 : 80;

    /**
     * The -1 and errno of this class's contract from a {@link Syscalls} result (minus the errno on
     * failure). The {@code java.lang.foreign} binding captured the errno itself, so it is handed to
     * jnr-ffi's per-thread copy, where {@link #errno()} reads it; jnr-ffi's own calls left it there already.
     */
    private static long failed(long rc) {
        if (rc >= 0) {
            return rc;
        }
        if (Syscalls.isForeign()) {
            LastError.setLastError(RUNTIME, (int) -rc);
        }
        return -1;
    }

    private static int failed(int rc) {
        return (int) failed((long) rc);
    }

    /**
     * Returns the errno saved by the last {@code @SaveError} call on this thread (or set by a failed call
     * of this class through {@code java.lang.foreign}). Read it right after the
     * failing call: the next saving call overwrites it.
     *
     * @return the errno value
     */
    public static int errno() {
        return LastError.getLastError(RUNTIME);
    }

    /**
     * Turns the errno of the call that just failed into an exception. Reads errno first thing.
     *
     * @param syscall the call with its arguments, e.g. {@code "epoll_ctl(ADD, fd=7)"}
     * @return the exception to throw
     */
    public static NativeIOException error(String syscall) {
        return new NativeIOException(syscall, errno(), null);
    }

    /**
     * Checks an int result: negative means failure with errno set.
     *
     * @param rc      the call's return value
     * @param syscall the call's name for the message
     * @return {@code rc} when not negative
     * @throws NativeIOException when {@code rc < 0}
     */
    public static int check(int rc, String syscall) throws NativeIOException {
        if (rc < 0) {
            throw error(syscall);
        }
        return rc;
    }

    /**
     * Checks an int result of a call on one descriptor; the message names the descriptor.
     *
     * @param rc      the call's return value
     * @param syscall the call's name
     * @param fd      the descriptor it was called on
     * @return {@code rc} when not negative
     * @throws NativeIOException when {@code rc < 0}
     */
    public static int check(int rc, String syscall, int fd) throws NativeIOException {
        if (rc < 0) {
            throw error(withFd(syscall, fd));
        }
        return rc;
    }

    /** {@code "close"} becomes {@code "close(fd=3)"}, {@code "fcntl(F_GETFL)"} {@code "fcntl(fd=3, F_GETFL)"}. */
    private static String withFd(String syscall, int fd) {
        int paren = syscall.indexOf('(');
        return paren < 0 ? syscall + "(fd=" + fd + ")"
                : syscall.substring(0, paren + 1) + "fd=" + fd + ", " + syscall.substring(paren + 1);
    }

    /**
     * Closes a descriptor we own, ignoring errors: for clean-up paths where a failure has nothing left to
     * tell (close(2): the descriptor is released even when close reports an error).
     *
     * @param fd the descriptor; negative values are ignored
     */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            C.close(fd);
        }
    }

    private static LibC unavailable(Throwable cause) {
        return (LibC) Proxy.newProxyInstance(LibC.class.getClassLoader(), new Class<?>[] {LibC.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "toString": return "LibC(unavailable)";
                        case "hashCode": return System.identityHashCode(proxy);
                        case "equals": return proxy == args[0];
                        default: break;
                    }
                    throw new UnsupportedOperationException(
                            "libc is not available to iomux: " + cause.getMessage(), cause);
                });
    }
}
