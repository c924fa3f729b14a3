package dev.iomux.poll;

import java.io.IOException;
import java.util.Arrays;
import java.util.EnumSet;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.spi.AbstractSelector;
import dev.iomux.spi.ChangedFds;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.PollBits;
import dev.iomux.spi.Registration;
import dev.iomux.spi.Waker;

/**
 * Poll-based selector: a pollfd array in native memory, the waker's descriptor in slot 0, each
 * registration's slot index kept in the registration and removal by swap-with-last, as the JDK's
 * {@code PollSelectorImpl}.
 *
 * <p>The kernel reads the array when poll(2) starts and writes {@code revents} back, by index, when it
 * returns, so the array and {@code used} are changed only by the selecting thread between polls, in
 * {@link #implPrepare}, which brings the entry of each changed descriptor's current registration up to
 * date. Nothing is rebuilt while registrations do not change.
 *
 * <p>The selector keeps no keys, so nothing of a key outlives its registration or its replacement by
 * modify: a slot names its descriptor ({@code fdBySlot}) and the base's table gives the current
 * registration. Unregister turns the registration's slot into a hole at once; implPrepare removes the
 * holes before the next poll. A poll that was running meanwhile may report a hole's old entry, which
 * implCollect skips, also when the same descriptor number was registered again since. Invariant, under
 * the state lock: each of the slots 1 to {@code used - 1} is a hole or the slot of the registration the
 * table holds for {@code fdBySlot[slot]}; a registration without a slot has its descriptor listed as
 * changed. Arrays grown for many registrations shrink again in implPrepare once they are four times
 * larger than needed.
 *
 * <p>{@code ONESHOT} is emulated: a fired key's entry gets a negative fd, which poll(2) skips ("the field
 * events is ignored and revents returns zero"), until modify re-arms it. The same hides a key parked on
 * a hang-up outside its interest, which poll would otherwise report at once, forever.
 */
final class PollSelector extends AbstractSelector {
    static final Capabilities CAPABILITIES = Capabilities.of(EnumSet.of(
            Capability.ONESHOT, Capability.PRIORITY, Capability.ERROR_HANGUP, Capability.READ_HANGUP),
            Capabilities.UNLIMITED);

    private static final int WAKEUP_SLOT = 0;
    private static final int HOLE = -1;
    private static final int INITIAL_SLOTS = 64;
    private static final int INITIAL_HOLES = 16;

    private final int wakeupFd;
    // Package-private, not private: the backend's own tests read the array's state (state lock).
    PollFdArray fds;
    int[] fdBySlot;                                  // the descriptor of each slot, or HOLE
    int used;                                        // slots in use, slot 0 included
    int[] holes = new int[INITIAL_HOLES];            // slots unregistered since the last implPrepare
    int holeCount;
    private NativeBuffer timespec;                   // ppoll(2)'s timeout, nanoseconds

    PollSelector() throws IOException {
        this(Waker.pipe("poll selector"));
    }

