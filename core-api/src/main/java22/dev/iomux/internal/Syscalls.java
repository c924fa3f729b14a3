package dev.iomux.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;

/**
 * The hot system calls (read, write, the waits, epoll_ctl), each returning its result or minus the errno:
 * the JDK 22 and later version (in {@code META-INF/versions/22}), which calls the kernel through
 * {@code java.lang.foreign} downcall handles and leaves jnr-ffi (jffi) out of these calls.
 *
 * <p>Internal. The binding is picked once, when the class loads: {@code java.lang.foreign} unless
 * {@code -Ddev.iomux.native=jnr}, or linking fails ({@link #foreignUnavailabilityCause()} says why; for
 * example {@code --illegal-native-access=deny} without {@code --enable-native-access}); then
 * {@link JnrSyscalls}, as on JDK 17 to 21. {@link #binding()} names it. The foreign binding is the
 * default because jffi, under jnr-ffi, loads its stub with {@code System::load} and reads memory through
 * {@code sun.misc.Unsafe} (jnr/jffi#165, #169), which JEP 471 and JEP 498 deprecate for removal.
 *
 * <p>The calls that cannot block for long (read and write on non-blocking descriptors, epoll_ctl, and the
 * waits with a zero timeout) are critical downcalls ({@code Linker.Option.critical}): no transition of the
 * thread's state around the call, which is most of an ordinary downcall's cost. A wait that may block goes
 * through an ordinary downcall, so that a garbage collection is not held up by a thread parked in the
 * kernel. errno is captured by the downcall itself ({@code Linker.Option.captureCallState("errno")}), since
 * the JVM may change errno before Java code runs, into a small native segment each thread allocates once;
 * JDK 25 accepts that option together with critical, and where a JDK refuses the pair, that call is linked
 * as an ordinary downcall instead.
 *
 * <p>A select allocates nothing, whatever the JIT does: the waits and epoll_ctl go through handles that
 * do not capture errno, and only a call that failed is made again, without waiting, through one that
 * does. A handle that captures errno allocates on every call: it passes the segment through
 * {@code SharedUtils.checkCaptureSegment} (JDK 25), which returns {@code segment.asSlice(0, layout)}, a new
 * 40-byte segment, kept off the heap only where the JIT inlines that far and escape analysis removes it;
 * one run of the kit on JDK 25 found it on the heap, 40 bytes per select. Asking a failed call again is
 * safe for these calls: one that failed changed nothing (no event consumed, no set or revents written
 * back, no interest changed), so the second call fails the same way, or gives what the call would have
 * given a moment later if something changed meanwhile. The one argument the second call does not repeat,
 * the caller's {@code struct timespec}, is checked first (EINVAL). A wait that a signal interrupted
 * (EINTR) has no lasting cause, so its second call returns what is ready then, often 0, rather than
 * -EINTR: the callers take either as a wait that returned early, and wait again for the time left
 * (EINTR-RETRY). read and write capture errno on every call: a failed read or write of a socket consumes
 * its pending error (ECONNRESET, ETIMEDOUT), which a second call would not see.
 *
 * <p>Where {@link Native#DIRECT_SYSCALLS} says so, read, write, poll, ppoll and epoll_wait call
 * {@code syscall(2)} rather than libc's wrappers, which are cancellation points (see there), as the
 * jnr-ffi binding does. Pointers are passed as {@code long}: every supported CPU is LP64.
 */
public final class Syscalls {
    /** The system property that picks the binding on JDK 22 and later: {@code ffm} (the default) or {@code jnr}. */
    public static final String PROPERTY = "dev.iomux.native";

    private static final boolean FOREIGN;
    private static final Throwable UNAVAILABLE;

