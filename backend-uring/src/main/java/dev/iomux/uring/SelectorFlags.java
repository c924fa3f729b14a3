package dev.iomux.uring;

import dev.iomux.NativeIOException;

/**
 * The setup flags a selector's ring asks for, decided once: IORING_SETUP_COOP_TASKRUN and
 * IORING_SETUP_TASKRUN_FLAG (Linux 5.19) where the kernel has them.
 *
 * <p>COOP_TASKRUN: completions are run when the selecting thread enters the kernel, instead of interrupting
 * it wherever it is (by default the kernel uses a signal-like notification, TWA_SIGNAL, which makes a
 * blocking call of that thread elsewhere return EINTR). All of this ring's work is done by the selecting
 * thread inside io_uring_enter, so nothing waits for it.
 *
 * <p>Not SINGLE_ISSUER nor DEFER_TASKRUN: they tie the ring to the one task that submits (io_uring_enter
 * from another fails with EEXIST), while the Selector contract lets any thread select, one at a time, and a
 * selecting virtual thread waits on a platform thread standing in for it (AbstractSelector's KernelWait).
 */
final class SelectorFlags {
    private static volatile Integer chosen;

    private SelectorFlags() {
    }

    static int choose() throws NativeIOException {
        Integer c = chosen;
        if (c == null) {
            int coop = Ring.SETUP_COOP_TASKRUN | Ring.SETUP_TASKRUN_FLAG;
            try {
                new Ring(2, 4, coop).close();
                c = coop;
            } catch (NativeIOException e) {
                if (e.errno() != Ring.EINVAL) {
                    throw e;
                }
                c = 0; // before Linux 5.19
            } catch (java.io.IOException e) {
                c = 0; // a missing feature: the probe says which
            }
            chosen = c;
        }
        return c;
    }
}
