package dev.iomux.spi;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;

import dev.iomux.internal.Linux;

/**
 * Translation between iomux events and the bits poll(2) and epoll(7) share: POLLIN and EPOLLIN, POLLOUT
 * and EPOLLOUT, and so on have the same values (include/uapi/asm-generic/poll.h, include/uapi/linux/eventpoll.h).
 *
 * <p>For backends built on poll(2), epoll(7), or another call with the same bits (ppoll, io_uring's poll
 * requests).
 */
public final class PollBits {
    /** poll(2) and epoll(7): there is data to read. */
    public static final short POLLIN = Linux.POLLIN;
    /** Exceptional condition: TCP urgent data (tcp(7)). */
    public static final short POLLPRI = Linux.POLLPRI;
    /** Writing will not block. */
    public static final short POLLOUT = Linux.POLLOUT;
    /** Error condition; reported whatever was asked. */
    public static final short POLLERR = Linux.POLLERR;
    /** Hang-up; reported whatever was asked. */
    public static final short POLLHUP = Linux.POLLHUP;
    /** Invalid request: the descriptor is not open (poll(2) only). */
    public static final short POLLNVAL = Linux.POLLNVAL;
    /** Stream peer closed its writing half (Linux 2.6.17). */
    public static final short POLLRDHUP = Linux.POLLRDHUP;

    /** POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP and POLLNVAL: the bits {@link #LOW_BITS} decodes. */
    private static final int LOW_MASK = 0x3f;
    private static final int[] LOW_BITS = new int[LOW_MASK + 1];

    static {
        for (int revents = 0; revents <= LOW_MASK; revents++) {
            LOW_BITS[revents] = decodeLowBits(revents);
        }
    }

    private PollBits() {
    }

    /**
     * Returns what to ask the kernel for: READ asks for POLLIN and POLLRDHUP, so that a half-close is
     * reported as {@link dev.iomux.Events#READ_HANGUP}; WRITE asks for POLLOUT; PRIORITY for POLLPRI.
     *
     * @param interest iomux interest bits
     * @param readHangup whether to add POLLRDHUP to a read interest
     * @return the kernel's request bits
     */
    public static int request(int interest, boolean readHangup) {
        int bits = 0;
        if ((interest & READ) != 0) {
            bits |= Linux.POLLIN | (readHangup ? Linux.POLLRDHUP : 0);
        }
        if ((interest & WRITE) != 0) {
            bits |= Linux.POLLOUT;
        }
        if ((interest & PRIORITY) != 0) {
            bits |= Linux.POLLPRI;
        }
        return bits;
    }

    /**
     * Translates what the kernel reported. An error or a hang-up makes both directions ready, so the read
     * or write that reveals it is tried (CPython: {@code event & ~POLLIN -> WRITE}); the base then masks
     * the directions with the key's interest. POLLNVAL (the descriptor was closed while registered) is an
     * error (rule CLOSED-FD).
     *
     * @param revents the kernel's bits
     * @return iomux events: directions and flags
     */
    public static int toEvents(int revents) {
        // One load instead of six branches: this runs once per ready event (docs/PERFORMANCE.md).
        int ready = LOW_BITS[revents & LOW_MASK];
        if ((revents & Linux.POLLRDHUP) != 0) {
            ready |= READ | READ_HANGUP;
        }
        return ready;
    }

    private static int decodeLowBits(int revents) {
        int ready = 0;
        if ((revents & Linux.POLLIN) != 0) {
            ready |= READ;
        }
        if ((revents & Linux.POLLOUT) != 0) {
            ready |= WRITE;
        }
        if ((revents & Linux.POLLPRI) != 0) {
            ready |= PRIORITY;
        }
        if ((revents & Linux.POLLHUP) != 0) {
            ready |= READ | WRITE | HANGUP;
        }
        if ((revents & (Linux.POLLERR | Linux.POLLNVAL)) != 0) {
            ready |= READ | WRITE | ERROR;
        }
        return ready;
    }
}
