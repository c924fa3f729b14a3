package dev.iomux.it.mutants;

import java.io.IOException;
import java.util.EnumSet;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Selector;
import dev.iomux.spi.AbstractSelectorProvider;
import dev.iomux.spi.Kernel;

/**
 * The provider of {@link PollPort}: clean, or with one {@link Mutant} planted, or watching each direction
 * apart as kqueue's filters do ({@link #filters()}).
 */
public final class PollPortProvider extends AbstractSelectorProvider {
    /** What a provider declares that lies about ONESHOT (its selectors accept it anyway). */
    private static final Capabilities WITHOUT_ONESHOT = Capabilities.of(EnumSet.of(Capability.PRIORITY,
            Capability.ERROR_HANGUP, Capability.READ_HANGUP), Capabilities.UNLIMITED);

    private final Mutant mutant;
    private final boolean filters;

    /** The clean port. Public and without arguments, as the kit's child JVM (EINTR-STOP) needs. */
    public PollPortProvider() {
        this(null);
    }

    PollPortProvider(Mutant mutant) {
        this("poll-port", mutant, false);
    }

    private PollPortProvider(String name, Mutant mutant, boolean filters) {
        super(name, 0, mutant == Mutant.UNDECLARED_ONESHOT_ACCEPTED ? WITHOUT_ONESHOT : PollPort.CAPABILITIES);
        this.mutant = mutant;
        this.filters = filters;
    }

    /**
     * Opens the clean port under another name with other capabilities, as a port that declares less would.
     *
     * @param name         the backend's name
     * @param capabilities what it declares, at most what poll can do
     * @return a new selector
     * @throws IOException if the waker cannot be made
     */
    public static Selector open(String name, Capabilities capabilities) throws IOException {
        return new PollPort(name, capabilities, null, false);
    }

    /** @return the clean port watching reading and writing in entries of their own, as kqueue does */
    static PollPortProvider filters() {
        return new PollPortProvider("filter-port", null, true);
    }

    /** poll(NULL, 0, 0). */
    @Override
    protected void probe() throws IOException {
        Kernel.poll(0, 0, 0);
    }

    @Override
    protected Selector newSelector() throws IOException {
        PollPort selector = new PollPort(name(), PollPort.CAPABILITIES, mutant, filters);
        return mutant == Mutant.UNCOALESCED_WAKEUPS ? new WakeupPerCall(selector) : selector;
    }
}
