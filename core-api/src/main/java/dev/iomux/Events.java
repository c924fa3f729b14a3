package dev.iomux;

import java.util.StringJoiner;

/**
 * The event bits of iomux: interests a key registers, ready events a select reports, and modes.
 *
 * <p>An event mask is an {@code int} OR-ed from these constants. The values are iomux's own, the same
 * on every backend; each backend translates them to its kernel's (select's three fd_sets, poll's
 * {@code POLL*}, epoll's {@code EPOLL*}).
 *
 * <table>
 *   <caption>The bits</caption>
 *   <tr><th>bit</th><th>register</th><th>reported</th><th>kernel</th></tr>
 *   <tr><td>{@link #READ}</td><td>interest</td><td>yes</td><td>readfds, POLLIN, EPOLLIN</td></tr>
 *   <tr><td>{@link #WRITE}</td><td>interest</td><td>yes</td><td>writefds, POLLOUT, EPOLLOUT</td></tr>
 *   <tr><td>{@link #PRIORITY}</td><td>interest</td><td>yes</td><td>exceptfds, POLLPRI, EPOLLPRI</td></tr>
 *   <tr><td>{@link #ERROR}</td><td>no</td><td>flag</td><td>POLLERR, EPOLLERR</td></tr>
 *   <tr><td>{@link #HANGUP}</td><td>no</td><td>flag</td><td>POLLHUP, EPOLLHUP</td></tr>
 *   <tr><td>{@link #READ_HANGUP}</td><td>no</td><td>flag</td><td>POLLRDHUP, EPOLLRDHUP</td></tr>
 *   <tr><td>{@link #EDGE}</td><td>mode</td><td>no</td><td>EPOLLET</td></tr>
 *   <tr><td>{@link #ONESHOT}</td><td>mode</td><td>no</td><td>EPOLLONESHOT (emulated elsewhere)</td></tr>
 *   <tr><td>{@link #EXCLUSIVE}</td><td>mode</td><td>no</td><td>EPOLLEXCLUSIVE</td></tr>
 * </table>
 *
 * <p>A reported mask holds the ready directions, always within the key's interest (rule REPORT-MASKED),
 * plus the {@link #ERROR}, {@link #HANGUP} and {@link #READ_HANGUP} flags on backends that can tell them
 * apart ({@link Capability#ERROR_HANGUP}, {@link Capability#READ_HANGUP}). An error or a hang-up makes
 * the key ready in every direction it registered for, so that the read or write that reveals the
 * condition is attempted; select(2) cannot report the flags at all: the kernel folds them into
 * readable and writable.
 */
public final class Events {
    /** Readable: data, end of stream, a pending error, or a connection to accept. */
    public static final int READ = 1;
    /** Writable: send-buffer space, a completed (or failed) connect, or a write that would fail at once. */
    public static final int WRITE = 1 << 1;
    /** Priority (urgent, out-of-band) data: select's exceptfds, POLLPRI, EPOLLPRI. */
    public static final int PRIORITY = 1 << 2;
    /** Reported only: an error is pending on the descriptor (POLLERR), or it was closed (POLLNVAL). */
    public static final int ERROR = 1 << 3;
    /** Reported only: hung up (POLLHUP): both directions shut or reset, or a pipe's other end closed. */
    public static final int HANGUP = 1 << 4;
    /** Reported only: the peer shut down its writing side; reads return end of stream (POLLRDHUP). */
    public static final int READ_HANGUP = 1 << 5;
    /** Mode: edge-triggered; report a change of readiness once, not the level (EPOLLET). */
    public static final int EDGE = 1 << 8;
    /** Mode: report once, then nothing until {@link Selector#modify} re-arms the key (EPOLLONESHOT). */
    public static final int ONESHOT = 1 << 9;
    /**
     * Mode: when several selectors watch one descriptor, wake one of them, not all (EPOLLEXCLUSIVE).
     * Register only; not with ONESHOT or PRIORITY; such a key never reports {@link #READ_HANGUP}, because
     * epoll_ctl(2) refuses EPOLLRDHUP with it.
     */
    public static final int EXCLUSIVE = 1 << 10;

    /** The bits a key may register interest in. */
    public static final int INTERESTS = READ | WRITE | PRIORITY;
    /** The bits only a select reports. */
    public static final int FLAGS = ERROR | HANGUP | READ_HANGUP;
    /** The mode bits. */
    public static final int MODES = EDGE | ONESHOT | EXCLUSIVE;

    private static final String[] NAMES = {
        "READ", "WRITE", "PRIORITY", "ERROR", "HANGUP", "READ_HANGUP", null, null, "EDGE", "ONESHOT", "EXCLUSIVE"
    };

    private Events() {
    }

    /**
     * Returns whether a mask has any of the given bits.
     *
     * @param mask an event mask
     * @param bits the bits to look for
     * @return true if {@code mask & bits} is not zero
     */
    public static boolean any(int mask, int bits) {
        return (mask & bits) != 0;
    }

    /**
     * Renders a mask as its bit names, e.g. {@code READ|WRITE|ONESHOT}.
     *
     * @param mask an event mask
     * @return the names joined with '|'; {@code 0} for an empty mask; unknown bits in hex
     */
    public static String toString(int mask) {
        if (mask == 0) {
            return "0";
        }
        StringJoiner j = new StringJoiner("|");
        int rest = mask;
        for (int bit = 0; bit < NAMES.length; bit++) {
            if ((mask & (1 << bit)) != 0 && NAMES[bit] != null) {
                j.add(NAMES[bit]);
                rest &= ~(1 << bit);
            }
        }
        if (rest != 0) {
            j.add("0x" + Integer.toHexString(rest));
        }
        return j.toString();
    }
}
