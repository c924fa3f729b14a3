package dev.iomux.it.mutants;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static dev.iomux.spi.PollBits.POLLERR;
import static dev.iomux.spi.PollBits.POLLHUP;
import static dev.iomux.spi.PollBits.POLLIN;
import static dev.iomux.spi.PollBits.POLLNVAL;
import static dev.iomux.spi.PollBits.POLLOUT;
import static dev.iomux.spi.PollBits.POLLPRI;
import static dev.iomux.spi.PollBits.POLLRDHUP;

import java.io.IOException;
import java.util.Arrays;
import java.util.EnumSet;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.NativeIOException;
import dev.iomux.spi.AbstractSelector;
import dev.iomux.spi.ChangedFds;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.Registration;
import dev.iomux.spi.Waker;

/**
 * A poll(2) backend written as a port would be, from PORTING.md and the javadoc of the public SPI
 * ({@code dev.iomux.spi}) alone, with a {@link Mutant} planted at each site that names one. Without a
 * mutant it passes the whole kit ({@link PortConformanceTest}).
 *
 * <p>The simplest design that is right: a pollfd array in native memory whose slot 0 is the waker, rebuilt
 * from the registrations in {@link #implPrepare} whenever one changed. Only the selecting thread touches
 * the array, between polls, as the base requires (the kernel writes {@code revents} back when poll
 * returns). Each slot remembers its registration's id, so that a report fetched before an unregister, or
 * before the number was registered again, is dropped. Registrations that are disarmed (a fired ONESHOT
 * key, or one parked on a hang-up outside its interest) are left out of the array until modify re-arms
 * them.
 *
 * <p>With {@code filters}, it watches each direction of a registration in an entry of its own, as kqueue
 * watches an EVFILT_READ and an EVFILT_WRITE filter per descriptor and reports each apart: a descriptor
 * ready both ways is reported twice by one wait, and the base merges the two reports into one entry of
 * the batch ({@link AbstractSelector#collect}).
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
    private final boolean filters;
    private NativeBuffer pollfds;
    private NativeBuffer timespec;
    private int capacity;
    private int[] fdAt = new int[INITIAL_SLOTS]; // the descriptor of each slot
    private int[] idAt = new int[INITIAL_SLOTS]; // the registration id of each slot
    private int nfds;
    /** Reports of registrations in the last collect, before the base merged them: for FilterPortTest. */
    int lastReports;

    PollPort(String name, Capabilities capabilities, Mutant mutant, boolean filters) throws IOException {
        this(name, capabilities, mutant, filters, Waker.pipe(name + " selector"));
    }

    private PollPort(String name, Capabilities capabilities, Mutant mutant, boolean filters, Waker waker) {
        super(name, capabilities, waker, Updates.AT_NEXT_WAIT);
        this.mutant = mutant;
        this.filters = filters;
        try {
            pollfds = NativeBuffer.allocate(INITIAL_SLOTS * POLLFD);
            timespec = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
            capacity = INITIAL_SLOTS;
            put(WAKEUP_SLOT, waker.fd(), POLLIN, 0);
            nfds = 1;
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** Something changed: rebuild the whole array from the registrations. */
    @Override
    protected void implPrepare(ChangedFds changed) {
        Registration[] all = registrations();
        ensureCapacity((filters ? 2 : 1) * all.length + 1);
        int n = WAKEUP_SLOT + 1;
        for (Registration r : all) {
            boolean oneShot = (r.events() & ONESHOT) != 0;
            boolean ignoreDisarm = oneShot ? mutant == Mutant.ONESHOT_NOT_DISARMED : mutant == Mutant.NO_PARKING;
            if (!r.isArmed() && !ignoreDisarm) {
                continue; // a fired one-shot key, or parked: poll(2) reports POLLHUP whatever is asked
            }
            int request = request(r.events());
            if (!filters) {
                n = put(n, r, request);
                continue;
            }
            // One entry per direction, as kqueue's filters; PRIORITY rides with reading.
            if ((request & (POLLIN | POLLPRI)) != 0) {
                n = put(n, r, request & (POLLIN | POLLPRI | POLLRDHUP));
            }
            if ((request & POLLOUT) != 0) {
                n = put(n, r, POLLOUT);
            }
        }
        nfds = n;
    }

    private int put(int slot, Registration r, int request) {
        if (slot == capacity) {
            return slot; // only a mutant (ARRAY_NOT_GROWN) gets here
        }
        put(slot, r.fd(), request, r.id());
        return slot + 1;
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
        long timeout = timeout(timeoutNanos);
        int n = mutant == Mutant.NFDS_OFF_BY_ONE ? nfds - 1 : nfds;
        for (;;) {
            // EINTR comes back as INTERRUPTED: the base retries with the time left (EINTR-RETRY).
            int rc = mutant == Mutant.TIMEOUT_IN_MILLISECONDS ? Kernel.poll(pollfds.address(), n, timeout)
                    : Kernel.poll(pollfds.address(), n, timeout, timespec);
            if (rc == INTERRUPTED) {
                if (mutant == Mutant.EINTR_SURFACED) {
                    throw new NativeIOException("poll(nfds=" + n + ")", 4, null);
                }
                if (mutant == Mutant.EINTR_FULL_TIMEOUT) {
                    continue;
                }
            }
            return rc;
        }
    }

    /** Kernel.poll passes a positive timeout to ppoll(2) in nanoseconds; the mutants get there first. */
    private long timeout(long timeoutNanos) {
        if (mutant == Mutant.NO_TIMEOUT_AS_ZERO && timeoutNanos < 0) {
            return 0;
        }
        if (timeoutNanos > 0) {
            if (mutant == Mutant.TIMEOUT_IGNORED) {
                return 0;
            }
            if (mutant == Mutant.TIMEOUT_ROUNDED_DOWN) {
                return timeoutNanos / 1_000_000 * 1_000_000;
            }
            if (mutant == Mutant.TIMEOUT_INT_OVERFLOW) {
                return ((int) timeoutNanos + 999_999) / 1_000_000 * 1_000_000L;
            }
        }
        return timeoutNanos;
    }

    @Override
    protected void implCollect(int count) throws IOException {
        lastReports = 0;
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
                    wakeupReady();
                }
                continue;
            }
            int fd = fdAt[slot];
            if (registrationId(fd) != idAt[slot]) {
                continue; // unregistered (and maybe registered again) while poll ran
            }
            lastReports++;
            collect(fd, events(revents)); // with filters, perhaps the second report of fd: the base merges them
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
        if (timespec != null) {
            timespec.free();
        }
    }
}
