package dev.iomux.poll;

import static dev.iomux.internal.Native.C;

import java.io.IOException;

import dev.iomux.AbstractSelectorProvider;
import dev.iomux.Capabilities;
import dev.iomux.Selector;
import dev.iomux.internal.Native;

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
        Native.check(C.poll(0, 0, 0), "poll(NULL, 0, 0)");
    }

    @Override
    protected Selector newSelector() throws IOException {
        return new PollSelector();
    }

    /**
     * A poll backend under another name that declares only some of poll's capabilities: what it does not
     * declare, the shared base refuses at register. For ports that build on poll with less (and for the
     * conformance kit's own test of how it adapts to a declaration, PORTING.md).
     *
     * @param name         the backend's name
     * @param capabilities a subset of poll's capabilities, with a descriptor limit of its own
     * @return the provider (not registered with {@link java.util.ServiceLoader})
     * @throws IllegalArgumentException if {@code capabilities} declares something poll cannot do
     */
    public static AbstractSelectorProvider restricted(String name, Capabilities capabilities) {
        if (!PollSelector.CAPABILITIES.supported().containsAll(capabilities.supported())) {
            throw new IllegalArgumentException("poll cannot declare " + capabilities.supported() + ": it supports "
                    + PollSelector.CAPABILITIES.supported());
        }
        return new AbstractSelectorProvider(name, 0, capabilities) {
            @Override
            protected void probe() throws IOException {
                Native.check(C.poll(0, 0, 0), "poll(NULL, 0, 0)");
            }

            @Override
            protected Selector newSelector() throws IOException {
                return new PollSelector(name, capabilities);
            }
        };
    }
}
