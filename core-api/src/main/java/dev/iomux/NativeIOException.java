package dev.iomux;

import java.io.IOException;

/**
 * A system call failed: carries the errno, its symbolic name and the call, for example
 * {@code epoll_ctl(ADD, fd=7): EPERM (Operation not permitted)}.
 *
 * <p>Every native call of iomux reports failure through this one type (the errno funnel), so a caller
 * can branch on {@link #errno()} with the constants of errno(3) without parsing messages.
 */
public class NativeIOException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The errno of the failed call. */
    private final int errno;
    /** The call, with its arguments. */
    private final String syscall;

    /**
     * Creates an exception for a failed call.
     *
     * @param syscall the call as it should appear in the message, with its arguments, e.g.
     *                {@code "epoll_ctl(ADD, fd=7)"}
     * @param errno   the errno the call set
     * @param hint    what to do instead, appended to the message; may be null
     */
    public NativeIOException(String syscall, int errno, String hint) {
        super(message(syscall, errno, hint));
        this.errno = errno;
        this.syscall = syscall;
    }

    /**
     * Returns the errno value of the failed call.
     *
     * @return the errno value, e.g. 1 for EPERM
     */
    public int errno() {
        return errno;
    }

    /**
     * Returns the symbolic name of the errno.
     *
     * @return e.g. {@code "EPERM"}, or {@code "errno 4711"} for a value this platform does not name
     */
    public String errnoName() {
        return Errnos.name(errno);
    }

    /**
     * Returns the call that failed, with its arguments.
     *
     * @return e.g. {@code "epoll_ctl(ADD, fd=7)"}
     */
    public String syscall() {
        return syscall;
    }

    private static String message(String syscall, int errno, String hint) {
        String base = syscall + ": " + Errnos.name(errno) + " (" + Errnos.description(errno) + ")";
        return hint == null ? base : base + ": " + hint;
    }
}
