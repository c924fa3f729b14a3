package dev.iomux.conformance;

import java.io.IOException;
import java.util.EnumSet;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Selector;
import dev.iomux.it.mutants.PollPortProvider;
import dev.iomux.spi.AbstractSelectorProvider;
import dev.iomux.spi.Kernel;

/**
 * A stand-in for a port: a poll port under another name that declares no ONESHOT (as a port that does
 * not emulate it would) and a lower descriptor limit (4095). The kit must adapt to what it declares:
 * check that ONESHOT is refused instead of checking one-shot delivery, and that descriptors past its
 * limit are refused.
 */
public final class PlainPollProvider extends AbstractSelectorProvider {
    static final Capabilities CAPABILITIES = Capabilities.of(EnumSet.of(Capability.PRIORITY,
            Capability.ERROR_HANGUP, Capability.READ_HANGUP), 4095);

    /** Public and without arguments, as ServiceLoader and the kit's child JVM (EINTR-STOP) need. */
    public PlainPollProvider() {
        super("plain-poll", 0, CAPABILITIES);
    }

    /** poll(NULL, 0, 0). */
    @Override
    protected void probe() throws IOException {
        Kernel.poll(0, 0, 0);
    }

    @Override
    protected Selector newSelector() throws IOException {
        return PollPortProvider.open(name(), CAPABILITIES);
    }
}
