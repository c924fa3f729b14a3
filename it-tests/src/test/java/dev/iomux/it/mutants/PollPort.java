package dev.iomux.it.mutants;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static dev.iomux.internal.Linux.POLLERR;
import static dev.iomux.internal.Linux.POLLHUP;
import static dev.iomux.internal.Linux.POLLIN;
import static dev.iomux.internal.Linux.POLLNVAL;
import static dev.iomux.internal.Linux.POLLOUT;
import static dev.iomux.internal.Linux.POLLPRI;
import static dev.iomux.internal.Linux.POLLRDHUP;

import java.io.IOException;
import java.util.Arrays;
import java.util.EnumSet;

import dev.iomux.AbstractSelector;
import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.NativeIOException;
import dev.iomux.SelectorKey;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.spi.NativeBuffer;

/**
 * A poll(2) backend written as a port would be, from PORTING.md and the hooks' javadoc on
 * {@link AbstractSelector}, with a {@link Mutant} planted at each site that names one. Without a mutant it
 * passes the whole kit ({@link PortConformanceTest}).
 *
 * <p>The simplest design that is right: a pollfd array in native memory whose slot 0 is the wake-up pipe,
 * rebuilt from the registered keys in {@link #implPrepare} whenever they changed. Only the selecting
 * thread touches the array, between polls, as the base requires (the kernel writes {@code revents} back
 * when poll returns). Each slot remembers its registration's id, so that a report fetched before an
 * unregister, or before the number was registered again, is dropped. Keys that are disarmed (a fired
 * ONESHOT key, or one parked on a hang-up outside its interest) are left out of the array until modify
 * re-arms them.
 */
final class PollPort extends AbstractSelector {
    static final Capabilities CAPABILITIES = Capabilities.of(EnumSet.of(Capability.ONESHOT, Capability.PRIORITY,
            Capability.ERROR_HANGUP, Capability.READ_HANGUP), Capabilities.UNLIMITED);

    // struct pollfd { int fd; short events; short revents; }: 8 bytes on every Linux ABI.
    private static final int POLLFD = 8;
    private static final int EVENTS = 4;
    private static final int REVENTS = 6;
    private static final int INITIAL_SLOTS = 64;
    private static final int WAKEUP_SLOT = 0;

    private final Mutant mutant; // null: the clean port
    private NativeBuffer pollfds;
    private int capacity;
    private int[] fdAt = new int[INITIAL_SLOTS]; // the descriptor of each slot
    private int[] idAt = new int[INITIAL_SLOTS]; // the registration id of each slot
    private int nfds;
    private boolean changed;

