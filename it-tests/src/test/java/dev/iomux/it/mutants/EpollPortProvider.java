package dev.iomux.it.mutants;

import static dev.iomux.internal.Native.C;

import java.io.IOException;

import dev.iomux.AbstractSelectorProvider;
import dev.iomux.Selector;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;

/** The provider of {@link EpollPort}: clean, or with one {@link Mutant} planted. */
public final class EpollPortProvider extends AbstractSelectorProvider {
    private final Mutant mutant;

    /** The clean port. Public and without arguments, as the kit's child JVM (EINTR-STOP) needs. */
    public EpollPortProvider() {
        this(null);
    }

    EpollPortProvider(Mutant mutant) {
        super("epoll-port", 0, EpollPort.CAPABILITIES);
        this.mutant = mutant;
    }

    /** Opens and closes an epoll instance. */
    @Override
    protected void probe() throws IOException {
        Native.closeQuietly(Native.check(C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1(EPOLL_CLOEXEC)"));
    }

    @Override
    protected Selector newSelector() throws IOException {
        return new EpollPort(name(), EpollPort.CAPABILITIES, mutant);
    }
}
