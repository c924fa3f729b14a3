package dev.iomux.uring;

import java.io.IOException;
import java.util.Arrays;
import java.util.EnumSet;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.spi.AbstractSelector;
import dev.iomux.spi.ChangedFds;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.PollBits;
import dev.iomux.spi.Waker;

/**
 * Readiness through io_uring: one IORING_OP_POLL_ADD in flight per armed registration, the wake-up pipe
 * watched by a multishot poll, and a timed wait bounded by an IORING_OP_TIMEOUT submitted with it.
 *
 * <p><b>Changes go to the selecting thread.</b> The base's {@link Updates#AT_NEXT_WAIT} lists every
 * changed descriptor and wakes a blocked select; {@link #implPrepare} (selecting thread, state lock) turns
 * each into SQEs, and the wait's own io_uring_enter submits them. So only the selecting thread enters the
 * ring, and a registration's file is held by the kernel from the submit of its POLL_ADD until its
 * POLL_REMOVE is submitted: <em>a descriptor closed while its poll is armed stays open in the kernel</em>
 * (the peer sees no FIN) until the selecting thread's next wait, which cancels it. Unregister before close,
 * and let the selector select once.
 *
 * <p><b>Level-triggered by re-arming.</b> IORING_OP_POLL_ADD reports a wake-up of the file, not a state
 * (a poll armed on a ready file completes at once, then it is done; IORING_POLL_ADD_LEVEL is refused with
 * EINVAL), so each poll is one-shot and a reported registration gets a new POLL_ADD before the next wait:
 * if the condition still holds, it completes again at once, as poll(2) would report it again.
 *
 * <p><b>EDGE: a multishot poll</b> (IORING_POLL_ADD_MULTI), which reports each wake-up and stays armed,
 * as EPOLLET does; it is armed again when a completion lacks IORING_CQE_F_MORE (the poll ended: CQ
 * overflow, cancellation).
 *
 * <p><b>Stale completions.</b> A POLL_ADD's user_data is {@code (arm << 32) | fd}, where {@code arm} counts
 * this selector's arms; the poll in flight for each descriptor is remembered with the id of the
 * registration it is for. A completion that is not the descriptor's poll in flight (cancelled, or for a
 * registration since removed or replaced) is dropped (REPORT-AFTER-UNREGISTER).
 *
 * <p><b>One selecting thread ({@code "uring-single"}).</b> With IORING_SETUP_SINGLE_ISSUER the ring takes
 * io_uring_enter from one task only (EEXIST from any other). The ring is set up disabled
 * (IORING_SETUP_R_DISABLED) and the first platform thread that selects enables it, which makes it the
 * submitter ({@link #own}); any other thread, and any virtual thread, is refused before it reaches the
 * kernel. Registrations, wakeup and close still work from any thread: changes are queued to the selecting
 * thread as above, the waker is a pipe, and closing the ring's descriptor needs no submitter.
 */
final class UringSelector extends AbstractSelector {
    static final Capabilities CAPABILITIES = Capabilities.of(
            EnumSet.of(Capability.EDGE, Capability.ONESHOT, Capability.ERROR_HANGUP, Capability.READ_HANGUP),
            Capabilities.UNLIMITED);

    /** user_data of the waker's poll. */
    private static final long WAKER = 0;
    /** user_data of a POLL_REMOVE: arm 0 and fd -1 name no poll. */
    private static final long REMOVE = 0xffff_ffffL;
    /** user_data of a wait's IORING_OP_TIMEOUT: arm 0 and fd -2 name no poll. */
    private static final long TIMEOUT = 0xffff_fffeL;
    /** Kept beside the poll bits of an EDGE key (above the 16 bits of poll's events), never sent as such. */
    private static final int EDGE_BIT = 1 << 24;
    private static final int POLL_EVENTS = 0xffff;
    static final int SQ_ENTRIES = 256;
    /** Enters without waiting after a wait, at most, to post a DEFER_TASKRUN ring's pending completions. */
    private static final int FLUSH_PASSES = 64;
    static final int CQ_ENTRIES = 4096;

