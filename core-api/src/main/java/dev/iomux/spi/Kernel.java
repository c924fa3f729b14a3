package dev.iomux.spi;

import static dev.iomux.internal.Native.C;

import dev.iomux.NativeIOException;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.internal.Syscalls;
import jnr.ffi.Platform;

/**
 * The system calls a backend makes, each through one wrapper that names the errnos it tolerates, as
 * Netty's {@code Native.epollCtlAdd} and mio's {@code syscall!} do. A wrapper returns the call's result,
 * {@link #INTERRUPTED} where EINTR is expected (a wait), or throws {@link NativeIOException} naming the
 * call, its descriptor, the errno and, where one helps, what to do. No backend reads errno itself.
 *
 * <p>Linux on x86-64, AArch64 and RISC-V 64. Pointers are addresses of memory the caller owns, in
 * practice a {@link NativeBuffer}.
 */
public final class Kernel {
    /** What a wait returns when a signal interrupted it (EINTR): never restarted, signal(7). */
    public static final int INTERRUPTED = -1;

    /** errno(3) values a backend tells apart in a {@link NativeIOException#errno()}. */
    public static final int EPERM = Linux.EPERM;
    /** No such entry: epoll_ctl on a descriptor the instance does not hold. */
    public static final int ENOENT = Linux.ENOENT;
    /** Bad descriptor. */
    public static final int EBADF = Linux.EBADF;

    /**
     * Bytes of the {@code struct timespec} the nanosecond waits take ({@link #select(int, long, long, long,
     * long, NativeBuffer)}, {@link #poll(long, int, long, NativeBuffer)}, {@link #epollWait(int, long, int,
     * long, NativeBuffer)}): allocate one {@link NativeBuffer} of this size per selector, once.
     */
    public static final int TIMESPEC_SIZE = Linux.TIMESPEC_SIZE;

    /** select(2): an fd_set holds descriptors 0..FD_SETSIZE-1 (glibc's fixed bitmap). */
    public static final int FD_SETSIZE = Linux.FD_SETSIZE;

    /** epoll_ctl(2) operations. */
    public static final int EPOLL_CTL_ADD = Linux.EPOLL_CTL_ADD;
    /** epoll_ctl(2): change a registration. */
    public static final int EPOLL_CTL_MOD = Linux.EPOLL_CTL_MOD;
    /** epoll_event flags beyond the poll bits ({@link PollBits}). */
    public static final int EPOLLET = Linux.EPOLLET;
    /** One report, then disarmed until EPOLL_CTL_MOD. */
    public static final int EPOLLONESHOT = Linux.EPOLLONESHOT;
    /** Wake one of several epoll instances waiting on the same file (Linux 4.5). */
    public static final int EPOLLEXCLUSIVE = Linux.EPOLLEXCLUSIVE;

    /**
     * Whether {@code struct epoll_event} is packed (12 bytes, data at offset 4): on x86-64 only, where
     * the kernel's include/uapi/linux/eventpoll.h declares it {@code __attribute__((packed))}.
     */
    public static final boolean EPOLL_EVENT_PACKED = Native.unavailabilityCause() == null
            && Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64;

    private Kernel() {
    }

    /**
     * Returns why the libc binding could not be loaded here.
     *
     * @return the failure, or null when the calls work
     */
    public static Throwable unavailabilityCause() {
        return Native.unavailabilityCause();
    }

    /**
     * Tells whether a descriptor is open: fcntl(fd, F_GETFD) succeeds (select uses it to find which
     * descriptor made select(2) fail with EBADF).
     *
     * @param fd the descriptor
     * @return true if it is open
     */
    public static boolean isOpen(int fd) {
        return C.fcntl(fd, Linux.F_GETFD, 0) >= 0;
    }

    /**
     * Checks that a descriptor is open, as {@link #isOpen} does: the base's register does this for a
     * backend whose kernel only meets a descriptor at the next wait, so that a closed one is refused
     * (rule API-REGISTER) as epoll_ctl refuses it.
     *
     * @param fd the descriptor
     * @throws NativeIOException EBADF if it is not open
     */
    public static void requireOpen(int fd) throws NativeIOException {
        if (C.fcntl(fd, Linux.F_GETFD, 0) < 0) {
            throw new NativeIOException("fcntl(fd=" + fd + ", F_GETFD)", Native.errno(),
                    "register needs an open descriptor");
        }
    }

