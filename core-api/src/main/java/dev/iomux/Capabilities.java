package dev.iomux;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What a backend declares it can do: its modes and flags, and the highest descriptor it can watch.
 * The conformance kit checks each backend against its declaration.
 */
public final class Capabilities {
    /** {@link #maxFd()} of a backend without a descriptor limit of its own. */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    private final Set<Capability> supported;
    private final int maxFd;

    private Capabilities(Set<Capability> supported, int maxFd) {
        this.supported = Collections.unmodifiableSet(supported.isEmpty()
                ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(supported));
        this.maxFd = maxFd;
    }

    /**
     * Creates a declaration.
     *
     * @param supported the capabilities
     * @param maxFd     the highest descriptor number the backend can watch, or {@link #UNLIMITED}
     * @return the declaration
     */
    public static Capabilities of(Set<Capability> supported, int maxFd) {
        Objects.requireNonNull(supported, "supported");
        if (maxFd < 0) {
            throw new IllegalArgumentException("maxFd must not be negative, got " + maxFd);
        }
        return new Capabilities(supported, maxFd);
    }

    /**
     * Returns whether the backend declares a capability.
     *
     * @param c the capability
     * @return true if declared
     */
    public boolean supports(Capability c) {
        return supported.contains(c);
    }

    /** @return the declared capabilities, read-only */
    public Set<Capability> supported() {
        return supported;
    }

    /** @return the highest descriptor number the backend can watch ({@link #UNLIMITED} if none) */
    public int maxFd() {
        return maxFd;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Capabilities && ((Capabilities) o).supported.equals(supported)
                && ((Capabilities) o).maxFd == maxFd;
    }

    @Override
    public int hashCode() {
        return supported.hashCode() * 31 + maxFd;
    }

    @Override
    public String toString() {
        return supported + ", maxFd=" + (maxFd == UNLIMITED ? "unlimited" : Integer.toString(maxFd));
    }
}
