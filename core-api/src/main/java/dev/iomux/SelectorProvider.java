package dev.iomux;

import java.io.IOException;

/**
 * A backend, as found by {@link Selectors} through {@link java.util.ServiceLoader}: each backend jar
 * lists its provider in {@code META-INF/services/dev.iomux.SelectorProvider}.
 *
 * <p>This is the service-provider interface a port implements, together with a selector class extending
 * {@link dev.iomux.spi.AbstractSelector}; PORTING.md walks through it.
 */
public interface SelectorProvider {
    /** @return the backend's name, lower case: "select", "poll", "epoll" */
    String name();

    /**
     * Returns the backend's rank for {@link Selectors#open()}: the available backend with the highest
     * rank is the default (epoll 300, poll 200, select 100). A rank of 0 or less is never the default, only
     * opened by name: a backend that must be asked for (uring).
     *
     * @return the rank
     */
    int priority();

    /** @return what the backend's selectors can do */
    Capabilities capabilities();

    /**
     * Returns whether the backend works here, found by really opening its kernel object once (as
     * CPython's {@code _can_use} and Netty's {@code Epoll.isAvailable()} do), not by guessing from the OS.
     *
     * @return true if {@link #open()} can succeed
     */
    default boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    /**
     * Returns why the backend does not work here.
     *
     * @return the failure of the availability probe, or null if the backend is available
     */
    Throwable unavailabilityCause();

    /**
     * Opens a selector.
     *
     * @return a new selector
     * @throws IOException                   if the kernel refuses (for example EMFILE)
     * @throws UnsupportedOperationException if the backend is not available, with the cause
     */
    Selector open() throws IOException;
}
