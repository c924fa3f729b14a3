package dev.iomux.spi;

import java.io.IOException;

import dev.iomux.Capabilities;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;
import dev.iomux.internal.Native;

/**
 * The shared part of a {@link SelectorProvider}: name, rank and capabilities, an availability probe run
 * once and remembered, and an {@link #open()} that refuses clearly when the probe failed.
 *
 * <p>A backend fills {@link #probe()} (open its kernel object once, as CPython's {@code _can_use} does)
 * and {@link #newSelector()}.
 */
public abstract class AbstractSelectorProvider implements SelectorProvider {
    private final String name;
    private final int priority;
    private final Capabilities capabilities;
    private volatile Throwable cause;
    private volatile boolean probed;

    /**
     * Creates the provider.
     *
     * @param name         the backend's name, lower case
     * @param priority     its rank for {@link Selectors#open()}
     * @param capabilities what its selectors can do
     */
    protected AbstractSelectorProvider(String name, int priority, Capabilities capabilities) {
        this.name = name;
        this.priority = priority;
        this.capabilities = capabilities;
    }

    /**
     * Uses the kernel interface once, to learn whether it works here (a kernel built without it, or a
     * seccomp filter, fails with ENOSYS or EPERM). Called at most once, after the libc binding loaded.
     *
     * @throws IOException if the backend cannot work here
     */
    protected abstract void probe() throws IOException;

    /**
     * Opens a selector; called only when the probe succeeded.
     *
     * @return a new selector
     * @throws IOException if the kernel refuses
     */
    protected abstract Selector newSelector() throws IOException;

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int priority() {
        return priority;
    }

    @Override
    public final Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public final Throwable unavailabilityCause() {
        if (!probed) {
            synchronized (this) {
                if (!probed) {
                    Throwable t = Native.unavailabilityCause();
                    if (t == null) {
                        try {
                            probe();
                        } catch (IOException | RuntimeException e) {
                            t = e;
                        }
                    }
                    cause = t;
                    probed = true;
                }
            }
        }
        return cause;
    }

    @Override
    public final Selector open() throws IOException {
        requireAvailable();
        return newSelector();
    }

    /**
     * Throws if the backend is not available here.
     *
     * @throws UnsupportedOperationException naming the backend and the cause
     */
    protected final void requireAvailable() {
        Throwable t = unavailabilityCause();
        if (t != null) {
            throw new UnsupportedOperationException(name + " is not available here: " + t.getMessage(), t);
        }
    }
}