    private final Ring ring;
    private final int wakerFd;
    private final String backend;
    /** IORING_SETUP_SINGLE_ISSUER: only {@link #owner} enters the ring. */
    private final boolean single;
    private Thread owner;                  // select lock: the thread that enabled a single-issuer ring
    private NativeBuffer pollfd;            // state lock: one struct pollfd, to check an error (reported)
    private int arms;                      // state lock: the arm counter of the user_data
    private long[] inFlight = new long[64]; // state lock: per fd, the user_data of its poll in flight, 0 if none
    private int[] inFlightId = new int[64]; // per fd, the registration that poll is for
    private int[] inFlightBits = new int[64]; // per fd, the poll bits it asked for

    UringSelector(int flags) throws IOException {
        this("uring", flags);
    }

    /**
     * @param backend its name, {@code "uring"} or {@code "uring-single"}
     * @param flags   the ring's setup flags ({@link SelectorFlags}); with IORING_SETUP_SINGLE_ISSUER,
     *                IORING_SETUP_R_DISABLED too: the first selecting thread enables the ring
     */
    UringSelector(String backend, int flags) throws IOException {
        this(backend, flags, Waker.pipe(backend + " selector"));
    }

    private UringSelector(String backend, int flags, Waker waker) throws IOException {
        super(backend, CAPABILITIES, waker, Updates.AT_NEXT_WAIT);
        this.backend = backend;
        this.single = (flags & Ring.SETUP_SINGLE_ISSUER) != 0;
        wakerFd = waker.fd();
        Ring r = null;
        try {
            pollfd = NativeBuffer.allocate(8);
            r = new Ring(SQ_ENTRIES, CQ_ENTRIES, flags);
        } catch (IOException | RuntimeException | Error e) {
            close();
            throw e;
        }
        ring = r;
        armWaker();
    }

    @Override
    protected boolean isOwnDescriptor(int fd) {
        Ring r = ring;
        return r != null && fd == r.fd;
    }

    private void armWaker() {
        ring.pollAdd(sqe(), wakerFd, PollBits.POLLIN, true, WAKER);
        ring.publish();
    }

    /** A free SQE; when the SQ is full, submits it first (selecting thread). */
    private int sqe() {
        int at = ring.nextSqe();
        if (at < 0) {
            ring.publish();
            try {
                ring.submit();
            } catch (NativeIOException e) {
                throw new IllegalStateException("uring selector: the submission queue is full and the kernel "
                        + "refused to take it: " + e.getMessage(), e);
            }
            at = ring.nextSqe();
            if (at < 0) {
                throw new IllegalStateException("uring selector: the submission queue stays full");
            }
        }
        return at;
    }

    /**
     * Lets only the owner of a single-issuer ring go on to the kernel; the first platform thread to get here
     * enables the ring and becomes its owner (io_register_enable_rings takes the enabling task as the
     * submitter). Another thread would get EEXIST from io_uring_enter, and a virtual thread may run on a
     * different carrier at each call, or hand its wait to a pool thread, so both are refused with what to do.
     */
    private void own() {
        if (!single) {
            return;
        }
        Thread t = Thread.currentThread();
        if (t == owner) {
            return;
        }
        String fix = (owner == null ? "select from one platform thread" : "select from thread '" + owner.getName()
                + "' only") + ", or use Selectors.open(\"uring\")";
        if (isVirtual(t)) {
            throw new IllegalStateException("the " + backend + " selector cannot select in a virtual thread (" + t
                    + (owner == null ? "" : "; it belongs to thread '" + owner.getName() + "'")
                    + "): its ring takes submissions from one kernel task only (IORING_SETUP_SINGLE_ISSUER), and "
                    + "a virtual thread runs on whichever carrier it is mounted on: " + fix);
        }
        if (owner != null) {
            throw new IllegalStateException("the " + backend + " selector belongs to thread '" + owner.getName()
                    + "', the first that selected: its ring takes submissions from that thread only "
                    + "(IORING_SETUP_SINGLE_ISSUER), so thread '" + t.getName() + "' cannot select: " + fix);
        }
        try {
            ring.enable();
        } catch (NativeIOException e) {
            throw new IllegalStateException(backend + " selector: the kernel refused to enable its ring: "
                    + e.getMessage(), e);
        }
        owner = t;
    }

