package dev.iomux.internal;

/**
 * The hot system calls (read, write, the waits, epoll_ctl), each returning its result or minus the errno,
 * as the kernel does: nothing to read afterwards, nothing per thread to keep in step.
 *
 * <p>Internal. This is the JDK 17 to 21 version, which calls {@link JnrSyscalls}. core-api is a
 * multi-release jar: on JDK 22 and later {@code META-INF/versions/22/dev/iomux/internal/Syscalls.class}
 * replaces this class with one that calls the kernel through {@code java.lang.foreign} (critical downcalls
 * for the calls that do not block) unless {@code -Ddev.iomux.native=jnr} says otherwise. The choice is
 * made once, when the class loads. Both versions have the same members.
 */
public final class Syscalls {
    /** The system property that picks the binding on JDK 22 and later: {@code ffm} (the default) or {@code jnr}. */
    public static final String PROPERTY = "dev.iomux.native";

    private Syscalls() {
    }

    /**
     * Names the binding in use.
     *
     * @return {@code "jnr"} here; {@code "ffm"} or {@code "jnr"} on JDK 22 and later
     */
    public static String binding() {
        return "jnr";
    }

    /**
     * Tells whether the calls go through {@code java.lang.foreign}. A method, not a constant: javac would
     * copy a constant into its callers, and the JDK 22 version's value would never be seen.
     *
     * @return false here
     */
    public static boolean isForeign() {
        return false;
    }

    /**
     * Returns why the {@code java.lang.foreign} binding is not in use.
     *
     * @return the reason
     */
    public static Throwable foreignUnavailabilityCause() {
        return new UnsupportedOperationException("java.lang.foreign is final from JDK 22; this class is the"
                + " JDK 17 to 21 version (on a JDK 22 or later, iomux is on the class path as a directory, not"
                + " its multi-release jar?)");
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
        return JnrSyscalls.read(fd, buf, count);
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
        return JnrSyscalls.write(fd, buf, count);
    }

    /**
     * epoll_wait(2).
     *
     * @param epfd      the epoll instance
     * @param events    the address of the event array
     * @param maxEvents its length
     * @param timeout   milliseconds; -1 waits without a timeout
     * @return the count of events, or minus the errno
     */
    public static int epollWait(int epfd, long events, int maxEvents, int timeout) {
        return JnrSyscalls.epollWait(epfd, events, maxEvents, timeout);
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
        return JnrSyscalls.epollCtl(epfd, op, fd, event);
    }

    /**
     * poll(2).
     *
     * @param fds     the address of the pollfd array
     * @param nfds    its length
     * @param timeout milliseconds; -1 waits without a timeout
     * @return the count of ready entries, or minus the errno
     */
    public static int poll(long fds, long nfds, int timeout) {
        return JnrSyscalls.poll(fds, nfds, timeout);
    }

    /**
     * ppoll(2); see {@link Native#ppoll}.
     *
     * @param fds      the address of the pollfd array
     * @param nfds     its length
     * @param timespec the address of a {@code struct timespec}, or 0 to wait without a timeout
     * @param sigmask  the address of a {@code sigset_t}, or 0
     * @return the count of ready entries, or minus the errno
     */
    public static int ppoll(long fds, long nfds, long timespec, long sigmask) {
        return JnrSyscalls.ppoll(fds, nfds, timespec, sigmask);
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
     * @param noWait    whether {@code timespec} holds zero (the JDK 22 version then makes a critical call)
     * @return the count of set bits, or minus the errno
     */
    public static int pselect(int nfds, long readfds, long writefds, long exceptfds, long timespec, long sigmask,
            boolean noWait) {
        return JnrSyscalls.pselect(nfds, readfds, writefds, exceptfds, timespec, sigmask);
    }

    /**
     * epoll_pwait2(2); see {@link Native#epollPwait2}.
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
        return JnrSyscalls.epollPwait2(epfd, events, maxEvents, timespec, sigmask);
    }
}