    /**
     * Closes a descriptor the caller owns, ignoring errors: close(2) releases it even when it reports one.
     *
     * @param fd the descriptor; negative values are ignored
     */
    public static void closeQuietly(int fd) {
        Native.closeQuietly(fd);
    }

    /**
     * select(2). EBADF (a watched descriptor is closed) is thrown like any other error; the sets are then
     * left as they were.
     *
     * @param nfds      the highest descriptor in the sets, plus one
     * @param readfds   address of an fd_set, or 0
     * @param writefds  address of an fd_set, or 0
     * @param exceptfds address of an fd_set, or 0
     * @param timeval   address of a {@code struct timeval}, or 0 to wait without a timeout
     * @return the count of set bits, or {@link #INTERRUPTED}
     * @throws NativeIOException for any errno but EINTR
     */
    public static int select(int nfds, long readfds, long writefds, long exceptfds, long timeval)
            throws NativeIOException {
        return waitResult(C.select(nfds, readfds, writefds, exceptfds, timeval), "select", "nfds", nfds);
    }

    /**
     * pselect(2) with no signal mask: select(2) with a nanosecond timeout, in a {@code struct timespec}
     * the caller owns. EBADF is thrown as by {@link #select(int, long, long, long, long)}.
     *
     * @param nfds         the highest descriptor in the sets, plus one
     * @param readfds      address of an fd_set, or 0
     * @param writefds     address of an fd_set, or 0
     * @param exceptfds    address of an fd_set, or 0
     * @param timeoutNanos negative: no timeout; zero: do not wait; positive: at least this long
     * @param timespec     at least {@link #TIMESPEC_SIZE} bytes, overwritten by the call
     * @return the count of set bits, or {@link #INTERRUPTED}
     * @throws NativeIOException for any errno but EINTR
     */
    public static int select(int nfds, long readfds, long writefds, long exceptfds, long timeoutNanos,
                             NativeBuffer timespec) throws NativeIOException {
        long ts = timeoutNanos < 0 ? 0 : timespec(timespec, timeoutNanos);
        long slack = timerSlackFor(timeoutNanos);
        int rc = Syscalls.pselect(nfds, readfds, writefds, exceptfds, ts, 0, timeoutNanos == 0);
        restoreTimerSlack(slack);
        return syscallResult(rc, "pselect", "nfds", nfds);
    }

    /**
     * poll(2), the timeout rounded up to the millisecond poll takes.
     *
     * @param fds          address of the pollfd array
     * @param nfds         its length
     * @param timeoutNanos negative: no timeout; zero: do not wait; positive: at least this long
     * @return the count of entries with events, or {@link #INTERRUPTED}
     * @throws NativeIOException for any errno but EINTR
     */
    public static int poll(long fds, int nfds, long timeoutNanos) throws NativeIOException {
        return syscallResult(Syscalls.poll(fds, nfds, toMillisCeil(timeoutNanos)), "poll", "nfds", nfds);
    }

    /**
     * poll(2) with a nanosecond timeout: a positive one goes to ppoll(2) (no signal mask) in a
     * {@code struct timespec} the caller owns; none and zero go to poll(2) as -1 and 0.
     *
     * @param fds          address of the pollfd array
     * @param nfds         its length
     * @param timeoutNanos negative: no timeout; zero: do not wait; positive: at least this long
     * @param timespec     at least {@link #TIMESPEC_SIZE} bytes, overwritten by the call
     * @return the count of entries with events, or {@link #INTERRUPTED}
     * @throws NativeIOException for any errno but EINTR
     */
    public static int poll(long fds, int nfds, long timeoutNanos, NativeBuffer timespec) throws NativeIOException {
        if (timeoutNanos <= 0) {
            return poll(fds, nfds, timeoutNanos);
        }
        long ts = timespec(timespec, timeoutNanos);
        long slack = timerSlackFor(timeoutNanos);
        int rc = Syscalls.ppoll(fds, nfds, ts, 0);
        restoreTimerSlack(slack);
        return syscallResult(rc, "ppoll", "nfds", nfds);
    }

