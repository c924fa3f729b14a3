package dev.iomux.uring;

import java.io.IOException;

import dev.iomux.NativeIOException;
import dev.iomux.Selector;
import dev.iomux.spi.AbstractSelectorProvider;

/**
 * The io_uring backend for one dedicated event-loop thread, {@code Selectors.open("uring-single")}: the
 * {@code "uring"} backend ({@link UringSelectorProvider}) on a ring set up with IORING_SETUP_SINGLE_ISSUER
 * and IORING_SETUP_DEFER_TASKRUN, as liburing recommends for a ring used by one thread: the kernel takes no
 * submission lock, and runs completions in a batch when the selecting thread asks for them instead of
 * interrupting it. Never opened by {@code Selectors.open()} (its rank is 0).
 *
 * <p><b>One selecting thread.</b> The first platform thread that selects owns the selector: the kernel takes
 * it as the ring's only submitter. A select from any other thread, and any select in a virtual thread, throws
 * {@link IllegalStateException} naming the owner (select from that thread only, or use
 * {@code Selectors.open("uring")}, whose selectors any thread may select). Register, modify, unregister,
 * wakeup and close work from any thread, as for every backend. If the owning thread ends, the selector can
 * only be closed.
 *
 * <p>Needs Linux 6.1 or later (DEFER_TASKRUN): {@link #unavailabilityCause()} says so where the kernel does
 * not know the flags, and otherwise why io_uring cannot be used, as for {@code "uring"}.
 */
public final class UringSingleSelectorProvider extends AbstractSelectorProvider {
    /** The backend's name. */
    static final String NAME = "uring-single";

    /** Creates the provider; {@link java.util.ServiceLoader} does this. */
    public UringSingleSelectorProvider() {
        super(NAME, UringSelectorProvider.PRIORITY, UringSelector.CAPABILITIES);
    }

    /** What makes {@code "uring"} unavailable, then a ring with the single-issuer flags, set up and closed. */
    @Override
    protected void probe() throws IOException {
        Throwable uring = new UringSelectorProvider().unavailabilityCause();
        if (uring != null) {
            throw new IOException(uring.getMessage(), uring);
        }
        try {
            SelectorFlags.single();
        } catch (NativeIOException e) {
            throw new IOException(UringSelectorProvider.reason(e), e);
        }
    }

    @Override
    protected Selector newSelector() throws IOException {
        return new UringSelector(NAME, SelectorFlags.single());
    }
}
