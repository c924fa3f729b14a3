package dev.iomux.epoll;

import java.io.IOException;

import dev.iomux.Selector;
import dev.iomux.spi.AbstractSelectorProvider;
import dev.iomux.spi.Kernel;

/**
 * The epoll(7) backend: level-triggered by default, with {@code EDGE}, {@code ONESHOT} and
 * {@code EXCLUSIVE} modes, distinct error and hang-up flags, and no descriptor limit of its own. The
 * default backend wherever it is available.
 *
 * <p>Timeouts are waited to the nanosecond with epoll_pwait2 (Linux 5.11, glibc 2.35); without it they are
 * rounded up to epoll_wait's milliseconds, which {@link #hasNanosecondTimeouts()} tells.
 */
public final class EpollSelectorProvider extends AbstractSelectorProvider {
    /** Events one epoll_wait returns at most, unless {@link #open(int)} says otherwise (the JDK's 1024). */
    public static final int DEFAULT_MAX_EVENTS = 1024;

    /** The kernel's bound on epoll_wait's maxevents: INT_MAX / sizeof(struct epoll_event) (epoll_wait(2)). */
    public static final int MAX_EVENTS_LIMIT = Integer.MAX_VALUE / 16;

    /** Creates the provider; {@link java.util.ServiceLoader} does this. */
    public EpollSelectorProvider() {
        super("epoll", 300, EpollSelector.CAPABILITIES);
    }

    /**
     * Tells whether this backend's timeouts reach the kernel to the nanosecond: epoll_pwait2 works here
     * (Linux 5.11 or later, glibc 2.35 or later, no seccomp filter refusing it). If not, a positive timeout
     * is rounded up to epoll_wait's milliseconds (ENOSYS): a 50 us select waits about a millisecond.
     *
     * @return true where epoll_pwait2 is used
     */
    public static boolean hasNanosecondTimeouts() {
        return Kernel.hasEpollPwait2();
    }

    /** epoll_create1, then close. */
    @Override
    protected void probe() throws IOException {
        Kernel.closeQuietly(Kernel.epollCreate());
    }

    @Override
    protected Selector newSelector() throws IOException {
        return new EpollSelector(DEFAULT_MAX_EVENTS);
    }

    /**
     * Opens a selector whose epoll_wait returns at most {@code maxEvents} events; more ready descriptors
     * are reported by the following selects. A small array costs less memory, a large one fewer calls.
     *
     * @param maxEvents the size of the event array, at least 1
     * @return a new selector
     * @throws IOException                   if the kernel refuses
     * @throws IllegalArgumentException      if maxEvents is not in 1..{@link #MAX_EVENTS_LIMIT}
     * @throws UnsupportedOperationException if epoll is not available here
     */
    public Selector open(int maxEvents) throws IOException {
        if (maxEvents <= 0 || maxEvents > MAX_EVENTS_LIMIT) {
            throw new IllegalArgumentException("maxEvents must be 1.." + MAX_EVENTS_LIMIT + ", got " + maxEvents);
        }
        requireAvailable();
        return new EpollSelector(maxEvents);
    }
}