    PollPort(String name, Capabilities capabilities, Mutant mutant) throws IOException {
        super(name, capabilities);
        this.mutant = mutant;
        try {
            pollfds = NativeBuffer.allocate(INITIAL_SLOTS * POLLFD);
            capacity = INITIAL_SLOTS;
            put(WAKEUP_SLOT, wakeupFd(), POLLIN, 0);
            nfds = 1;
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    protected void implRegister(SelectorKey key) throws IOException {
        if (mutant != Mutant.REGISTER_UNCHECKED) {
            requireOpen(key.fd()); // poll(2) would take a closed fd and report POLLNVAL later (API-REGISTER)
        }
        changed(mutant != Mutant.LATE_REGISTER);
    }

    @Override
    protected void implModify(SelectorKey oldKey, SelectorKey newKey) {
        if (mutant == Mutant.REARM_IGNORED && oldKey.events() == newKey.events()) {
            return;
        }
        changed(mutant != Mutant.LATE_MODIFY);
    }

    @Override
    protected void implUnregister(SelectorKey key) {
        // No wake-up: a poll running meanwhile may report the old slot, whose id no key has any more.
        changed(false);
    }

    @Override
    protected void implDisarm(SelectorKey key) {
        boolean oneShot = (key.events() & ONESHOT) != 0;
        if (oneShot ? mutant == Mutant.ONESHOT_NOT_DISARMED : mutant == Mutant.NO_PARKING) {
            return;
        }
        changed(false); // called by the selecting thread, from implCollect: nothing to wake
    }

    /** The keys changed: rebuild the array before the next wait, now if a wait is blocked. */
    private void changed(boolean wake) {
        changed = true;
        requestPrepare();
        if (wake) {
            wakeupIfSelecting();
        }
    }

    @Override
    protected void implPrepare() {
        if (!changed) {
            return;
        }
        changed = false;
        SelectorKey[] keys = registeredKeys();
        ensureCapacity(keys.length + 1);
        int n = WAKEUP_SLOT + 1;
        for (SelectorKey key : keys) {
            if (!isArmed(key)) {
                continue; // a fired one-shot key, or parked: poll(2) reports POLLHUP whatever is asked
            }
            if (n == capacity) {
                break; // only a mutant (ARRAY_NOT_GROWN) gets here
            }
            put(n++, key.fd(), request(key.interest()), registrationId(key));
        }
        nfds = n;
    }

    private void ensureCapacity(int slots) {
        if (slots <= capacity || mutant == Mutant.ARRAY_NOT_GROWN) {
            return;
        }
        int larger = Math.max(slots, 2 * capacity);
        NativeBuffer block = NativeBuffer.allocate(Math.multiplyExact(larger, POLLFD));
        block.copyFrom(pollfds, 0, 0, POLLFD); // the wake-up slot; the others are rewritten
        if (mutant != Mutant.OLD_ARRAY_NOT_FREED) {
            pollfds.free();
        }
        pollfds = block;
        capacity = larger;
        fdAt = Arrays.copyOf(fdAt, larger);
        idAt = Arrays.copyOf(idAt, larger);
    }

    private void put(int slot, int fd, int events, int id) {
        int at = slot * POLLFD;
        pollfds.putInt(at, fd);
        pollfds.putShort(at + EVENTS, (short) events);
        pollfds.putShort(at + REVENTS, (short) 0);
        fdAt[slot] = fd;
        idAt[slot] = id;
    }

    /** What poll(2) is asked for: READ adds POLLRDHUP, so that a peer's FIN is READ_HANGUP. */
    private int request(int interest) {
        if (mutant == Mutant.BUSY_POLL_EVERYTHING) {
            return POLLIN | POLLOUT | POLLPRI | POLLRDHUP;
        }
        int bits = 0;
        if ((interest & READ) != 0) {
            bits |= POLLIN | (mutant == Mutant.RDHUP_NOT_ASKED ? 0 : POLLRDHUP);
        }
        if ((interest & WRITE) != 0) {
            bits |= mutant == Mutant.REQUEST_BIT_SWAPPED ? POLLPRI : POLLOUT;
            if (mutant == Mutant.WIDER_REQUEST) {
                bits |= POLLIN;
            }
        }
        if ((interest & PRIORITY) != 0 && mutant != Mutant.PRIORITY_NOT_ASKED) {
            bits |= POLLPRI;
        }
        return bits;
    }

    @Override
    protected int implSelect(long timeoutNanos) throws IOException {
        int millis = millis(timeoutNanos);
        int n = mutant == Mutant.NFDS_OFF_BY_ONE ? nfds - 1 : nfds;
        for (;;) {
            int rc = Native.poll(pollfds.address(), n, millis);
            if (rc < 0 && Native.errno() == Linux.EINTR) {
                if (mutant == Mutant.EINTR_SURFACED) {
                    throw new NativeIOException("poll(nfds=" + n + ")", Linux.EINTR, null);
                }
                if (mutant == Mutant.EINTR_FULL_TIMEOUT) {
                    continue;
                }
            }
            // EINTR becomes INTERRUPTED: the base retries with the time left (EINTR-RETRY).
            return waitResult(rc, "poll", "nfds", n);
        }
    }

    /** poll(2) takes milliseconds: rounded up (toMillisCeil), -1 for no timeout. */
    private int millis(long timeoutNanos) {
        if (mutant == Mutant.NO_TIMEOUT_AS_ZERO && timeoutNanos < 0) {
            return 0;
        }
        if (timeoutNanos > 0) {
            if (mutant == Mutant.TIMEOUT_IGNORED) {
                return 0;
            }
            if (mutant == Mutant.TIMEOUT_ROUNDED_DOWN) {
                return (int) Math.min(timeoutNanos / 1_000_000, Integer.MAX_VALUE);
            }
            if (mutant == Mutant.TIMEOUT_INT_OVERFLOW) {
                return ((int) timeoutNanos + 999_999) / 1_000_000;
            }
        }
        return toMillisCeil(timeoutNanos);
    }

    @Override
    protected void implCollect(int count) {
        int found = 0;
        int end = mutant == Mutant.COLLECT_SCANS_COUNT_SLOTS ? Math.min(count, nfds) : nfds;
        for (int slot = 0; slot < end && found < count; slot++) {
            int revents = pollfds.getShort(slot * POLLFD + (mutant == Mutant.REVENTS_FROM_EVENTS ? EVENTS : REVENTS))
                    & 0xffff;
            if (revents == 0) {
                continue;
            }
            found++;
            if (slot == WAKEUP_SLOT) {
                if (mutant != Mutant.LOST_WAKEUP) {
                    wakeupFdReady();
                }
                continue;
            }
            SelectorKey key = keyOf(fdAt[slot]);
            if (key == null || registrationId(key) != idAt[slot]) {
                continue; // unregistered (and maybe registered again) while poll ran
            }
            int events = events(revents);
            if (mutant == Mutant.DUPLICATE_IN_BATCH && (events & READ) != 0 && (events & WRITE) != 0) {
                collect(key, events & ~WRITE);
                collect(key, events & ~READ);
                continue;
            }
            collect(key, events);
        }
    }

    /**
     * The kernel's bits in iomux events. poll(2) reports POLLHUP, POLLERR and POLLNVAL whatever was asked;
     * they make both directions ready, so that the read or write that reveals them is tried, and the base
     * masks the directions with the key's interest (REPORT-MASKED) or parks the key (REPORT-NO-SPIN).
     */
    private int events(int revents) {
        int ready = 0;
        if ((revents & POLLIN) != 0) {
            ready |= READ;
        }
        if ((revents & POLLOUT) != 0) {
            ready |= WRITE;
        }
        if ((revents & POLLPRI) != 0) {
            ready |= PRIORITY;
        }
        if ((revents & POLLRDHUP) != 0) {
            ready |= READ | READ_HANGUP;
        }
        if ((revents & POLLHUP) != 0 && mutant != Mutant.HANGUP_DROPPED) {
            ready |= (mutant == Mutant.HANGUP_NO_DIRECTION ? 0 : READ | WRITE) | HANGUP;
        }
        if ((revents & POLLERR) != 0 && mutant != Mutant.ERROR_DROPPED) {
            ready |= READ | WRITE | ERROR;
        }
        if ((revents & POLLNVAL) != 0 && mutant != Mutant.NVAL_DROPPED) {
            ready |= READ | WRITE | ERROR; // closed while registered (CLOSED-FD)
        }
        return ready;
    }

    @Override
    protected void implClose() {
        if (pollfds != null && mutant != Mutant.ARRAY_LEAKED_ON_CLOSE) {
            pollfds.free();
        }
    }
}
