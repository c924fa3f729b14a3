package dev.iomux.select;

import java.io.IOException;

import dev.iomux.Selector;
import dev.iomux.spi.AbstractSelectorProvider;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;

/**
 * The select(2) backend: descriptors 0..1023 only (FD_SETSIZE), {@code PRIORITY} through exceptfds,
 * {@code ONESHOT} emulated, errors and hang-ups folded into readable and writable. The last resort of
 * {@link dev.iomux.Selectors#open()}, and the baseline every account of multiplexing starts from.
 */
public final class SelectSelectorProvider extends AbstractSelectorProvider {
    /** Creates the provider; {@link java.util.ServiceLoader} does this. */
    public SelectSelectorProvider() {
        super("select", 100, SelectSelector.CAPABILITIES);
    }

    /** select(0, NULL, NULL, NULL, {0, 0}). */
    @Override
    protected void probe() throws IOException {
        NativeBuffer tv = NativeBuffer.allocate(16);
        try {
            Kernel.select(0, 0, 0, 0, tv.address());
        } finally {
            tv.free();
        }
    }

    @Override
    protected Selector newSelector() throws IOException {
        return new SelectSelector();
    }
}
