package dev.iomux.select;

import static dev.iomux.internal.Native.C;

import java.io.IOException;

import dev.iomux.Capabilities;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.internal.Native;
import dev.iomux.internal.NativeBuffer;

/**
 * The select(2) backend: descriptors 0..1023 only (FD_SETSIZE), {@code PRIORITY} through exceptfds,
 * {@code ONESHOT} emulated, errors and hang-ups folded into readable and writable. The last resort of
 * {@link dev.iomux.Selectors#open()}, and the baseline the seeds start from.
 */
public final class SelectSelectorProvider implements SelectorProvider {
    /** Creates the provider; {@link java.util.ServiceLoader} does this. */
    public SelectSelectorProvider() {
    }

    @Override
    public String name() {
        return "select";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Capabilities capabilities() {
        return SelectSelector.CAPABILITIES;
    }

    @Override
    public Throwable unavailabilityCause() {
        return Probe.CAUSE;
    }

    @Override
    public Selector open() throws IOException {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new UnsupportedOperationException("select is not available here: " + cause.getMessage(), cause);
        }
        return new SelectSelector();
    }

    /** Calls select(0, NULL, NULL, NULL, {0, 0}) once, to catch a kernel or seccomp filter without it. */
    private static final class Probe {
        static final Throwable CAUSE = probe();

        private static Throwable probe() {
            if (Native.unavailabilityCause() != null) {
                return Native.unavailabilityCause();
            }
            NativeBuffer tv = NativeBuffer.allocate(16);
            try {
                Native.check(C.select(0, 0, 0, 0, tv.address()), "select(0, NULL, NULL, NULL, {0, 0})");
                return null;
            } catch (IOException e) {
                return e;
            } finally {
                tv.free();
            }
        }
    }
}
