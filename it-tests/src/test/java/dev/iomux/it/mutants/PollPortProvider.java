package dev.iomux.it.mutants;

import static dev.iomux.internal.Native.C;

import java.io.IOException;
import java.util.EnumSet;

import dev.iomux.AbstractSelectorProvider;
import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Selector;
import dev.iomux.internal.Native;

/** The provider of {@link PollPort}: clean, or with one {@link Mutant} planted. */
public final class PollPortProvider extends AbstractSelectorProvider {
    /** What a provider declares that lies about ONESHOT (its selectors accept it anyway). */
    private static final Capabilities WITHOUT_ONESHOT = Capabilities.of(EnumSet.of(Capability.PRIORITY,
            Capability.ERROR_HANGUP, Capability.READ_HANGUP), Capabilities.UNLIMITED);

    private final Mutant mutant;

    /** The clean port. Public and without arguments, as the kit's child JVM (EINTR-STOP) needs. */
    public PollPortProvider() {
        this(null);
    }

    PollPortProvider(Mutant mutant) {
        super("poll-port", 0, mutant == Mutant.UNDECLARED_ONESHOT_ACCEPTED ? WITHOUT_ONESHOT : PollPort.CAPABILITIES);
        this.mutant = mutant;
    }

    /** poll(NULL, 0, 0). */
    @Override
    protected void probe() throws IOException {
        Native.check(C.poll(0, 0, 0), "poll(NULL, 0, 0)");
    }

    @Override
    protected Selector newSelector() throws IOException {
        PollPort selector = new PollPort(name(), PollPort.CAPABILITIES, mutant);
        return mutant == Mutant.UNCOALESCED_WAKEUPS ? new WakeupPerCall(selector) : selector;
    }
}
