package dev.iomux.select;

import static dev.iomux.internal.Native.C;

import java.io.IOException;

import dev.iomux.AbstractSelectorProvider;
import dev.iomux.Selector;
import dev.iomux.internal.Native;
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
            Native.check(C.select(0, 0, 0, 0, tv.address()), "select(0, NULL, NULL, NULL, {0, 0})");
        } finally {
            tv.free();
        }
    }

    @Override
    protected Selector newSelector() throws IOException {
        return new SelectSelector();
    }
}