    private PollSelector(Waker waker) {
        super("poll", CAPABILITIES, waker, Updates.AT_NEXT_WAIT);
        this.wakeupFd = waker.fd();
        try {
            fds = new PollFdArray(INITIAL_SLOTS);
            timespec = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
            fdBySlot = new int[INITIAL_SLOTS];
            fds.set(WAKEUP_SLOT, wakeupFd, PollBits.POLLIN);
            fdBySlot[WAKEUP_SLOT] = wakeupFd;
            used = 1;
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    protected void implUnregister(Registration r) {
        // A poll in progress may still report the old entry, which implCollect skips because the slot is
        // a hole now. Without a slot, the registration never reached the array.
        int slot = r.slot();
        if (slot > 0) {
            fdBySlot[slot] = HOLE;
            r.setSlot(-1);
            if (holeCount == holes.length) {
                holes = Arrays.copyOf(holes, holeCount * 2);
            }
            holes[holeCount++] = slot;
        }
    }

    @Override
    protected void implPrepare(ChangedFds changed) {
        removeHoles();
        for (int i = 0; i < changed.size(); i++) {
            Registration r = registration(changed.fd(i));
            if (r != null) { // null: unregistered since; a slot it had is one of the holes removed above
                apply(r);
            }
        }
        trim();
    }

    /**
     * Removes the holes by swap-with-last. The recorded holes are distinct (slots are handed out only
     * here, so none was reused since it was recorded) and in any order. With the trailing holes dropped
     * first, each is either past the end by now, or below the last slot, which is no hole and moves into
     * it. No hole is left behind the last one: a hole that ends up last is recorded later in the list,
     * since every earlier one is filled or past the end already.
     */
    private void removeHoles() {
        for (int i = 0; i < holeCount; i++) {
            dropTrailingHoles();
            int hole = holes[i];
            if (hole < used) {
                assert fdBySlot[hole] == HOLE : "slot " + hole + " recorded as a hole holds fd " + fdBySlot[hole];
                int last = used - 1;
                int fd = fdBySlot[last];
                fds.copy(last, hole);
                fdBySlot[hole] = fd;
                fdBySlot[last] = HOLE;
                registration(fd).setSlot(hole);
                used--;
            }
        }
        holeCount = 0;
    }

    private void dropTrailingHoles() {
        while (used > 1 && fdBySlot[used - 1] == HOLE) {
            used--;
        }
    }

    private void apply(Registration r) {
        int fd = r.fd();
        int slot = r.slot();
        if (slot < 0) {
            if (used == fdBySlot.length) {
                fds.ensureCapacity(used + 1, used);
                fdBySlot = Arrays.copyOf(fdBySlot, fds.capacity());
            }
            slot = used++;
            r.setSlot(slot);
            fdBySlot[slot] = fd;
        }
        // A negative fd makes poll(2) skip the entry: a disarmed one-shot or parked key.
        fds.set(slot, r.isArmed() ? fd : ~fd, PollBits.request(r.events(), true));
    }

    /**
     * Shrinks what grew far beyond its use, so that memory follows the registrations of today rather than
     * the busiest moment so far. Only arrays four times larger than needed shrink, to twice what is
     * needed, so that a load going up and down a little does not reallocate at every select.
     */
    private void trim() {
        int slots = trimmedLength(fdBySlot.length, used, INITIAL_SLOTS);
        if (slots < fdBySlot.length) {
            fds.shrink(slots, used);
            fdBySlot = Arrays.copyOf(fdBySlot, slots);
        }
        int holesLength = trimmedLength(holes.length, used, INITIAL_HOLES);
        if (holesLength < holes.length) {
            holes = new int[holesLength]; // empty now
        }
    }

    /** @return {@code length}, or a smaller length if it is more than four times {@code needed} */
    private static int trimmedLength(int length, int needed, int minimum) {
        int target = Math.max(minimum, 2 * needed);
        return length > 2 * target ? target : length;
    }

    @Override
    protected int implSelect(long timeoutNanos) throws IOException {
        // ppoll(2) for a positive timeout: its timespec takes it to the nanosecond (TIMEOUT-POSITIVE).
        return Kernel.poll(fds.address(), used, timeoutNanos, timespec);
    }

    @Override
    protected void implCollect(int count) throws IOException {
        int found = 0;
        for (int slot = 0; slot < used && found < count; slot++) {
            int revents = fds.revents(slot);
            if (revents == 0) {
                continue;
            }
            found++;
            if (slot == WAKEUP_SLOT) {
                wakeupReady();
                continue;
            }
            int fd = fdBySlot[slot];
            if (fd == HOLE) {
                continue; // unregistered while poll(2) ran: the report is for a registration that is gone
            }
            // By number, without a Registration handle, which the JIT may not optimise away here.
            assert registrationId(fd) != 0 : "slot " + slot + " holds fd " + fd + ", which has no registration";
            collect(fd, PollBits.toEvents(revents));
        }
    }

    @Override
    protected void implClose() {
        if (fds != null) {
            fds.free();
        }
        if (timespec != null) {
            timespec.free();
        }
        fdBySlot = null;
        holes = null;
    }
}