    @Override
    protected void implPrepare(ChangedFds changed) {
        // Before any SQE: a full SQ is submitted from here. A refusal leaves the changes to the owner's next
        // select (the base keeps them when this throws).
        own();
        for (int i = 0, n = changed.size(); i < n; i++) {
            sync(changed.fd(i));
        }
        ring.publish();
    }

    /** Brings the kernel's poll for {@code fd} in line with its registration. */
    private void sync(int fd) {
        int id = registrationId(fd);
        boolean want = id != 0 && isArmed(fd);
        int bits = want ? pollBits(registeredEvents(fd)) : 0;
        long current = fd < inFlight.length ? inFlight[fd] : 0;
        if (current != 0 && !(want && inFlightId[fd] == id && inFlightBits[fd] == bits)) {
            // Cancel first: the poll holds the file, which stays open in the kernel until then.
            ring.pollRemove(sqe(), current, REMOVE);
            inFlight[fd] = 0;
            current = 0;
        }
        if (want && current == 0) {
            arm(fd, id, bits);
        }
    }

    private void arm(int fd, int id, int bits) {
        if (fd >= inFlight.length) {
            int size = Math.max(fd + 1, inFlight.length * 2);
            inFlight = Arrays.copyOf(inFlight, size);
            inFlightId = Arrays.copyOf(inFlightId, size);
            inFlightBits = Arrays.copyOf(inFlightBits, size);
        }
        if (++arms == 0) {
            arms = 1; // arm 0 is the waker's and the removes'
        }
        long userData = ((long) arms << 32) | fd;
        // EDGE: a multishot poll, which reports each wake-up of the file and stays armed, as EPOLLET does.
        ring.pollAdd(sqe(), fd, bits & POLL_EVENTS, (bits & EDGE_BIT) != 0, userData);
        inFlight[fd] = userData;
        inFlightId[fd] = id;
        inFlightBits[fd] = bits;
    }

    /** The poll bits, and {@link #EDGE_BIT} for an EDGE key, so that a change of mode re-arms the poll. */
    static int pollBits(int events) {
        return PollBits.request(events, true) | ((events & Events.EDGE) != 0 ? EDGE_BIT : 0);
    }

    @Override
    protected int implSelect(long timeoutNanos) throws IOException {
        own();
        if (timeoutNanos > 0 && ring.ready() == 0) {
            // The wait's bound: an IORING_OP_TIMEOUT with a count of 1, submitted by the wait's own enter (see
            // Ring.timeout), which ends when the wait does: at the first other completion (res 0) or at the
            // time (-ETIME). Its CQE is ignored. One left in flight by a signal (EINTR) may complete in a later
            // wait and end it early with nothing ready: the base then waits again with the time left, as for
            // any wait that returns with nothing for the caller. With CQEs already pending the enter returns
            // at once, and no timeout is queued that would outlive it.
            ring.timeout(sqe(), timeoutNanos, TIMEOUT);
            ring.publish();
        }
        long rc = ring.enter(timeoutNanos != 0);
        if (single) {
            // DEFER_TASKRUN: an enter runs at most two passes of 20 completions' task work
            // (IO_LOCAL_TW_DEFAULT_MAX, io_uring/io_uring.c, Linux 6.13) and leaves the rest pending, flagged
            // IORING_SQ_TASKRUN. Post it now, so that one select reports what is ready, as epoll_wait does,
            // instead of a select per 40 (a select's own cost each). Bounded: room in the CQ, and a few passes.
            for (int pass = 0; pass < FLUSH_PASSES && ring.unposted() && ring.ready() < ring.cqEntries / 2; pass++) {
                ring.enter(false);
            }
        }
        int ready = ring.ready();
        if (rc < 0 && ready == 0) {
            int errno = (int) -rc;
            if (errno == Ring.EINTR) {
                return INTERRUPTED;
            }
            if (errno != Ring.ETIME && errno != Ring.EBUSY && errno != Ring.EAGAIN) {
                throw new NativeIOException("io_uring_enter(ring=" + ring.fd + ")", errno, null);
            }
        }
        return ready;
    }

