package dev.iomux.poll;

import java.io.IOException;

import dev.iomux.Selector;
import dev.iomux.spi.AbstractSelectorProvider;
import dev.iomux.spi.Kernel;

/**
 * The poll(2) backend: no descriptor limit, distinct error and hang-up flags, {@code ONESHOT} emulated;
 * no edge-triggered mode. Its cost grows with the number of registered descriptors, which poll passes
 * to the kernel on every call.
 */
public final class PollSelectorProvider extends AbstractSelectorProvider {
    /** Creates the provider; {@link java.util.ServiceLoader} does this. */
    public PollSelectorProvider() {
        super("poll", 200, PollSelector.CAPABILITIES);
    }

    /** poll(NULL, 0, 0). */
    @Override
    protected void probe() throws IOException {
        Kernel.poll(0, 0, 0);
    }

    @Override
    protected Selector newSelector() throws IOException {
        return new PollSelector();
    }
}