    // Handles named *_ERRNO capture errno, into a segment passed first; the others do not (see the class).
    /** Critical, errno: (MemorySegment capture, int fd, long buf, long count) long. */
    private static final MethodHandle READ_ERRNO;
    private static final MethodHandle WRITE_ERRNO;
    /** (int epfd, long events, int maxEvents, int timeout) int: critical for a zero timeout, and ordinary. */
    private static final MethodHandle EPOLL_WAIT_NOW;
    private static final MethodHandle EPOLL_WAIT;
    /** Critical, errno: (MemorySegment capture, int epfd, long events, int maxEvents, int timeout) int. */
    private static final MethodHandle EPOLL_WAIT_NOW_ERRNO;
    /** Critical: (int epfd, int op, int fd, long event) int; and with errno, the segment first. */
    private static final MethodHandle EPOLL_CTL;
    private static final MethodHandle EPOLL_CTL_ERRNO;
    /** (long fds, long nfds, int timeout) int: critical for a zero timeout, and ordinary. */
    private static final MethodHandle POLL_NOW;
    private static final MethodHandle POLL;
    /** Critical, errno: (MemorySegment capture, long fds, long nfds, int timeout) int. */
    private static final MethodHandle POLL_NOW_ERRNO;
    /** (long fds, long nfds, long timespec, long sigmask) int; and with errno, the segment first. */
    private static final MethodHandle PPOLL;
    private static final MethodHandle PPOLL_ERRNO;
    /** (int nfds, long r, long w, long e, long timespec, long sigmask) int: critical for a zero timeout. */
    private static final MethodHandle PSELECT_NOW;
    private static final MethodHandle PSELECT;
    /** Critical, errno: (MemorySegment capture, int nfds, long r, long w, long e, long ts, long sigmask) int. */
    private static final MethodHandle PSELECT_NOW_ERRNO;
    /** (int epfd, long events, int maxEvents, long timespec, long sigmask) int; errno: segment first. Or null. */
    private static final MethodHandle EPOLL_PWAIT2;
    private static final MethodHandle EPOLL_PWAIT2_ERRNO;
    /** A {@code struct timespec} of zero, for asking a failed wait again without waiting; never freed. */
    private static final long ZERO_TIMESPEC;
    private static final long ERRNO_OFFSET;
    private static final ThreadLocal<MemorySegment> CAPTURE;

    static {
        MethodHandle[] h = null;
        Throwable cause = null;
        long errnoOffset = 0;
        String wanted = System.getProperty(PROPERTY, "ffm");
        if (wanted.equals("jnr")) {
            cause = new UnsupportedOperationException("-D" + PROPERTY + "=jnr");
        } else if (!wanted.equals("ffm")) {
            cause = new IllegalArgumentException("-D" + PROPERTY + "=" + wanted + ": use ffm or jnr");
        } else if (Native.unavailabilityCause() != null) {
            cause = Native.unavailabilityCause();
        } else {
            try {
                MemoryLayout state = Linker.Option.captureStateLayout();
                errnoOffset = state.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
                h = link();
            } catch (Throwable t) {
                cause = t;
            }
        }
        FOREIGN = h != null;
        UNAVAILABLE = cause;
        ERRNO_OFFSET = errnoOffset;
        int i = 0;
        READ_ERRNO = FOREIGN ? h[i++] : null;
        WRITE_ERRNO = FOREIGN ? h[i++] : null;
        EPOLL_WAIT_NOW = FOREIGN ? h[i++] : null;
        EPOLL_WAIT = FOREIGN ? h[i++] : null;
        EPOLL_WAIT_NOW_ERRNO = FOREIGN ? h[i++] : null;
        EPOLL_CTL = FOREIGN ? h[i++] : null;
        EPOLL_CTL_ERRNO = FOREIGN ? h[i++] : null;
        POLL_NOW = FOREIGN ? h[i++] : null;
        POLL = FOREIGN ? h[i++] : null;
        POLL_NOW_ERRNO = FOREIGN ? h[i++] : null;
        PPOLL = FOREIGN ? h[i++] : null;
        PPOLL_ERRNO = FOREIGN ? h[i++] : null;
        PSELECT_NOW = FOREIGN ? h[i++] : null;
        PSELECT = FOREIGN ? h[i++] : null;
        PSELECT_NOW_ERRNO = FOREIGN ? h[i++] : null;
        EPOLL_PWAIT2 = FOREIGN ? h[i++] : null;
        EPOLL_PWAIT2_ERRNO = FOREIGN ? h[i++] : null;
        ZERO_TIMESPEC = FOREIGN ? Arena.global().allocate(Linux.TIMESPEC_SIZE, 8).address() : 0;
        CAPTURE = FOREIGN ? ThreadLocal.withInitial(
                () -> Arena.ofAuto().allocate(Linker.Option.captureStateLayout())) : null;
    }

