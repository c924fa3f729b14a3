package dev.iomux.conformance;

import java.io.IOException;

import dev.iomux.AbstractSelectorProvider;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.poll.PollSelectorProvider;

/**
 * A stand-in for a port written by someone else: poll(2) under the name "ppoll", declaring all that poll
 * declares and saying nothing of its kernel interface, so that the kit must work out the family from the
 * declaration. Listed with ServiceLoader only where a test asks for it (a services file it writes).
 */
public final class PpollProvider extends AbstractSelectorProvider {
    private static final SelectorProvider POLL = new PollSelectorProvider();
    private static final SelectorProvider PPOLL = PollSelectorProvider.restricted("ppoll", POLL.capabilities());

    /** Public and without arguments, as ServiceLoader and the kit's child JVM (EINTR-STOP) need. */
    public PpollProvider() {
        super("ppoll", 150, POLL.capabilities());
    }

    @Override
    protected void probe() throws IOException {
        if (!PPOLL.isAvailable()) {
            throw new IOException("poll is unavailable", PPOLL.unavailabilityCause());
        }
    }

    @Override
    protected Selector newSelector() throws IOException {
        return PPOLL.open();
    }
}
