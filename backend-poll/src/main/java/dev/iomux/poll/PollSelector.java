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
 * Poll-based selector: a pollfd array in native memory, the wake-up pipe's read end in slot 0, each key's slot
 * index kept in the key and removal by swap-with-last, as the JDK's {@code PollSelectorImpl}.
 *
 * <p>The kernel reads the array when poll(2) starts and writes {@code revents} back, by index, when it
 * returns, so the array is only changed by the selecting thread between polls: register, modify and
 * unregister record the key in a pending list, and {@link #implPrepare} applies the list before the next
 * poll. Nothing is rebuilt while registrations do not change.
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

    private PollFdArray fds;
    private SelectorKey[] keysBySlot;
    private int used;                                        // entries in use, slot 0 included
    private SelectorKey[] pending = new SelectorKey[16];    // keys whose entry must be brought up to date
    private int pendingCount;

    // Counter for tests: how often implPrepare had changes to apply.
    long syncs;

    PollSelector() throws IOException {
        this("poll", CAPABILITIES);
    }

    /** A poll selector under another name, declaring (a subset of) {@link #CAPABILITIES}. */
    PollSelector(String name, Capabilities capabilities) throws IOException {
        super(name, capabilities);
        try {
            fds = new PollFdArray(64);
            keysBySlot = new SelectorKey[64];
            fds.set(WAKEUP_SLOT, wakeupFd(), Linux.POLLIN);
            used = 1;
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    protected void implRegister(SelectorKey key) throws IOException {
        requireOpen(key.fd());
        markPending(key);
        wakeupIfSelecting();
    }

    @Override
    protected void implModify(SelectorKey oldKey, SelectorKey newKey) {
        markPending(newKey);
        wakeupIfSelecting();
    }

    @Override
    protected void implUnregister(SelectorKey key) {
        // No wake-up: a poll in progress may still report the old entry, which implCollect drops
        // because the key is no longer registered.
        markPending(key);
    }

    @Override
    protected void implDisarm(SelectorKey key) {
        markPending(key);
    }

    @Override
    protected void implPrepare() {
        if (pendingCount == 0) {
            return; // a fresh selector's first select: the wake-up slot was set up by the constructor
        }
        for (int i = 0; i < pendingCount; i++) {
            apply(current(pending[i]));
            pending[i] = null;
        }
        pendingCount = 0;
        syncs++;
    }

    private void apply(SelectorKey key) {
        int slot = slot(key);
        if (!isRegistered(key)) {
            if (slot > 0) {
                removeSlot(slot);
                setSlot(key, -1);
            }
            return;
        }
        if (slot < 0) {
            fds.ensureCapacity(used + 1, used);
            if (used == keysBySlot.length) {
                keysBySlot = Arrays.copyOf(keysBySlot, used * 2);
            }
            slot = used++;
            setSlot(key, slot);
        }
        keysBySlot[slot] = key;
        // A negative fd makes poll(2) skip the entry: a disarmed one-shot or parked key.
        fds.set(slot, isArmed(key) ? key.fd() : ~key.fd(), PollBits.request(key.interest(), true));
    }

    private void removeSlot(int slot) {
        int last = used - 1;
        if (slot != last) {
            SelectorKey moved = current(keysBySlot[last]);
            fds.copy(last, slot);
            keysBySlot[slot] = moved;
            setSlot(moved, slot);
        }
        keysBySlot[last] = null;
        used--;
    }

    private void markPending(SelectorKey key) {
        if (pendingCount == pending.length) {
            pending = Arrays.copyOf(pending, pendingCount * 2);
        }
        pending[pendingCount++] = key;
        requestPrepare();
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
            SelectorKey key = current(keysBySlot[slot]);
            if (isRegistered(key)) {
                collect(key, PollBits.toEvents(revents));
            }
        }
    }

    @Override
    protected void implClose() {
        if (fds != null) {
            fds.free();
        }
        keysBySlot = null;
        pending = null;
    }
}