    private Syscalls() {
    }

    /**
     * Names the binding in use.
     *
     * @return {@code "ffm"} or {@code "jnr"}
     */
    public static String binding() {
        return FOREIGN ? "ffm" : "jnr";
    }

    /**
     * Tells whether the calls go through {@code java.lang.foreign}.
     *
     * @return true for the {@code ffm} binding
     */
    public static boolean isForeign() {
        return FOREIGN;
    }

    /**
     * Returns why the {@code java.lang.foreign} binding is not in use.
     *
     * @return the reason, or null when it is
     */
    public static Throwable foreignUnavailabilityCause() {
        return UNAVAILABLE;
    }

    /**
     * read(2).
     *
     * @param fd    the descriptor
     * @param buf   the address to read into
     * @param count the most bytes to read
     * @return bytes read, 0 at end of stream, or minus the errno
     */
    public static long read(int fd, long buf, long count) {
        if (!FOREIGN) {
            return JnrSyscalls.read(fd, buf, count);
        }
        MemorySegment capture = CAPTURE.get();
        try {
            long r = (long) READ_ERRNO.invokeExact(capture, fd, buf, count);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * write(2).
     *
     * @param fd    the descriptor
     * @param buf   the address of the bytes
     * @param count how many bytes
     * @return bytes written, or minus the errno
     */
    public static long write(int fd, long buf, long count) {
        if (!FOREIGN) {
            return JnrSyscalls.write(fd, buf, count);
        }
        MemorySegment capture = CAPTURE.get();
        try {
            long r = (long) WRITE_ERRNO.invokeExact(capture, fd, buf, count);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * epoll_wait(2); a critical call when {@code timeout} is 0.
     *
     * @param epfd      the epoll instance
     * @param events    the address of the event array
     * @param maxEvents its length
     * @param timeout   milliseconds; -1 waits without a timeout
     * @return the count of events, or minus the errno; a wait a signal interrupted may return what is
     *         ready then instead of -EINTR (see the class)
     */
    public static int epollWait(int epfd, long events, int maxEvents, int timeout) {
        if (!FOREIGN) {
            return JnrSyscalls.epollWait(epfd, events, maxEvents, timeout);
        }
        try {
            int r = timeout == 0 ? (int) EPOLL_WAIT_NOW.invokeExact(epfd, events, maxEvents, timeout)
                    : (int) EPOLL_WAIT.invokeExact(epfd, events, maxEvents, timeout);
            if (r >= 0) {
                return r;
            }
            MemorySegment capture = CAPTURE.get(); // failed: asked again, without waiting, for its errno
            r = (int) EPOLL_WAIT_NOW_ERRNO.invokeExact(capture, epfd, events, maxEvents, 0);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * epoll_ctl(2).
     *
     * @param epfd  the epoll instance
     * @param op    EPOLL_CTL_ADD, MOD or DEL
     * @param fd    the descriptor
     * @param event the address of one {@code struct epoll_event}, or 0 for DEL
     * @return 0, or minus the errno
     */
    public static int epollCtl(int epfd, int op, int fd, long event) {
        if (!FOREIGN) {
            return JnrSyscalls.epollCtl(epfd, op, fd, event);
        }
        try {
            int r = (int) EPOLL_CTL.invokeExact(epfd, op, fd, event);
            if (r >= 0) {
                return r;
            }
            MemorySegment capture = CAPTURE.get(); // failed: asked again for its errno
            r = (int) EPOLL_CTL_ERRNO.invokeExact(capture, epfd, op, fd, event);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * poll(2); a critical call when {@code timeout} is 0.
     *
     * @param fds     the address of the pollfd array
     * @param nfds    its length
     * @param timeout milliseconds; -1 waits without a timeout
     * @return the count of ready entries, or minus the errno; a wait a signal interrupted may return what
     *         is ready then instead of -EINTR (see the class)
     */
    public static int poll(long fds, long nfds, int timeout) {
        if (!FOREIGN) {
            return JnrSyscalls.poll(fds, nfds, timeout);
        }
        try {
            int r = timeout == 0 ? (int) POLL_NOW.invokeExact(fds, nfds, timeout)
                    : (int) POLL.invokeExact(fds, nfds, timeout);
            if (r >= 0) {
                return r;
            }
            MemorySegment capture = CAPTURE.get(); // failed: asked again, without waiting, for its errno
            r = (int) POLL_NOW_ERRNO.invokeExact(capture, fds, nfds, 0);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * ppoll(2); see {@link Native#ppoll}. Always an ordinary downcall: iomux sends only positive timeouts here.
     *
     * @param fds      the address of the pollfd array
     * @param nfds     its length
     * @param timespec the address of a {@code struct timespec}, or 0 to wait without a timeout
     * @param sigmask  the address of a {@code sigset_t}, or 0
     * @return the count of ready entries, or minus the errno; a wait a signal interrupted may return what
     *         is ready then instead of -EINTR (see the class)
     */
    public static int ppoll(long fds, long nfds, long timespec, long sigmask) {
        if (!FOREIGN) {
            return JnrSyscalls.ppoll(fds, nfds, timespec, sigmask);
        }
        try {
            int r = (int) PPOLL.invokeExact(fds, nfds, timespec, sigmask);
            if (r >= 0) {
                return r;
            }
            if (!validTimespec(timespec)) {
                return -Linux.EINVAL; // the one failure asking again without waiting would not repeat
            }
            MemorySegment capture = CAPTURE.get(); // failed: asked again, without waiting, for its errno
            r = (int) PPOLL_ERRNO.invokeExact(capture, fds, nfds, ZERO_TIMESPEC, sigmask);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * pselect(2) through libc; see {@link Native#pselect}.
     *
     * @param nfds      the highest descriptor in the sets, plus one
     * @param readfds   address of an fd_set, or 0
     * @param writefds  address of an fd_set, or 0
     * @param exceptfds address of an fd_set, or 0
     * @param timespec  the address of a {@code struct timespec}, or 0 to wait without a timeout
     * @param sigmask   the address of a {@code sigset_t}, or 0
     * @param noWait    whether {@code timespec} holds zero: then a critical call
     * @return the count of set bits, or minus the errno; a wait a signal interrupted may return what is
     *         ready then instead of -EINTR (see the class)
     */
    public static int pselect(int nfds, long readfds, long writefds, long exceptfds, long timespec, long sigmask,
            boolean noWait) {
        if (!FOREIGN) {
            return JnrSyscalls.pselect(nfds, readfds, writefds, exceptfds, timespec, sigmask);
        }
        try {
            int r = noWait ? (int) PSELECT_NOW.invokeExact(nfds, readfds, writefds, exceptfds, timespec, sigmask)
                    : (int) PSELECT.invokeExact(nfds, readfds, writefds, exceptfds, timespec, sigmask);
            if (r >= 0) {
                return r;
            }
            if (!validTimespec(timespec)) {
                return -Linux.EINVAL; // the one failure asking again without waiting would not repeat
            }
            // Failed: asked again, without waiting, for its errno. The sets are as they were: the kernel
            // writes them back only when the call succeeds (fs/select.c, core_sys_select).
            MemorySegment capture = CAPTURE.get();
            r = (int) PSELECT_NOW_ERRNO.invokeExact(capture, nfds, readfds, writefds, exceptfds, ZERO_TIMESPEC,
                    sigmask);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * epoll_pwait2(2); see {@link Native#epollPwait2}. An ordinary downcall (positive timeouts only).
     *
     * @param epfd      the epoll instance
     * @param events    the address of the event array
     * @param maxEvents its length
     * @param timespec  the address of a {@code struct timespec}, or 0 to wait without a timeout
     * @param sigmask   the address of a {@code sigset_t}, or 0
     * @return the count of events, or minus the errno; a wait a signal interrupted may return what is
     *         ready then instead of -EINTR (see the class)
     * @throws UnsatisfiedLinkError with a libc before glibc 2.35, which has no such function
     */
    public static int epollPwait2(int epfd, long events, int maxEvents, long timespec, long sigmask) {
        if (!FOREIGN) {
            return JnrSyscalls.epollPwait2(epfd, events, maxEvents, timespec, sigmask);
        }
        if (EPOLL_PWAIT2 == null) {
            throw new UnsatisfiedLinkError("libc has no epoll_pwait2 (glibc 2.35 or later has)");
        }
        try {
            int r = (int) EPOLL_PWAIT2.invokeExact(epfd, events, maxEvents, timespec, sigmask);
            if (r >= 0) {
                return r;
            }
            if (!validTimespec(timespec)) {
                return -Linux.EINVAL; // the one failure asking again without waiting would not repeat
            }
            MemorySegment capture = CAPTURE.get(); // failed: asked again, without waiting, for its errno
            r = (int) EPOLL_PWAIT2_ERRNO.invokeExact(capture, epfd, events, maxEvents, ZERO_TIMESPEC, sigmask);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Whether the kernel accepts the {@code struct timespec} at {@code address} (0: none, waiting without
     * a timeout): seconds not negative, nanoseconds within [0, 10^9) (timespec64_valid, include/linux/time64.h).
     * A wait given one it refuses fails with EINVAL, which a second call with a zero timeout would not
     * repeat. Read only after a wait failed, so the segment made here does not matter.
     */
    private static boolean validTimespec(long address) {
        if (address == 0) {
            return true;
        }
        MemorySegment ts = MemorySegment.ofAddress(address).reinterpret(Linux.TIMESPEC_SIZE);
        long seconds = ts.get(JAVA_LONG_UNALIGNED, 0);
        long nanos = ts.get(JAVA_LONG_UNALIGNED, 8);
        return seconds >= 0 && nanos >= 0 && nanos < 1_000_000_000L;
    }

    private static int errno(MemorySegment capture) {
        return capture.get(JAVA_INT, ERRNO_OFFSET);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new AssertionError("a downcall threw a checked exception", t);
    }

    /** Builds the handles in the order of the fields above. */
    private static MethodHandle[] link() {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MethodType io = MethodType.methodType(long.class, MemorySegment.class, int.class, long.class, long.class);
        MethodType epollWait = MethodType.methodType(int.class, int.class, long.class, int.class, int.class);
        MethodType poll = MethodType.methodType(int.class, long.class, long.class, int.class);
        MethodType ppoll = MethodType.methodType(int.class, long.class, long.class, long.class, long.class);
        MethodHandle read;
        MethodHandle write;
        MethodHandle epollWaitNow;
        MethodHandle epollWaitBlocking;
        MethodHandle epollWaitNowErrno;
        MethodHandle pollNow;
        MethodHandle pollBlocking;
        MethodHandle pollNowErrno;
        MethodHandle ppollBlocking;
        MethodHandle ppollErrno;
        if (Native.DIRECT_SYSCALLS) {
            // long syscall(long number, ...): variadic from the second argument; every argument a long.
            MemorySegment syscall = find(libc, "syscall");
            FunctionDescriptor three = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
            FunctionDescriptor four = three.appendArgumentLayouts(JAVA_LONG);
            FunctionDescriptor five = four.appendArgumentLayouts(JAVA_LONG);
            Linker.Option variadic = Linker.Option.firstVariadicArg(1);
            MethodHandle critical3 = critical(linker, syscall, three, variadic);
            MethodHandle critical3Errno = critical(linker, syscall, three, errno, variadic);
            read = number(critical3Errno, Native.SYS_READ, io);
            write = number(critical3Errno, Native.SYS_WRITE, io);
            pollNow = number(critical3, Native.SYS_POLL, poll);
            pollBlocking = number(linker.downcallHandle(syscall, three, variadic), Native.SYS_POLL, poll);
            pollNowErrno = number(critical3Errno, Native.SYS_POLL, withCapture(poll));
            // ppoll(2)'s fifth argument is the size of the signal mask.
            MethodType ppollSized = ppoll.appendParameterTypes(long.class);
            ppollBlocking = MethodHandles.insertArguments(number(linker.downcallHandle(syscall, five, variadic),
                    Native.SYS_PPOLL, ppollSized), 4, (long) Linux.SIGSET_SIZE);
            ppollErrno = MethodHandles.insertArguments(number(linker.downcallHandle(syscall, five, errno, variadic),
                    Native.SYS_PPOLL, withCapture(ppollSized)), 5, (long) Linux.SIGSET_SIZE);
            // epoll_wait has four arguments; its int timeout is widened to syscall(2)'s long (-1 stays -1).
            epollWaitNow = number(critical(linker, syscall, four, variadic), Native.SYS_EPOLL_WAIT, epollWait);
            epollWaitBlocking = number(linker.downcallHandle(syscall, four, variadic), Native.SYS_EPOLL_WAIT,
                    epollWait);
            epollWaitNowErrno = number(critical(linker, syscall, four, errno, variadic), Native.SYS_EPOLL_WAIT,
                    withCapture(epollWait));
        } else {
            FunctionDescriptor rw = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
            read = critical(linker, find(libc, "read"), rw, errno);
            write = critical(linker, find(libc, "write"), rw, errno);
            FunctionDescriptor ew = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT);
            epollWaitNow = critical(linker, find(libc, "epoll_wait"), ew);
            epollWaitBlocking = linker.downcallHandle(find(libc, "epoll_wait"), ew);
            epollWaitNowErrno = critical(linker, find(libc, "epoll_wait"), ew, errno);
            FunctionDescriptor p = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT);
            pollNow = critical(linker, find(libc, "poll"), p);
            pollBlocking = linker.downcallHandle(find(libc, "poll"), p);
            pollNowErrno = critical(linker, find(libc, "poll"), p, errno);
            FunctionDescriptor pp = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
            ppollBlocking = linker.downcallHandle(find(libc, "ppoll"), pp);
            ppollErrno = linker.downcallHandle(find(libc, "ppoll"), pp, errno);
        }
        FunctionDescriptor ctl = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
        MethodHandle epollCtl = critical(linker, find(libc, "epoll_ctl"), ctl);
        MethodHandle epollCtlErrno = critical(linker, find(libc, "epoll_ctl"), ctl, errno);
        FunctionDescriptor ps = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG);
        MethodHandle pselectNow = critical(linker, find(libc, "pselect"), ps);
        MethodHandle pselectBlocking = linker.downcallHandle(find(libc, "pselect"), ps);
        MethodHandle pselectNowErrno = critical(linker, find(libc, "pselect"), ps, errno);
        FunctionDescriptor ep2 = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
        MemorySegment epollPwait2 = libc.find("epoll_pwait2").orElse(null);
        return new MethodHandle[] {read, write, epollWaitNow, epollWaitBlocking, epollWaitNowErrno, epollCtl,
            epollCtlErrno, pollNow, pollBlocking, pollNowErrno, ppollBlocking, ppollErrno, pselectNow,
            pselectBlocking, pselectNowErrno,
            epollPwait2 == null ? null : linker.downcallHandle(epollPwait2, ep2),
            epollPwait2 == null ? null : linker.downcallHandle(epollPwait2, ep2, errno)};
    }

    /** {@code type} with the capture segment of a handle that captures errno as its first parameter. */
    private static MethodType withCapture(MethodType type) {
        return type.insertParameterTypes(0, MemorySegment.class);
    }

    /**
     * A critical downcall (capturing errno if {@code options} say so), or an ordinary one where this JDK
     * refuses critical with capturing errno ({@code Linker.downcallHandle} throws IllegalArgumentException
     * for options it does not accept together).
     */
    private static MethodHandle critical(Linker linker, MemorySegment target, FunctionDescriptor function,
            Linker.Option... options) {
        Linker.Option[] withCritical = Arrays.copyOf(options, options.length + 1);
        withCritical[options.length] = Linker.Option.critical(false);
        try {
            return linker.downcallHandle(target, function, withCritical);
        } catch (IllegalArgumentException refused) {
            return linker.downcallHandle(target, function, options);
        }
    }

    /**
     * syscall(2) with its number bound, its long arguments and result converted to {@code type}'s. The
     * number is the first argument of syscall(2): the handle's first, or its second after the capture
     * segment of one that captures errno.
     */
    private static MethodHandle number(MethodHandle syscall, long number, MethodType type) {
        int at = syscall.type().parameterType(0) == MemorySegment.class ? 1 : 0;
        MethodHandle bound = MethodHandles.insertArguments(syscall, at, number);
        return MethodHandles.explicitCastArguments(bound, type);
    }

    private static MemorySegment find(SymbolLookup libc, String name) {
        return libc.find(name).orElseThrow(() -> new UnsupportedOperationException("libc has no " + name));
    }
}