    /**
     * epoll_create1(EPOLL_CLOEXEC).
     *
     * @return the new epoll instance
     * @throws NativeIOException if the kernel refuses (EMFILE, ENOMEM)
     */
    public static int epollCreate() throws NativeIOException {
        return Native.check(C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1(EPOLL_CLOEXEC)");
    }

    /**
     * epoll_ctl(2) ADD or MOD, with a hint for the errnos a user can act on.
     *
     * @param epfd  the epoll instance
     * @param op    {@link #EPOLL_CTL_ADD} or {@link #EPOLL_CTL_MOD}
     * @param fd    the descriptor
     * @param event address of one {@code struct epoll_event}
     * @throws NativeIOException for every errno
     */
    public static void epollCtl(int epfd, int op, int fd, long event) throws NativeIOException {
        int rc = Syscalls.epollCtl(epfd, op, fd, event);
        if (rc < 0) {
            int errno = -rc;
            throw new NativeIOException("epoll_ctl(" + (op == EPOLL_CTL_ADD ? "ADD" : "MOD") + ", fd=" + fd + ")",
                    errno, ctlHint(op, errno));
        }
    }

    /**
     * epoll_ctl(2) DEL. The errnos that mean the number no longer names the file that was added are
     * tolerated: EBADF (closed), ENOENT (reused by a file never added) and EPERM (reused by a file epoll
     * cannot watch, which do_epoll_ctl in fs/eventpoll.c checks before it looks at the operation).
     * Unregister must work after a close (CPython's test_unregister_after_fd_close).
     *
     * @param epfd the epoll instance
     * @param fd   the descriptor
     * @return true if the registration was removed, false if the number no longer reached it
     * @throws IllegalStateException if {@code epfd} is no longer an epoll instance (EINVAL): closed behind
     *                               its owner's back
     */
    public static boolean epollDel(int epfd, int fd) {
        int rc = Syscalls.epollCtl(epfd, Linux.EPOLL_CTL_DEL, fd, 0);
        if (rc == 0) {
            return true;
        }
        int errno = -rc;
        if (errno == EBADF || errno == ENOENT || errno == EPERM) {
            return false;
        }
        throw new IllegalStateException(new NativeIOException("epoll_ctl(DEL, fd=" + fd + ")", errno,
                "epoll instance fd " + epfd + " was closed behind the selector's back; close the selector"));
    }

    /**
     * epoll_wait(2), the timeout rounded up to the millisecond epoll_wait takes.
     *
     * @param epfd         the epoll instance
     * @param events       address of the event array
     * @param maxEvents    its length
     * @param timeoutNanos negative: no timeout; zero: do not wait; positive: at least this long
     * @return the count of events, or {@link #INTERRUPTED}
     * @throws NativeIOException for any errno but EINTR
     */
    public static int epollWait(int epfd, long events, int maxEvents, long timeoutNanos) throws NativeIOException {
        return syscallResult(Syscalls.epollWait(epfd, events, maxEvents, toMillisCeil(timeoutNanos)),
                "epoll_wait", "epfd", epfd);
    }

    /**
     * epoll_wait(2) with a nanosecond timeout: a positive one goes to epoll_pwait2(2) (no signal mask) in
     * a {@code struct timespec} the caller owns, where the kernel (5.11) and libc (glibc 2.35) have it
     * ({@link #hasEpollPwait2()}); elsewhere, and for none and zero, to epoll_wait(2), rounded up to its
     * milliseconds.
     *
     * @param epfd         the epoll instance
     * @param events       address of the event array
     * @param maxEvents    its length
     * @param timeoutNanos negative: no timeout; zero: do not wait; positive: at least this long
     * @param timespec     at least {@link #TIMESPEC_SIZE} bytes
     * @return the count of events, or {@link #INTERRUPTED}
     * @throws NativeIOException for any errno but EINTR
     */
    public static int epollWait(int epfd, long events, int maxEvents, long timeoutNanos, NativeBuffer timespec)
            throws NativeIOException {
        if (timeoutNanos > 0 && EpollPwait2.available) {
            long ts = timespec(timespec, timeoutNanos);
            long slack = timerSlackFor(timeoutNanos);
            int rc = Syscalls.epollPwait2(epfd, events, maxEvents, ts, 0);
            restoreTimerSlack(slack);
            if (rc != -Linux.ENOSYS) {
                return syscallResult(rc, "epoll_pwait2", "epfd", epfd);
            }
            EpollPwait2.available = false; // the probe passed, yet this kernel has none: a seccomp filter?
        }
        return epollWait(epfd, events, maxEvents, timeoutNanos);
    }

    /**
     * Tells whether epoll_pwait2(2) works here: Linux 5.11 or later, glibc 2.35 or later, and no seccomp
     * filter refusing it. Without it, epoll's timeouts are rounded up to epoll_wait's milliseconds.
     *
     * @return true if {@link #epollWait(int, long, int, long, NativeBuffer)} waits to the nanosecond
     */
    public static boolean hasEpollPwait2() {
        return EpollPwait2.available;
    }

    /** Whether epoll_pwait2 works, probed once on an invalid descriptor: EBADF if it does. */
    private static final class EpollPwait2 {
        static volatile boolean available = probe();

        private EpollPwait2() {
        }

        private static boolean probe() {
            if (Native.unavailabilityCause() != null) {
                return false;
            }
            try {
                return Syscalls.epollPwait2(-1, 0, 1, 0, 0) == -EBADF;
            } catch (UnsatisfiedLinkError libcBefore235) {
                return false;
            }
        }
    }

    /**
     * Checks the result of a call a port binds itself (through jnr-ffi, with {@code @SaveError}): reads
     * errno right away, as the next such call overwrites it.
     *
     * @param rc   what the call returned
     * @param call the call and its arguments, e.g. {@code "kevent(kq=5)"}
     * @return {@code rc} when not negative
     * @throws NativeIOException when {@code rc < 0}
     */
    public static long check(long rc, String call) throws NativeIOException {
        if (rc < 0) {
            throw Native.error(call);
        }
        return rc;
    }

    /**
     * Converts a timeout for a call that takes milliseconds: rounded up, so that a sub-millisecond timeout
     * waits rather than busy-polls (CPython's math.ceil, mio's +999_999 ns).
     *
     * @param timeoutNanos negative, zero or positive
     * @return -1, 0 or a positive count of milliseconds, at most {@link Integer#MAX_VALUE}
     */
    public static int toMillisCeil(long timeoutNanos) {
        if (timeoutNanos < 0) {
            return -1;
        }
        long ms = timeoutNanos / 1_000_000 + (timeoutNanos % 1_000_000 == 0 ? 0 : 1);
        return (int) Math.min(ms, Integer.MAX_VALUE);
    }

    /** Writes a positive or zero timeout into a {@code struct timespec}; returns its address. */
    private static long timespec(NativeBuffer timespec, long timeoutNanos) {
        if (timespec.size() < TIMESPEC_SIZE) {
            throw new IllegalArgumentException("a struct timespec needs Kernel.TIMESPEC_SIZE (" + TIMESPEC_SIZE
                    + ") bytes; got a NativeBuffer of " + timespec.size());
        }
        timespec.putLong(0, timeoutNanos / 1_000_000_000L);
        timespec.putLong(8, timeoutNanos % 1_000_000_000L);
        return timespec.address();
    }

    /**
     * The kernel lets a timed wait end up to the thread's timer slack late (50 us by default, prctl(2)
     * PR_SET_TIMERSLACK), or 0.1% of the timeout if that is more (select_estimate_accuracy in fs/select.c,
     * used by select, poll and epoll alike): a 50 us wait would take about 100 us. So before a wait shorter
     * than a millisecond the thread's slack is lowered to at most 0.1% of it (a power of two of
     * nanoseconds, at least 1), and it stays lowered while the thread goes on making such waits: an event
     * loop's next short wait makes no prctl call, where reading, lowering and putting back the slack around
     * each wait took three (about 1 us each on a virtual machine, a tenth of a 50 us wait's precision). It
     * is put back before the thread's next wait of a millisecond or more, which keeps the thread's own slack
     * (at most 5% of such a wait with the default). A virtual thread, which may run on another carrier by
     * its next wait, gets its carrier's slack back after each wait.
     *
     * @return the slack to put back after this wait (a virtual thread's), or 0
     */
    private static long timerSlackFor(long timeoutNanos) {
        if (timeoutNanos <= 0) {
            return 0; // no timer: a wait without a timeout, or none at all
        }
        long[] slack = SLACK.get();
        if (timeoutNanos >= SLACK_FREE_NANOS) {
            if (slack[LOWERED] != 0 && Native.setTimerSlack(slack[OWN]) == 0) {
                slack[LOWERED] = 0;
            }
            return 0;
        }
        long wanted = Long.highestOneBit(Math.max(1, timeoutNanos / 1000));
        long lowered = slack[LOWERED];
        if (lowered == wanted || (lowered != 0 && lowered == wanted / 2)) {
            // Half is still at most 0.1%: a loop whose waits straddle a power of two (64.5 us asked, less
            // once the selector's own work is taken off) keeps one slack instead of a prctl each time.
            return 0;
        }
        if (lowered == 0) {
            slack[OWN] = Native.timerSlack(); // read again each time it is lowered: the thread may have set it
            if (slack[OWN] <= wanted) {
                return 0;
            }
        }
        if (Native.setTimerSlack(wanted) != 0) {
            return 0;
        }
        if (KernelWait.isVirtual(Thread.currentThread())) {
            return slack[OWN]; // put back after the wait, on the carrier that made it
        }
        slack[LOWERED] = wanted;
        return 0;
    }

    /** A timeout this long or longer keeps the thread's slack. */
    private static final long SLACK_FREE_NANOS = 1_000_000L;

    /** Per thread: the slack this class lowered it to ({@link #LOWERED}, 0: not lowered) and its own. */
    private static final ThreadLocal<long[]> SLACK = ThreadLocal.withInitial(() -> new long[2]);
    private static final int LOWERED = 0;
    private static final int OWN = 1;

    private static void restoreTimerSlack(long slack) {
        if (slack > 0) {
            Native.setTimerSlack(slack);
        }
    }

    /** A wait's result: a count passes, EINTR becomes INTERRUPTED; the message is built only on failure. */
    private static int waitResult(int rc, String call, String argName, int arg) throws NativeIOException {
        return waitResult(rc, rc < 0 ? Native.errno() : 0, call, argName, arg);
    }

    /** {@link #waitResult(int, String, String, int)} for a {@link Syscalls} result: minus the errno on failure. */
    private static int syscallResult(int rc, String call, String argName, int arg) throws NativeIOException {
        return rc >= 0 ? rc : waitResult(-1, -rc, call, argName, arg);
    }

    /** {@link #waitResult(int, String, String, int)} with the errno read right after the call. */
    private static int waitResult(int rc, int errno, String call, String argName, int arg) throws NativeIOException {
        if (rc >= 0) {
            return rc;
        }
        if (errno == Linux.EINTR) {
            return INTERRUPTED;
        }
        throw new NativeIOException(call + "(" + argName + "=" + arg + ")", errno, null);
    }

    private static String ctlHint(int op, int errno) {
        if (errno == EBADF) {
            // The same words as select and poll, whose register checks with isOpen.
            return op == EPOLL_CTL_ADD ? "register needs an open descriptor"
                    : "the descriptor was closed while registered: unregister before closing";
        }
        if (errno == EPERM) {
            return "epoll cannot watch regular files, directories or /dev/null, which are always readable and "
                    + "writable (rule FILE-EPOLL-EPERM): read them directly, or use the poll or select backend";
        }
        if (errno == Linux.EEXIST && op == EPOLL_CTL_ADD) {
            return "the descriptor's file is still registered through a number that was closed without "
                    + "unregister (epoll(7) Q6)";
        }
        if (errno == Linux.ENOSPC) {
            return "the per-user limit /proc/sys/fs/epoll/max_user_watches is reached";
        }
        return null;
    }
}
