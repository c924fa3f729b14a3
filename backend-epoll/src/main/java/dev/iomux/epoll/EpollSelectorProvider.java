package dev.iomux.epoll;

import static dev.iomux.internal.Native.C;

import java.io.IOException;

import dev.iomux.Capabilities;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;

/**
 * The epoll(7) backend: level-triggered by default, with {@code EDGE}, {@code ONESHOT} and
 * {@code EXCLUSIVE} modes, distinct error and hang-up flags, and no descriptor limit of its own. The
 * default backend wherever it is available.
 */
public final class EpollSelectorProvider implements SelectorProvider {
    /** Events one epoll_wait returns at most, unless {@link #open(int)} says otherwise (the JDK's 1024). */
    public static final int DEFAULT_MAX_EVENTS = 1024;

    /** Creates the provider; {@link java.util.ServiceLoader} does this. */
    public EpollSelectorProvider() {
    }

    @Override
    public String name() {
        return "epoll";
    }

    @Override
    public int priority() {
        return 300;
    }

    @Override
    public Capabilities capabilities() {
        return EpollSelector.CAPABILITIES;
    }

    @Override
    public Throwable unavailabilityCause() {
        return Probe.CAUSE;
    }

    @Override
    public Selector open() throws IOException {
        return open(DEFAULT_MAX_EVENTS);
    }

    /**
     * Opens a selector whose epoll_wait returns at most {@code maxEvents} events; more ready descriptors
     * are reported by the following selects. A small array costs less memory, a large one fewer calls.
     *
     * @param maxEvents the size of the event array, at least 1
     * @return a new selector
     * @throws IOException                   if the kernel refuses
     * @throws IllegalArgumentException      if maxEvents is not positive
     * @throws UnsupportedOperationException if epoll is not available here
     */
    public Selector open(int maxEvents) throws IOException {
        if (maxEvents <= 0) {
            throw new IllegalArgumentException("maxEvents must be at least 1, got " + maxEvents);
        }
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new UnsupportedOperationException("epoll is not available here: " + cause.getMessage(), cause);
        }
        return new EpollSelector(maxEvents);
    }

    /** Opens an epoll instance once, as CPython's _can_use does, to learn whether this kernel has one. */
    private static final class Probe {
        static final Throwable CAUSE = probe();

        private static Throwable probe() {
            if (Native.unavailabilityCause() != null) {
                return Native.unavailabilityCause();
            }
            try {
                Native.closeQuietly(Native.check(C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1"));
                return null;
            } catch (IOException e) {
                return e;
            }
        }
    }
}
