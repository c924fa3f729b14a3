package dev.iomux.it.mutants;

import java.io.IOException;

import dev.iomux.Selector;
import dev.iomux.spi.AbstractSelectorProvider;
import dev.iomux.spi.Kernel;

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
        Kernel.closeQuietly(Kernel.epollCreate());
    }

    @Override
    protected Selector newSelector() throws IOException {
        return EpollPort.open(name(), EpollPort.CAPABILITIES, mutant);
    }
}