    @Override
    protected void implCollect(int count) throws IOException {
        try {
            for (int i = 0; i < count; i++) {
                long userData = ring.userData(i);
                int res = ring.res(i);
                if (userData == WAKER) {
                    wakerCompleted(res, ring.cqeFlags(i));
                } else if (userData != REMOVE && userData != TIMEOUT) {
                    pollCompleted(userData, res, ring.cqeFlags(i));
                }
            }
        } finally {
            ring.consume(count);
            ring.publish(); // the re-arms
        }
    }

    private void wakerCompleted(int res, int flags) {
        if (res > 0) {
            wakeupReady();
        }
        if ((flags & Ring.CQE_F_MORE) == 0) {
            // The multishot poll ended: on CQ overflow or cancellation the last CQE lacks IORING_CQE_F_MORE,
            // and nothing more comes until it is armed again.
            armWaker();
        }
    }

    private void pollCompleted(long userData, int res, int flags) throws IOException {
        int fd = (int) userData;
        if (fd < 0 || fd >= inFlight.length || inFlight[fd] != userData) {
            return; // cancelled, or for a registration since changed: not the poll in flight
        }
        boolean goesOn = (flags & Ring.CQE_F_MORE) != 0; // an EDGE key's multishot poll that stays armed
        if (!goesOn) {
            inFlight[fd] = 0;
        }
        // By number, not through registration(fd): a handle per completion would be garbage in every select.
        int id = registrationId(fd);
        if (id == 0 || id != inFlightId[fd]) {
            return;
        }
        int bits = inFlightBits[fd];
        if (res == -Ring.ECANCELED) {
            // Cancelled by the kernel, not by us (the thread that submitted it exited): arm again.
            arm(fd, id, bits);
            return;
        }
        int events;
        if (res >= 0) {
            events = PollBits.toEvents(reported(bits, fd, res));
        } else {
            // EBADF: the number no longer names an open file (poll's POLLNVAL); anything else is an error
            // on the descriptor too.
            events = PollBits.toEvents(PollBits.POLLNVAL);
        }
        collect(fd, events);
        if (!goesOn && isArmed(fd)) {
            // Level-triggered: ask again; a condition that still holds completes at once. EDGE: the multishot
            // poll ended (CQ overflow, or the kernel cancelled it): arm it again. With the same bits: a change
            // of the key since they were asked for is in the base's changed list, and implPrepare's sync, before
            // the next wait, replaces a poll whose registration or bits are not the key's.
            arm(fd, id, bits);
        }
    }

    /**
     * What to report of a completed poll, as poll(2) would. A one-shot poll's result is the wake-up's key
     * masked with the request, not the file's state: io_uring adds POLLRDHUP where it was not asked for (a
     * socket's peer shut down: 0x2010 for a POLLPRI poll), so it is kept only if asked; and a wake-up can
     * say POLLERR that the state no longer holds (a TCP listener's shutdown wakes its poll with POLLERR,
     * where poll(2) sees POLLHUP), so an error is checked with poll(2) itself, a rare path.
     */
    private int reported(int bits, int fd, int res) throws IOException {
        int asked = (bits & POLL_EVENTS) | PollBits.POLLERR | PollBits.POLLHUP;
        if ((res & PollBits.POLLERR) == 0) {
            return res & asked;
        }
        pollfd.putInt(0, fd);
        pollfd.putShort(4, (short) (bits & POLL_EVENTS));
        pollfd.putShort(6, (short) 0);
        int n = Kernel.poll(pollfd.address(), 1, 0);
        return n > 0 ? pollfd.getShort(6) & 0xffff & (asked | PollBits.POLLNVAL) : 0;
    }

    @Override
    protected void implClose() {
        if (ring != null) {
            ring.close();
        }
        if (pollfd != null) {
            pollfd.free();
        }
    }

    /** @return the ring's setup flags and features, for the tests and diagnostics */
    String describe() {
        return "sq=" + ring.sqEntries + " cq=" + ring.cqEntries + " setup=0x" + Integer.toHexString(ring.setupFlags)
                + " features=0x" + Integer.toHexString(ring.features);
    }
}
