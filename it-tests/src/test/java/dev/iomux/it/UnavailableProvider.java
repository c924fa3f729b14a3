package dev.iomux.it;

import java.util.EnumSet;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;

/**
 * A backend that is never available here, ranked above epoll, registered through ServiceLoader on this
 * module's test class path: discovery must skip it, and asking for it by name must say why.
 */
public final class UnavailableProvider implements SelectorProvider {
    static final String WHY = "kqueue(2) does not exist on Linux (probe: ENOSYS)";

    @Override
    public String name() {
        return "kqueue";
    }

    @Override
    public int priority() {
        return 1000;
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.of(EnumSet.of(Capability.EDGE, Capability.ONESHOT), Capabilities.UNLIMITED);
    }

    @Override
    public Throwable unavailabilityCause() {
        return new UnsupportedOperationException(WHY);
    }

    @Override
    public Selector open() {
        throw new UnsupportedOperationException(WHY);
    }
}
