package dev.iomux.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

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
 * <p>Internal. The binding is picked once, when the class loads: {@code java.lang.foreign} if
 * {@code -Ddev.iomux.native=ffm} and linking succeeds, else {@link JnrSyscalls}, as on JDK 17 to 21
 * ({@link #foreignUnavailabilityCause()} says why; for example {@code --illegal-native-access=deny}
 * without {@code --enable-native-access}). {@link #binding()} names it. jnr-ffi stays the default: the
 * foreign binding showed no measurable gain here, and in one run of the kit on JDK 25 its handler select
 * allocated 40 bytes per call, which the kit refuses; it is opt-in until both are settled.
 *
 * <p>The calls that cannot block for long (read and write on non-blocking descriptors, epoll_ctl, and the
 * waits with a zero timeout) are critical downcalls ({@code Linker.Option.critical}): no transition of the
 * thread's state around the call, which is most of an ordinary downcall's cost. A wait that may block goes
 * through an ordinary downcall, so that a garbage collection is not held up by a thread parked in the
 * kernel. The errno of a failed call is captured by the downcall itself
 * ({@code Linker.Option.captureCallState("errno")}), since the JVM may change errno before Java code runs,
 * into a small native segment each thread allocates once; JDK 25 accepts that option together with
 * critical, and where a JDK refuses the pair, that call is linked as an ordinary downcall instead.
 *
 * <p>A select that does not wait allocates nothing, whatever the JIT does: the calls it makes (epoll_wait,
 * poll and pselect with a zero timeout) and epoll_ctl go through handles that do not capture errno, and
 * only a call that failed is made again through one that does. A handle that captures errno allocates
 * on every call: it passes the segment through {@code SharedUtils.checkCaptureSegment} (JDK 25),
 * which returns {@code segment.asSlice(0, layout)}, a new 40-byte segment that is not on the heap only
 * where the JIT inlines that method and escape analysis removes the slice; one run of the kit on JDK 25
 * found it on the heap, 40 bytes per select. Asking a failed call again is safe for these calls: one that
 * failed changed nothing (no event consumed, no set written back, no interest changed), so the second
 * call fails the same way, or, if another thread changed what it depends on meanwhile, gives the result
 * the call would have had a moment later. read and write still capture errno on every call, since
 * a failed read of a socket consumes its pending error (ECONNRESET); so do the waits that may block.
 *
 * <p>Where {@link Native#DIRECT_SYSCALLS} says so, read, write, poll, ppoll and epoll_wait call
 * {@code syscall(2)} rather than libc's wrappers, which are cancellation points (see there), as the
 * jnr-ffi binding does. Pointers are passed as {@code long}: every supported CPU is LP64.
 */
public final class Syscalls {
    /** The system property that picks the binding on JDK 22 and later: {@code jnr} (the default) or {@code ffm}. */
    public static final String PROPERTY = "dev.iomux.native";

    private static final boolean FOREIGN;
    private static final Throwable UNAVAILABLE;

    /** Critical: (MemorySegment capture, int fd, long buf, long count) long. */
    private static final MethodHandle READ;
    private static final MethodHandle WRITE;
    /** Critical, no errno: (int epfd, long events, int maxEvents, int timeout) int; the timeout is 0. */
    private static final MethodHandle EPOLL_WAIT_NOW;
    /** The same, critical, with errno: (MemorySegment capture, int epfd, long events, int maxEvents, int timeout) int. */
    private static final MethodHandle EPOLL_WAIT_NOW_ERRNO;
    /** Ordinary, with errno: (MemorySegment capture, int epfd, long events, int maxEvents, int timeout) int. */
    private static final MethodHandle EPOLL_WAIT;
    /** Critical, no errno: (int epfd, int op, int fd, long event) int. */
    private static final MethodHandle EPOLL_CTL;
    /** Critical, with errno: (MemorySegment capture, int epfd, int op, int fd, long event) int. */
    private static final MethodHandle EPOLL_CTL_ERRNO;
    /** Critical, no errno: (long fds, long nfds, int timeout) int; the timeout is 0. */
    private static final MethodHandle POLL_NOW;
    /** Critical and ordinary, with errno: (MemorySegment capture, long fds, long nfds, int timeout) int. */
    private static final MethodHandle POLL_NOW_ERRNO;
    private static final MethodHandle POLL;
    /** (MemorySegment capture, long fds, long nfds, long timespec, long sigmask) int. */
    private static final MethodHandle PPOLL;
    /** Critical, no errno: (int nfds, long r, long w, long e, long timespec, long sigmask) int; zero timespec. */
    private static final MethodHandle PSELECT_NOW;
    /** Critical and ordinary, with errno: (MemorySegment capture, int nfds, long r, long w, long e, long timespec, long sigmask) int. */
    private static final MethodHandle PSELECT_NOW_ERRNO;
    private static final MethodHandle PSELECT;
    /** (MemorySegment capture, int epfd, long events, int maxEvents, long timespec, long sigmask) int; or null. */
    private static final MethodHandle EPOLL_PWAIT2;
    private static final long ERRNO_OFFSET;
    private static final ThreadLocal<MemorySegment> CAPTURE;

    static {
        MethodHandle[] h = null;
        Throwable cause = null;
        long errnoOffset = 0;
        String wanted = System.getProperty(PROPERTY, "jnr");
        if (wanted.equals("jnr")) {
            cause = new UnsupportedOperationException("-D" + PROPERTY + "=jnr (the default; ffm asks for java.lang.foreign)");
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
        READ = FOREIGN ? h[0] : null;
        WRITE = FOREIGN ? h[1] : null;
        EPOLL_WAIT_NOW = FOREIGN ? h[2] : null;
        EPOLL_WAIT_NOW_ERRNO = FOREIGN ? h[3] : null;
        EPOLL_WAIT = FOREIGN ? h[4] : null;
        EPOLL_CTL = FOREIGN ? h[5] : null;
        EPOLL_CTL_ERRNO = FOREIGN ? h[6] : null;
        POLL_NOW = FOREIGN ? h[7] : null;
        POLL_NOW_ERRNO = FOREIGN ? h[8] : null;
        POLL = FOREIGN ? h[9] : null;
        PPOLL = FOREIGN ? h[10] : null;
        PSELECT_NOW = FOREIGN ? h[11] : null;
        PSELECT_NOW_ERRNO = FOREIGN ? h[12] : null;
        PSELECT = FOREIGN ? h[13] : null;
        EPOLL_PWAIT2 = FOREIGN ? h[14] : null;
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
            long r = (long) READ.invokeExact(capture, fd, buf, count);
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
            long r = (long) WRITE.invokeExact(capture, fd, buf, count);
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
     * @return the count of events, or minus the errno
     */
    public static int epollWait(int epfd, long events, int maxEvents, int timeout) {
        if (!FOREIGN) {
            return JnrSyscalls.epollWait(epfd, events, maxEvents, timeout);
        }
        try {
            if (timeout == 0) {
                int r = (int) EPOLL_WAIT_NOW.invokeExact(epfd, events, maxEvents, timeout);
                if (r >= 0) {
                    return r;
                }
                MemorySegment capture = CAPTURE.get(); // failed: asked again for its errno (see the class)
                r = (int) EPOLL_WAIT_NOW_ERRNO.invokeExact(capture, epfd, events, maxEvents, timeout);
                return r < 0 ? -errno(capture) : r;
            }
            MemorySegment capture = CAPTURE.get();
            int r = (int) EPOLL_WAIT.invokeExact(capture, epfd, events, maxEvents, timeout);
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
            MemorySegment capture = CAPTURE.get(); // failed: asked again for its errno (see the class)
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
     * @return the count of ready entries, or minus the errno
     */
    public static int poll(long fds, long nfds, int timeout) {
        if (!FOREIGN) {
            return JnrSyscalls.poll(fds, nfds, timeout);
        }
        try {
            if (timeout == 0) {
                int r = (int) POLL_NOW.invokeExact(fds, nfds, timeout);
                if (r >= 0) {
                    return r;
                }
                MemorySegment capture = CAPTURE.get(); // failed: asked again for its errno (see the class)
                r = (int) POLL_NOW_ERRNO.invokeExact(capture, fds, nfds, timeout);
                return r < 0 ? -errno(capture) : r;
            }
            MemorySegment capture = CAPTURE.get();
            int r = (int) POLL.invokeExact(capture, fds, nfds, timeout);
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
     * @return the count of ready entries, or minus the errno
     */
    public static int ppoll(long fds, long nfds, long timespec, long sigmask) {
        if (!FOREIGN) {
            return JnrSyscalls.ppoll(fds, nfds, timespec, sigmask);
        }
        MemorySegment capture = CAPTURE.get();
        try {
            int r = (int) PPOLL.invokeExact(capture, fds, nfds, timespec, sigmask);
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
     * @return the count of set bits, or minus the errno
     */
    public static int pselect(int nfds, long readfds, long writefds, long exceptfds, long timespec, long sigmask,
            boolean noWait) {
        if (!FOREIGN) {
            return JnrSyscalls.pselect(nfds, readfds, writefds, exceptfds, timespec, sigmask);
        }
        try {
            if (noWait) {
                int r = (int) PSELECT_NOW.invokeExact(nfds, readfds, writefds, exceptfds, timespec, sigmask);
                if (r >= 0) {
                    return r;
                }
                // Failed: asked again for its errno (see the class). The sets are unchanged: the kernel
                // writes them back only when the call succeeds (fs/select.c, core_sys_select).
                MemorySegment capture = CAPTURE.get();
                r = (int) PSELECT_NOW_ERRNO.invokeExact(capture, nfds, readfds, writefds, exceptfds, timespec,
                        sigmask);
                return r < 0 ? -errno(capture) : r;
            }
            MemorySegment capture = CAPTURE.get();
            int r = (int) PSELECT.invokeExact(capture, nfds, readfds, writefds, exceptfds, timespec, sigmask);
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
     * @return the count of events, or minus the errno
     * @throws UnsatisfiedLinkError with a libc before glibc 2.35, which has no such function
     */
    public static int epollPwait2(int epfd, long events, int maxEvents, long timespec, long sigmask) {
        if (!FOREIGN) {
            return JnrSyscalls.epollPwait2(epfd, events, maxEvents, timespec, sigmask);
        }
        if (EPOLL_PWAIT2 == null) {
            throw new UnsatisfiedLinkError("libc has no epoll_pwait2 (glibc 2.35 or later has)");
        }
        MemorySegment capture = CAPTURE.get();
        try {
            int r = (int) EPOLL_PWAIT2.invokeExact(capture, epfd, events, maxEvents, timespec, sigmask);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
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
        MethodType epollWait = MethodType.methodType(int.class, MemorySegment.class, int.class, long.class,
                int.class, int.class);
        MethodType poll = MethodType.methodType(int.class, MemorySegment.class, long.class, long.class, int.class);
        MethodType ppoll = MethodType.methodType(int.class, MemorySegment.class, long.class, long.class,
                long.class, long.class);
        MethodHandle read;
        MethodHandle write;
        MethodHandle epollWaitNow;
        MethodHandle epollWaitNowErrno;
        MethodHandle epollWaitBlocking;
        MethodHandle pollNow;
        MethodHandle pollNowErrno;
        MethodHandle pollBlocking;
        MethodHandle ppollBlocking;
        if (Native.DIRECT_SYSCALLS) {
            // long syscall(long number, ...): variadic from the second argument; every argument a long.
            MemorySegment syscall = find(libc, "syscall");
            FunctionDescriptor three = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
            FunctionDescriptor four = three.appendArgumentLayouts(JAVA_LONG);
            FunctionDescriptor five = four.appendArgumentLayouts(JAVA_LONG);
            Linker.Option variadic = Linker.Option.firstVariadicArg(1);
            MethodHandle critical3 = critical(linker, syscall, three, errno, variadic);
            MethodHandle critical3NoErrno = critical(linker, syscall, three, variadic);
            MethodHandle blocking3 = linker.downcallHandle(syscall, three, errno, variadic);
            MethodHandle blocking5 = linker.downcallHandle(syscall, five, errno, variadic);
            read = number(critical3, Native.SYS_READ, io);
            write = number(critical3, Native.SYS_WRITE, io);
            pollNow = number(critical3NoErrno, Native.SYS_POLL, poll.dropParameterTypes(0, 1));
            pollNowErrno = number(critical3, Native.SYS_POLL, poll);
            pollBlocking = number(blocking3, Native.SYS_POLL, poll);
            ppollBlocking = MethodHandles.insertArguments(number(blocking5, Native.SYS_PPOLL,
                    ppoll.appendParameterTypes(long.class)), 5, (long) Linux.SIGSET_SIZE);
            // epoll_wait has four arguments; its int timeout is widened to syscall(2)'s long (-1 stays -1).
            MethodHandle critical4 = critical(linker, syscall, four, errno, variadic);
            MethodHandle critical4NoErrno = critical(linker, syscall, four, variadic);
            MethodHandle blocking4 = linker.downcallHandle(syscall, four, errno, variadic);
            epollWaitNow = number(critical4NoErrno, Native.SYS_EPOLL_WAIT, epollWait.dropParameterTypes(0, 1));
            epollWaitNowErrno = number(critical4, Native.SYS_EPOLL_WAIT, epollWait);
            epollWaitBlocking = number(blocking4, Native.SYS_EPOLL_WAIT, epollWait);
        } else {
            FunctionDescriptor rw = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
            read = critical(linker, find(libc, "read"), rw, errno);
            write = critical(linker, find(libc, "write"), rw, errno);
            FunctionDescriptor ew = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT);
            epollWaitNow = critical(linker, find(libc, "epoll_wait"), ew);
            epollWaitNowErrno = critical(linker, find(libc, "epoll_wait"), ew, errno);
            epollWaitBlocking = linker.downcallHandle(find(libc, "epoll_wait"), ew, errno);
            FunctionDescriptor p = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT);
            pollNow = critical(linker, find(libc, "poll"), p);
            pollNowErrno = critical(linker, find(libc, "poll"), p, errno);
            pollBlocking = linker.downcallHandle(find(libc, "poll"), p, errno);
            ppollBlocking = linker.downcallHandle(find(libc, "ppoll"),
                    FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), errno);
        }
        FunctionDescriptor ctl = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
        MethodHandle epollCtl = critical(linker, find(libc, "epoll_ctl"), ctl);
        MethodHandle epollCtlErrno = critical(linker, find(libc, "epoll_ctl"), ctl, errno);
        FunctionDescriptor ps = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG);
        MethodHandle pselectNow = critical(linker, find(libc, "pselect"), ps);
        MethodHandle pselectNowErrno = critical(linker, find(libc, "pselect"), ps, errno);
        MethodHandle pselectBlocking = linker.downcallHandle(find(libc, "pselect"), ps, errno);
        MethodHandle epollPwait2 = libc.find("epoll_pwait2").map(s -> linker.downcallHandle(s,
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), errno))
                .orElse(null);
        return new MethodHandle[] {read, write, epollWaitNow, epollWaitNowErrno, epollWaitBlocking, epollCtl,
            epollCtlErrno, pollNow, pollNowErrno, pollBlocking, ppollBlocking, pselectNow, pselectNowErrno,
            pselectBlocking, epollPwait2};
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
