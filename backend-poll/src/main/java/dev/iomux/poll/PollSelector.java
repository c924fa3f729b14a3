package dev.iomux.poll;

import java.io.IOException;
import java.util.Arrays;
import java.util.EnumSet;

import dev.iomux.AbstractSelector;
import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.SelectorKey;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.internal.PollBits;

/**
 * Poll-based selector: a pollfd array in native memory, the wake-up pipe's read end in slot 0, each
 * registration's slot index kept in the registration and removal by swap-with-last, as the JDK's
 * {@code PollSelectorImpl}.
 *
 * <p>The kernel reads the array when poll(2) starts and writes {@code revents} back, by index, when it
 * returns, so the array and {@code used} are changed only by the selecting thread between polls, under
 * the state lock, in {@link #implPrepare}. Register, modify and disarm record the descriptor's number,
 * once however often it changes (a bit per descriptor says it is recorded already), and implPrepare
 * brings the entry of the descriptor's current key up to date. Nothing is rebuilt while registrations do
 * not change.
 *
 * <p>The selector keeps no keys, so nothing of a key outlives its registration or its replacement by
 * modify: a slot names its descriptor ({@code fdBySlot}) and the base's table gives the current key.
 * Unregister turns the key's slot into a hole at once and records it; implPrepare removes the holes
 * before the next poll. A poll that was running meanwhile may report a hole's old entry, which
 * implCollect skips, also when the same descriptor number was registered again since. Invariant, under
 * the state lock: each of the slots 1 to {@code used - 1} is a hole or the slot of the registration the
 * table holds for {@code fdBySlot[slot]}; a registration without a slot has its descriptor recorded.
 * Arrays grown for many registrations or changes shrink again in implPrepare once they are four times
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
    private static final int INITIAL_LIST = 16;
    private static final int MIN_BITSET_WORDS = 16;          // descriptors 0..1023

    private PollFdArray fds;
    private int[] fdBySlot;                                  // the descriptor of each slot, or HOLE
    private int used;                                        // slots in use, slot 0 included
    private long[] pendingBits = new long[MIN_BITSET_WORDS]; // by descriptor: recorded in pendingFds
    private int[] pendingFds = new int[INITIAL_LIST];        // descriptors whose entry must be brought up to date
    private int pendingCount;
    private int[] holes = new int[INITIAL_LIST];             // slots unregistered since the last implPrepare
    private int holeCount;
    private long changesSinceTrim;                           // since the bitset was last checked for size

    // Counter for tests: how often implPrepare had changes to apply.
    long syncs;

    PollSelector() throws IOException {
        this("poll", CAPABILITIES);
    }

    /** A poll selector under another name, declaring (a subset of) {@link #CAPABILITIES}. */
    PollSelector(String name, Capabilities capabilities) throws IOException {
        super(name, capabilities);
        try {
            fds = new PollFdArray(INITIAL_SLOTS);
            fdBySlot = new int[INITIAL_SLOTS];
            fds.set(WAKEUP_SLOT, wakeupFd(), Linux.POLLIN);
            fdBySlot[WAKEUP_SLOT] = wakeupFd();
            used = 1;
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    protected void implRegister(SelectorKey key) throws IOException {
        requireOpen(key.fd());
        markPending(key.fd());
        wakeupIfSelecting();
    }

    @Override
    protected void implModify(SelectorKey oldKey, SelectorKey newKey) {
        markPending(newKey.fd());
        wakeupIfSelecting();
    }

    @Override
    protected void implUnregister(SelectorKey key) {
        // No wake-up: a poll in progress may still report the old entry, which implCollect skips because
        // the slot is a hole now.
        int slot = slot(key);
        if (slot > 0) {
            fdBySlot[slot] = HOLE;
            setSlot(key, -1);
            if (holeCount == holes.length) {
                holes = Arrays.copyOf(holes, holeCount * 2);
            }
            holes[holeCount++] = slot;
            requestPrepare();
        }
        // Without a slot the descriptor is recorded since its register; implPrepare finds no key for it.
    }

    @Override
    protected void implDisarm(SelectorKey key) {
        markPending(key.fd());
    }

    /** Records that a descriptor's entry must be brought up to date, once until the next implPrepare. */
    private void markPending(int fd) {
        int word = fd >>> 6;
        if (word >= pendingBits.length) {
            pendingBits = Arrays.copyOf(pendingBits, Math.max(word + 1, pendingBits.length * 2));
        }
        long bit = 1L << fd; // the shift takes the low 6 bits of fd
        if ((pendingBits[word] & bit) == 0) {
            pendingBits[word] |= bit;
            if (pendingCount == pendingFds.length) {
                pendingFds = Arrays.copyOf(pendingFds, pendingCount * 2);
            }
            pendingFds[pendingCount++] = fd;
        }
        requestPrepare();
    }

    @Override
    protected void implPrepare() {
        if (pendingCount == 0 && holeCount == 0) {
            return; // a fresh selector's first select: the wake-up slot was set up by the constructor
        }
        int changes = pendingCount + holeCount;
        removeHoles();
        int highestFd = 0;
        for (int i = 0; i < pendingCount; i++) {
            int fd = pendingFds[i];
            pendingBits[fd >>> 6] &= ~(1L << fd);
            highestFd = Math.max(highestFd, fd);
            SelectorKey key = keyOf(fd);
            if (key != null) { // null: unregistered since; a slot it had is one of the holes removed above
                apply(key);
            }
        }
        pendingCount = 0;
        trim(changes, highestFd);
        syncs++;
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
                setSlot(keyOf(fd), hole);
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

    private void apply(SelectorKey key) {
        int fd = key.fd();
        int slot = slot(key);
        if (slot < 0) {
            if (used == fdBySlot.length) {
                fds.ensureCapacity(used + 1, used);
                fdBySlot = Arrays.copyOf(fdBySlot, fds.capacity());
            }
            slot = used++;
            setSlot(key, slot);
            fdBySlot[slot] = fd;
        }
        // A negative fd makes poll(2) skip the entry: a disarmed one-shot or parked key.
        fds.set(slot, isArmed(key) ? fd : ~fd, PollBits.request(key.interest(), true));
    }

    /**
     * Shrinks what grew far beyond its use, so that memory follows the registrations of today rather than
     * the busiest moment so far. Only arrays four times larger than needed shrink, to twice what is
     * needed, so that a load going up and down a little does not reallocate at every select.
     *
     * @param changes   the descriptors and holes this implPrepare applied
     * @param highestFd the highest descriptor among them
     */
    private void trim(int changes, int highestFd) {
        int slots = trimmedLength(fdBySlot.length, used, INITIAL_SLOTS);
        if (slots < fdBySlot.length) {
            fds.shrink(slots, used);
            fdBySlot = Arrays.copyOf(fdBySlot, slots);
        }
        // The lists are empty now; they are needed for as many changes as came in this time, or as keys.
        int listNeed = Math.max(used, changes);
        int pendingLength = trimmedLength(pendingFds.length, listNeed, INITIAL_LIST);
        if (pendingLength < pendingFds.length) {
            pendingFds = new int[pendingLength];
        }
        int holesLength = trimmedLength(holes.length, listNeed, INITIAL_LIST);
        if (holesLength < holes.length) {
            holes = new int[holesLength];
        }
        // The bitset (all clear now) needs the highest registered descriptor, which takes a pass over the
        // slots: made at most once per 'used' changes, so that it costs O(1) per change.
        changesSinceTrim += changes;
        if (pendingBits.length > MIN_BITSET_WORDS && changesSinceTrim >= used) {
            changesSinceTrim = 0;
            for (int slot = 1; slot < used; slot++) {
                highestFd = Math.max(highestFd, fdBySlot[slot]);
            }
            int words = trimmedLength(pendingBits.length, (highestFd >>> 6) + 1, MIN_BITSET_WORDS);
            if (words < pendingBits.length) {
                pendingBits = new long[words];
            }
        }
    }

    /** @return {@code length}, or a smaller length if it is more than four times {@code needed} */
    private static int trimmedLength(int length, int needed, int minimum) {
        int target = Math.max(minimum, 2 * needed);
        return length > 2 * target ? target : length;
    }

    @Override
    protected int implSelect(long timeoutNanos) throws IOException {
        return waitResult(Native.poll(fds.address(), used, toMillisCeil(timeoutNanos)), "poll", "nfds", used);
    }

    @Override
    protected void implCollect(int count) {
        int found = 0;
        for (int slot = 0; slot < used && found < count; slot++) {
            int revents = fds.revents(slot);
            if (revents == 0) {
                continue;
            }
            found++;
            if (slot == WAKEUP_SLOT) {
                wakeupFdReady();
                continue;
            }
            int fd = fdBySlot[slot];
            if (fd == HOLE) {
                continue; // unregistered while poll(2) ran: the report is for a registration that is gone
            }
            SelectorKey key = keyOf(fd);
            assert key != null && slot(key) == slot : "slot " + slot + " holds fd " + fd + ", whose key is " + key;
            collect(key, PollBits.toEvents(revents));
        }
    }

    /** For tests: bytes held by this selector's own arrays, on the heap and in native memory. */
    long bookkeepingBytes() {
        return 4L * (fdBySlot.length + pendingFds.length + holes.length) + 8L * pendingBits.length
                + (long) PollFdArray.SIZE * fds.capacity();
    }

    /**
     * For tests, after a select and while no other thread uses the selector: checks that every registered
     * key has a slot that names its descriptor, with the entry poll(2) reads, and that there is no other
     * slot in use.
     *
     * @throws IllegalStateException naming the first slot or key that is wrong
     */
    void checkSlots() {
        if (pendingCount != 0 || holeCount != 0) {
            throw new IllegalStateException(pendingCount + " changes and " + holeCount + " holes not applied yet: "
                    + "call after a select, before any change");
        }
        SelectorKey[] keys = registeredKeys();
        if (used - 1 != keys.length) {
            throw new IllegalStateException((used - 1) + " slots in use for " + keys.length + " keys");
        }
        for (SelectorKey key : keys) {
            int slot = slot(key);
            if (slot < 1 || slot >= used || fdBySlot[slot] != key.fd()) {
                throw new IllegalStateException(key + " has slot " + slot + " of " + used + ", which holds fd "
                        + (slot < 1 || slot >= used ? "(none)" : fdBySlot[slot]));
            }
            int expected = isArmed(key) ? key.fd() : ~key.fd();
            if (fds.fd(slot) != expected) {
                throw new IllegalStateException(key + " (armed: " + isArmed(key) + ") has slot " + slot
                        + ", whose pollfd has fd " + fds.fd(slot) + " instead of " + expected);
            }
        }
    }

    @Override
    protected void implClose() {
        if (fds != null) {
            fds.free();
        }
        fdBySlot = null;
        pendingFds = null;
        holes = null;
        pendingBits = null;
    }
}
