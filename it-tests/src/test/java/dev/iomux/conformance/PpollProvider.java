package dev.iomux.conformance;

import java.io.IOException;

import dev.iomux.Selector;
import dev.iomux.it.mutants.PollPortProvider;
import dev.iomux.poll.PollSelectorProvider;
import dev.iomux.spi.AbstractSelectorProvider;
import dev.iomux.spi.Kernel;

/**
 * A stand-in for a port written by someone else: a poll port under the name "ppoll", declaring all that
 * poll declares and saying nothing of its kernel interface, so that the kit must work out the family from
 * the declaration. Listed with ServiceLoader only where a test asks for it (a services file it writes).
 */
public final class PpollProvider extends AbstractSelectorProvider {
    /** Public and without arguments, as ServiceLoader and the kit's child JVM (EINTR-STOP) need. */
    public PpollProvider() {
        super("ppoll", 150, new PollSelectorProvider().capabilities());
    }

    /** poll(NULL, 0, 0). */
    @Override
    protected void probe() throws IOException {
        Kernel.poll(0, 0, 0);
    }

    @Override
    protected Selector newSelector() throws IOException {
        return PollPortProvider.open(name(), capabilities());
    }
}
