package dev.iomux.uring;

import java.io.IOException;

import dev.iomux.NativeIOException;

/**
 * The setup flags a selector's ring asks for, decided once: IORING_SETUP_COOP_TASKRUN (Linux 5.19) where the
 * kernel has it.
 *
 * <p>COOP_TASKRUN: completions are run when the selecting thread enters the kernel, instead of interrupting
 * it wherever it is (by default the kernel uses a signal-like notification, TWA_SIGNAL, which makes a
 * blocking call of that thread elsewhere return EINTR). All of this ring's work is done by the selecting
 * thread inside io_uring_enter, so nothing waits for it.
 *
 * <p>Not SINGLE_ISSUER nor DEFER_TASKRUN for the {@code "uring"} backend: they tie the ring to the one task
 * that submits (io_uring_enter from another fails with EEXIST), while the Selector contract lets any thread
 * select, one at a time, and a selecting virtual thread waits on a platform thread standing in for it
 * (AbstractSelector's KernelWait), and runs its other calls on whichever carrier it is mounted on.
 *
 * <p>The opt-in {@code "uring-single"} backend ({@link UringSingleSelectorProvider}) asks for them, for the
 * common case of one dedicated platform event-loop thread ({@link #single()}): IORING_SETUP_SINGLE_ISSUER
 * (Linux 6.0) lets the kernel skip the ring's submission lock, and IORING_SETUP_DEFER_TASKRUN (Linux 6.1)
 * runs completions only when that thread enters with IORING_ENTER_GETEVENTS, in a batch, instead of as task
 * work that interrupts it. Its ring is set up disabled (IORING_SETUP_R_DISABLED, Linux 5.10) and enabled by
 * the first thread that selects, which the kernel then takes as the submitter. It also asks for
 * IORING_SETUP_TASKRUN_FLAG (Linux 5.19): the kernel raises IORING_SQ_TASKRUN while completions wait to be
 * run, which the selector reads to post them all in one select (see UringSelector). The {@code "uring"} ring
 * goes without it: nothing there reads the flag, which the kernel would set and clear (an atomic operation each)
 * as completions come and are run.
 */
final class SelectorFlags {
    private static volatile Integer chosen;
    private static volatile Integer chosenSingle;

    private SelectorFlags() {
    }

    static int choose() throws NativeIOException {
        Integer c = chosen;
        if (c == null) {
            int coop = Ring.SETUP_COOP_TASKRUN;
            try {
                new Ring(2, 4, coop).close();
                c = coop;
            } catch (NativeIOException e) {
                if (e.errno() != Ring.EINVAL) {
                    throw e;
                }
                c = 0; // before Linux 5.19
            } catch (IOException e) {
                c = 0; // a missing feature: the probe says which
            }
            chosen = c;
        }
        return c;
    }

    /**
     * The flags of a {@code "uring-single"} ring: {@link #choose()}'s, TASKRUN_FLAG, SINGLE_ISSUER, DEFER_TASKRUN
     * and R_DISABLED (the selector enables the ring from its first selecting thread, see {@link Ring#enable}).
     *
     * @throws IOException if the kernel refuses them: "needs Linux 6.1 (DEFER_TASKRUN)" where it does not know
     *                     them (EINVAL), the kernel's reason otherwise
     */
    static int single() throws IOException {
        Integer c = chosenSingle;
        if (c == null) {
            int flags = choose() | Ring.SETUP_TASKRUN_FLAG | Ring.SETUP_SINGLE_ISSUER | Ring.SETUP_DEFER_TASKRUN
                    | Ring.SETUP_R_DISABLED;
            try {
                new Ring(2, 4, flags).close();
            } catch (NativeIOException e) {
                if (e.errno() == Ring.EINVAL) {
                    throw new IOException("needs Linux 6.1 (DEFER_TASKRUN): io_uring_setup refused "
                            + "IORING_SETUP_SINGLE_ISSUER|IORING_SETUP_DEFER_TASKRUN with EINVAL", e);
                }
                throw e;
            }
            c = flags;
            chosenSingle = c;
        }
        return c;
    }
}
