package dev.iomux.poll;

import static dev.iomux.internal.Native.C;

import java.io.IOException;

import dev.iomux.Capabilities;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.internal.Native;

/**
 * The poll(2) backend: no descriptor limit, distinct error and hang-up flags, {@code ONESHOT} emulated;
 * no edge-triggered mode. Its cost grows with the number of registered descriptors, which poll passes
 * to the kernel on every call.
 */
public final class PollSelectorProvider implements SelectorProvider {
    /** Creates the provider; {@link java.util.ServiceLoader} does this. */
    public PollSelectorProvider() {
    }

    @Override
    public String name() {
        return "poll";
    }

    @Override
    public int priority() {
        return 200;
    }

    @Override
    public Capabilities capabilities() {
        return PollSelector.CAPABILITIES;
    }

    @Override
    public Throwable unavailabilityCause() {
        return Probe.CAUSE;
    }

    @Override
    public Selector open() throws IOException {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new UnsupportedOperationException("poll is not available here: " + cause.getMessage(), cause);
        }
        return new PollSelector();
    }

    /** Calls poll(NULL, 0, 0) once, as CPython's _can_use does, to catch a kernel without it (ENOSYS). */
    private static final class Probe {
        static final Throwable CAUSE = probe();

        private static Throwable probe() {
            if (Native.unavailabilityCause() != null) {
                return Native.unavailabilityCause();
            }
            try {
                Native.check(C.poll(0, 0, 0), "poll(NULL, 0, 0)");
                return null;
            } catch (IOException e) {
                return e;
            }
        }
    }
}
