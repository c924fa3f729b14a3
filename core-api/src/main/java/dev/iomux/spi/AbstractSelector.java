package dev.iomux.spi;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.FLAGS;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.INTERESTS;
import static dev.iomux.Events.ONESHOT;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import dev.iomux.Capabilities;
import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.SelectorClosedException;
import dev.iomux.SelectorKey;

/**
 * The shared base of every backend: what select, poll and epoll have in common, written once.
 *
 * <p>It holds the descriptor-to-registration table, checks every argument, rolls a registration back
 * when the kernel refuses it, runs the timeout and EINTR-retry loop, owns the closed state and the
 * coalesced wake-up ({@link Waker}), emulates {@link Events#ONESHOT} where the kernel does not do it, and
 * delivers ready keys. Its public methods are final. A backend fills in a few hooks; the contract of
 * each is on the hook.
 *
 * <h2>Two kinds of kernel interface</h2>
 * {@link Updates#KERNEL_AT_ONCE}: the kernel holds the registrations (epoll_ctl, kevent), so register,
 * modify and unregister call {@link #implUpdate} and {@link #implUnregister} and the kernel's answer is
 * the caller's. {@link Updates#AT_NEXT_WAIT}: the sets are passed whole to every wait (select, poll), so
 * the base checks that a registered descriptor is open, lists each changed descriptor once
 * ({@link ChangedFds}), wakes a blocked wait so that it picks the change up (rule API-THREADS), and hands
 * the list to {@link #implPrepare} before the next wait.
 *
 * <h2>Locks</h2>
 * The <em>state lock</em> guards the table and the registrations; every {@code impl*} hook but
 * {@link #implSelect} runs with it held, so hooks need no locking of their own. The <em>select lock</em>
 * admits one selecting thread; {@link #implSelect} runs without the state lock, so that other threads
 * can register while a select blocks. The <em>kernel lock</em> is held by the selecting thread from
 * {@link #implPrepare} through {@link #implSelect} to {@link #implCollect}, never while a
 * {@link ReadyHandler} runs; {@link #close()} takes it before {@link #implClose}, so native memory is
 * freed only when no wait uses it, and close never waits for a handler. Native memory that the kernel
 * reads during {@link #implSelect} must only be changed in {@link #implPrepare} or {@link #implSelect}
 * itself: the kernel writes results back into it when the wait ends.
 *
 * <h2>Delivery</h2>
 * {@link #implCollect} turns the kernel's results into {@link #collect} calls; the base masks them with
 * the key's interest (rule REPORT-MASKED), merges two reports of one registration, disarms one-shot
 * keys, and parks keys whose descriptor hung up or failed outside their interest (REPORT-NO-SPIN). The
 * batch is then delivered without the lock, skipping keys unregistered in the meantime
 * (REPORT-AFTER-UNREGISTER).
 */
public abstract class AbstractSelector implements Selector {
    /** What {@link #implSelect} returns when a signal interrupted the wait: {@link Kernel#INTERRUPTED}. */
    protected static final int INTERRUPTED = Kernel.INTERRUPTED;

    /**
     * What {@link #implSelect} returns when its native sets changed under the call and it should be made
     * again, with the time left, after {@link #implPrepare}. Unlike {@link #INTERRUPTED}, a zero timeout is
     * retried too.
     */
    protected static final int RETRY = -2;

    /** How a backend's kernel interface learns of registrations. */
    public enum Updates {
        /** The kernel holds them and is told at once (epoll_ctl, kevent): {@link #implUpdate}. */
        KERNEL_AT_ONCE,
        /** Every wait passes them whole (select, poll): {@link #implPrepare} with the changed descriptors. */
        AT_NEXT_WAIT
    }

    /** Timeouts this long or longer (about 146 years) are treated as no timeout. */
    private static final long FOREVER_NANOS = Long.MAX_VALUE / 2;

    private final String backend;
    private final Capabilities capabilities;
    private final Checks checks;
    private final boolean atNextWait;
    private final ReentrantLock stateLock = new ReentrantLock();
    private final ReentrantLock selectLock = new ReentrantLock();
    private final ReentrantLock kernelLock = new ReentrantLock();
    private final RegistrationTable table = new RegistrationTable();
    private final ChangedFds changed = new ChangedFds();      // AT_NEXT_WAIT; state lock
    private final KeysView keysView = new KeysView(this);
    private final KernelWait kernelWait = new KernelWait();   // select lock: a virtual thread's waits
    private final ReadyBatch batch = new ReadyBatch();        // selecting thread
    private final Waker waker;

    private volatile boolean prepareRequested = true;
    private volatile boolean closed;
    private boolean released;        // stateLock
    private volatile Thread selectingThread;
    private int nextId = 1;          // stateLock
    private boolean wokenUp;         // selecting thread

    /**
     * Creates the base. A backend constructor that fails after this must call {@link #close()}, and
     * {@link #implClose()} must cope with a half-built backend.
     *
     * @param backend      the backend's name, used in messages
     * @param capabilities what the backend supports; {@link #register} enforces it
     * @param waker        the backend's wake-up, which the backend watches for reading; the base signals,
     *                     drains and closes it
     * @param updates      how the backend's kernel interface learns of registrations
     */
    protected AbstractSelector(String backend, Capabilities capabilities, Waker waker, Updates updates) {
        this.backend = backend;
        this.capabilities = capabilities;
        this.checks = new Checks(backend, capabilities);
        this.waker = java.util.Objects.requireNonNull(waker, "waker");
        this.atNextWait = updates == Updates.AT_NEXT_WAIT;
    }

    // ------------------------------------------------------------------------------------------------
    // Hooks
    // ------------------------------------------------------------------------------------------------

    /**
     * {@link Updates#KERNEL_AT_ONCE}: makes the kernel watch a registration as it now is. Called for a new
     * registration ({@link Registration#slot()} still -1 unless set here), for changed events or a
     * re-arming modify, and for a disarmed one ({@link Registration#isArmed()} false: a reported
     * {@code ONESHOT} key, or a key parked on a hang-up or error outside its interest). State lock held.
     * A refused new registration is not entered in the table; a refused modify removes the registration
     * ({@link #implUnregister}) and passes the exception on. Not called for {@link Updates#AT_NEXT_WAIT}.
     *
     * @param r the registration
     * @throws IOException if the kernel refuses
     */
    protected void implUpdate(Registration r) throws IOException {
        throw new UnsupportedOperationException(backend + " declares KERNEL_AT_ONCE but has no implUpdate");
    }

    /**
     * Removes a registration, already out of the table. State lock held. Must cope with a descriptor that
     * was closed, or closed and its number reused, since it was registered; a wait in progress may still
     * report the registration, which {@link #implCollect} must not pass on. For {@link Updates#AT_NEXT_WAIT}
     * the descriptor is listed for {@link #implPrepare} as well.
     *
     * @param r the registration; {@link Registration#isRegistered()} is false
     */
    protected void implUnregister(Registration r) {
    }

    /**
     * {@link Updates#AT_NEXT_WAIT}: brings the native sets up to date for the next wait. Each listed
     * descriptor's current registration is {@link #registration(int)}, or null if it has none now.
     * Selecting thread, state lock held; runs only when something changed since the last wait.
     *
     * @param changed the descriptors whose registration changed, each once
     */
    protected void implPrepare(ChangedFds changed) {
    }

    /**
     * Waits for readiness. Selecting thread, or a platform thread standing in for a selecting virtual
     * thread (so keep nothing in thread-locals); the state lock is <em>not</em> held.
     *
     * @param timeoutNanos negative: no timeout; zero: do not wait; positive: wait at least this long (the time
     *                     left of the caller's timeout, which counts from the call, after {@link #implPrepare})
     * @return the count of native results to hand to {@link #implCollect}, {@link #INTERRUPTED} or
     *         {@link #RETRY}
     * @throws IOException if the call fails with anything but EINTR
     */
    protected abstract int implSelect(long timeoutNanos) throws IOException;

    /**
     * Turns the results of the last {@link #implSelect} into {@link #collect} calls (current registrations
     * only: look them up with {@link #registration(int)}) and calls {@link #wakeupReady()} if the waker's
     * descriptor was reported. Selecting thread, state lock held.
     *
     * @param count what {@link #implSelect} returned, not negative
     * @throws IOException if {@link #implUpdate}, called to disarm a key, fails
     */
    protected abstract void implCollect(int count) throws IOException;

    /**
     * Releases the backend's descriptors and native memory (the base closes the waker). Called once, with
     * the state lock held and no select in progress; also after a failed constructor, so fields may still
     * be null.
     */
    protected abstract void implClose();

    /**
     * Returns whether a descriptor is one of the backend's own (epoll: its epoll instance), which register
     * refuses, as it refuses the waker's: watching them would break the selector.
     *
     * @param fd a descriptor
     * @return true if it belongs to this selector
     */
    protected boolean isOwnDescriptor(int fd) {
        return false;
    }

    /**
     * The message for a descriptor above {@link Capabilities#maxFd()}; a backend may say more.
     *
     * @param fd the descriptor
     * @return the message
     */
    protected String fdLimitMessage(int fd) {
        return "fd " + fd + " is above the highest descriptor the " + backend + " backend can watch ("
                + capabilities.maxFd() + ")";
    }

    // ------------------------------------------------------------------------------------------------
    // For backends
    // ------------------------------------------------------------------------------------------------

    /**
     * Returns the current registration of a descriptor. State lock held.
     *
     * @param fd a descriptor
     * @return its registration, or null
     */
    protected final Registration registration(int fd) {
        assert holdsStateLock();
        int id = fd < 0 ? 0 : table.id(fd);
        return id == 0 ? null : new Registration(this, fd, id, table.key(fd));
    }

    /**
     * Returns the id of a descriptor's current registration ({@link Registration#id()}) without making a
     * handle: for the loop of {@link #implCollect}. State lock held.
     *
     * @param fd a descriptor
     * @return the id, or 0 if the descriptor has no registration
     */
    protected final int registrationId(int fd) {
        assert holdsStateLock();
        return fd < 0 ? 0 : table.id(fd);
    }

    /**
     * Returns {@link Registration#isArmed()} of a descriptor's current registration. State lock held.
     *
     * @param fd a registered descriptor
     * @return whether it is armed
     */
    protected final boolean isArmed(int fd) {
        assert holdsStateLock();
        return table.isArmed(fd);
    }

    /**
     * Returns {@link Registration#events()} of a descriptor's current registration. State lock held.
     *
     * @param fd a registered descriptor
     * @return its current key's events
     */
    protected final int registeredEvents(int fd) {
        assert holdsStateLock();
        return table.key(fd).events();
    }

    /**
     * Returns whether a registration is still the current one of its descriptor: what
     * {@link SelectorKey#isValid()} asks. Any thread.
     *
     * @param fd the descriptor
     * @param id the registration's {@link Registration#id()}
     * @return true if it is registered, and the selector is open
     */
    public final boolean isRegistered(int fd, int id) {
        return id != 0 && table.idAcquire(fd) == id;
    }

    /**
     * Returns {@link Registration#slot()} of a descriptor's current registration. State lock held.
     *
     * @param fd a registered descriptor
     * @return the backend's slot, -1 if not set
     */
    protected final int slot(int fd) {
        assert holdsStateLock();
        return table.slot(fd);
    }

    void setSlot(int fd, int slot) {
        table.setSlot(fd, slot);
    }

    /**
     * Returns every current registration. State lock held. Allocates: for rare paths (rebuilding a kernel
     * object).
     *
     * @return the registrations, in descriptor order
     */
    protected final Registration[] registrations() {
        assert holdsStateLock();
        SelectorKey[] keys = table.keys();
        Registration[] all = new Registration[keys.length];
        for (int i = 0; i < keys.length; i++) {
            all[i] = registration(keys[i].fd());
        }
        return all;
    }

    /**
     * Reports a registration as ready, from {@link #implCollect}. A second report of the same registration
     * in one wait merges into the first (a kernel that reports reading and writing apart, like kqueue).
     *
     * @param r     a current registration
     * @param ready what the kernel reported, in {@link Events} bits: directions and flags, unmasked
     * @throws IOException if {@link #implUpdate}, called to disarm the key, fails
     */
    protected final void collect(Registration r, int ready) throws IOException {
        collect(r.fd(), ready);
    }

    /**
     * Reports a descriptor's current registration as ready: {@link #collect(Registration, int)} without a
     * handle, for the loop of {@link #implCollect}.
     *
     * @param fd    a descriptor with a current registration
     * @param ready what the kernel reported, in {@link Events} bits: directions and flags, unmasked
     * @throws IOException if {@link #implUpdate}, called to disarm the key, fails
     */
    protected final void collect(int fd, int ready) throws IOException {
        assert holdsStateLock() && table.id(fd) != 0 : "fd " + fd + " has no registration to collect";
        int id = table.id(fd);
        int events = table.key(fd).events();
        int directions = ready & events & INTERESTS;
        if (table.isInBatch(fd)) {
            batch.merge(batch.find(fd), directions | (ready & FLAGS));
            return;
        }
        if (directions == 0) {
            // Nothing the key asked for. A hang-up or error stays reported by the kernel whatever the
            // interest (poll(2): POLLHUP/POLLERR are always returned), so park the key or the next wait
            // returns at once, forever (REPORT-NO-SPIN; JDK 6403933 CloseWhenKeyIdle). Anything else is a
            // report for an interest the key no longer has (modified meanwhile): it must not use up a
            // one-shot arming it was not for.
            if ((ready & (ERROR | HANGUP)) != 0) {
                disarm(fd);
            }
            return;
        }
        if ((events & ONESHOT) != 0) {
            disarm(fd);
        }
        batch.add(fd, id, directions | (ready & FLAGS));
        table.setInBatch(fd, true);
    }

    /**
     * Tells whether a thread is a virtual thread (JDK 21 and later; always false on JDK 17 to 20): for a
     * backend whose kernel object answers one kernel task only (io_uring's SINGLE_ISSUER), which a virtual
     * thread, running on whichever carrier it is mounted on, cannot be.
     *
     * @param thread a thread
     * @return whether it is virtual
     */
    protected static boolean isVirtual(Thread thread) {
        return KernelWait.isVirtual(thread);
    }

    /**
     * Tells the base that the waker's descriptor was reported readable: drains it. The select returns to
     * its caller only if {@link #wakeup()} was called; a signal that only asked the selecting thread to
     * pick up a change lets the wait go on. State lock held.
     */
    protected final void wakeupReady() {
        assert holdsStateLock();
        if (waker.drain()) {
            wokenUp = true;
        }
    }

    final boolean holdsStateLock() {
        return stateLock.isHeldByCurrentThread();
    }

    private void disarm(int fd) throws IOException {
        if (table.isArmed(fd)) {
            table.setArmed(fd, false);
            if (atNextWait) {
                listChange(fd);
            } else {
                implUpdate(registration(fd));
            }
        }
    }

    private void listChange(int fd) {
        changed.add(fd);
        prepareRequested = true;
    }

    /** Wakes the selecting thread if it is not the caller, so that a blocked wait picks a change up. */
    private void wakeupIfSelecting() {
        Thread t = selectingThread;
        if (t != null && t != Thread.currentThread()) {
            signal(false);
        }
    }

    /** Signals the waker; a broken one (its descriptors closed behind its back) is reported. */
    private void signal(boolean user) {
        if (!waker.signal(user) && waker.misuse() != null) {
            throw new IllegalStateException(waker.misuse());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Registrations
    // ------------------------------------------------------------------------------------------------

    @Override
    public final SelectorKey register(int fd, int events, Object attachment) throws IOException {
        checkFd(fd);
        checks.events(fd, events);
        stateLock.lock();
        try {
            ensureOpen("register fd " + fd);
            if (table.id(fd) != 0) {
                // The message never runs user code: no attachment toString().
                throw new IllegalStateException("fd " + fd + " is already registered with this " + backend
                        + " selector (events " + Events.toString(table.key(fd).events())
                        + "): use modify() to change it");
            }
            if (atNextWait) {
                Kernel.requireOpen(fd); // as epoll_ctl refuses a closed fd (rule API-REGISTER)
            }
            Registration r = new Registration(this, fd, newId(), null);
            SelectorKey key = new SelectorKey(r, fd, events, attachment);
            r.setKey(key);
            if (!atNextWait) {
                // Before the table grows to the number: the kernel refuses a descriptor that is not open
                // (EBADF), however large. Armed, no slot: a removal reset both.
                try {
                    implUpdate(r);
                } catch (IOException | RuntimeException | Error e) {
                    table.reset(fd); // never in the table: nothing else to repair (CPython's rollback)
                    throw e;
                }
            }
            table.add(fd, r.id(), key);
            if (atNextWait) {
                listChange(fd);
                wakeupIfSelecting();
            }
            return key;
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public final SelectorKey modify(int fd, int events) throws IOException {
        Checks.notNegative(fd);
        stateLock.lock();
        try {
            ensureOpen("modify fd " + fd);
            registered(fd, "modify");
            return modify(fd, events, table.key(fd).attachment());
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public final SelectorKey modify(int fd, int events, Object attachment) throws IOException {
        Checks.notNegative(fd);
        checks.events(fd, events);
        stateLock.lock();
        try {
            ensureOpen("modify fd " + fd);
            Registration r = new Registration(this, fd, registered(fd, "modify"), null);
            SelectorKey old = table.key(fd);
            Checks.modifiable(fd, old.events(), events);
            boolean rearm = (events & ONESHOT) != 0;
            if (events == old.events() && !rearm) {
                // Attachment only: no system call (CPython test_modify; rule API-MODIFY).
                if (attachment != old.attachment()) {
                    table.replace(fd, new SelectorKey(r, fd, events, attachment));
                }
                return table.key(fd);
            }
            SelectorKey key = new SelectorKey(r, fd, events, attachment);
            r.setKey(key);
            table.replace(fd, key);
            table.setArmed(fd, true);
            if (atNextWait) {
                listChange(fd);
                wakeupIfSelecting();
                return key;
            }
            try {
                implUpdate(r);
            } catch (IOException | RuntimeException | Error e) {
                // bpo-30014: a refused modify leaves the descriptor unregistered, not half-changed.
                try {
                    remove(fd);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            return key;
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public final SelectorKey unregister(int fd) {
        Checks.notNegative(fd);
        stateLock.lock();
        try {
            ensureOpen("unregister fd " + fd);
            registered(fd, "unregister");
            SelectorKey key = table.key(fd);
            remove(fd);
            return key;
        } finally {
            stateLock.unlock();
        }
    }

    /** No wake-up: a wait in progress may still report the registration, which collecting skips. */
    private void remove(int fd) {
        Registration r = registration(fd);
        table.remove(fd);
        if (atNextWait) {
            listChange(fd);
        }
        try {
            implUnregister(r);
        } finally {
            table.reset(fd); // its state and slot, which implUnregister may still read
        }
    }

    @Override
    public final SelectorKey key(int fd) {
        stateLock.lock();
        try {
            ensureOpen("look up fd " + fd);
            return fd < 0 ? null : table.key(fd);
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public final Map<Integer, SelectorKey> keys() {
        ensureOpen("list keys");
        return keysView;
    }

    int keyCount() {
        stateLock.lock();
        try {
            ensureOpen("list keys");
            return table.size();
        } finally {
            stateLock.unlock();
        }
    }

    SelectorKey[] keySnapshot() {
        stateLock.lock();
        try {
            ensureOpen("list keys");
            return table.keys();
        } finally {
            stateLock.unlock();
        }
    }

    /** @return the id of the descriptor's registration */
    private int registered(int fd, String op) {
        int id = fd < 0 ? 0 : table.id(fd);
        if (id == 0) {
            throw new IllegalStateException("cannot " + op + " fd " + fd + ": it is not registered with this "
                    + backend + " selector");
        }
        return id;
    }

    private int newId() {
        int id = nextId++;
        if (nextId == 0) {
            nextId = 1; // 0 marks the waker's descriptor
        }
        return id;
    }

    private void checkFd(int fd) {
        Checks.notNegative(fd);
        if (fd > capabilities.maxFd()) {
            throw new IllegalArgumentException(fdLimitMessage(fd));
        }
        if (waker.owns(fd) || isOwnDescriptor(fd)) {
            // A stale number, most likely: the caller's descriptor was closed and this selector's took its
            // number. Watching it would swallow wake-ups, and unregistering it would stop them for good.
            throw new IllegalArgumentException("fd " + fd + " belongs to this " + backend + " selector itself "
                    + "(its " + (waker.owns(fd) ? "wake-up pipe" : "kernel object") + "): it cannot be registered; "
                    + "is the number stale, from a descriptor closed earlier?");
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Selecting
    // ------------------------------------------------------------------------------------------------

    @Override
    public final List<Ready> select() throws IOException {
        List<Ready> out = new ArrayList<>();
        doSelect(-1, null, out);
        return out;
    }

    @Override
    public final List<Ready> select(Duration timeout) throws IOException {
        List<Ready> out = new ArrayList<>();
        doSelect(Checks.timeoutNanos(timeout), null, out);
        return out;
    }

    @Override
    public final List<Ready> selectNow() throws IOException {
        List<Ready> out = new ArrayList<>();
        doSelect(0, null, out);
        return out;
    }

    @Override
    public final int select(ReadyHandler handler) throws IOException {
        return doSelect(-1, Checks.handler(handler), null);
    }

    @Override
    public final int select(long timeout, TimeUnit unit, ReadyHandler handler) throws IOException {
        if (unit == null) {
            throw new NullPointerException("unit must not be null");
        }
        return doSelect(timeout <= 0 ? 0 : unit.toNanos(timeout), Checks.handler(handler), null);
    }

    @Override
    public final int selectNow(ReadyHandler handler) throws IOException {
        return doSelect(0, Checks.handler(handler), null);
    }

    /** The select loop: timeouts (TIMEOUT-*), EINTR retries with the time left (EINTR-RETRY). */
    private int doSelect(long timeoutNanos, ReadyHandler handler, List<Ready> out) throws IOException {
        long timeout = timeoutNanos >= FOREVER_NANOS ? -1 : timeoutNanos;
        beginSelect();
        try {
            if (batch.hasNext()) {
                return deliver(handler, out); // left over from a handler that threw
            }
            long deadline = timeout > 0 ? System.nanoTime() + timeout : 0;
            long wait = timeout;
            for (;;) {
                int n = waitInKernel(wait, deadline);
                if (n >= 0) {
                    if (!batch.isEmpty() || wokenUp || timeout == 0) {
                        break;
                    }
                    // Nothing for the caller (parked or stale events, or a kernel that returned a little
                    // early): wait out the rest, the contract is "at least the timeout" (TIMEOUT-POSITIVE).
                } else if (n == INTERRUPTED && timeout == 0) {
                    break;
                } else if (n == RETRY) {
                    prepareRequested = true; // the sets were stale: apply the changes and copy them again
                }
                if (timeout > 0) {
                    wait = deadline - System.nanoTime();
                    if (wait <= 0) {
                        break;
                    }
                }
            }
            return deliver(handler, out);
        } finally {
            endSelect();
        }
    }

    /**
     * One wait, with the kernel lock held from preparing the native sets to collecting their results:
     * {@link #close()} frees native memory only under that lock, and never waits for a handler, which
     * runs after it is released.
     *
     * @param wait     the time left when the select loop asked: negative for no timeout, 0 for no wait
     * @param deadline when a positive wait ends ({@link System#nanoTime})
     * @return what {@link #implSelect} returned; the batch is gathered unless it was interrupted
     */
    private int waitInKernel(long wait, long deadline) throws IOException {
        kernelLock.lock();
        try {
            // Checked under the lock, after the previous batch drained the waker: a close() whose wake-up
            // signal was coalesced into one already pending (a register's) is seen here, not missed.
            if (closed) {
                throw closedException("select");
            }
            if (waker.isBroken()) {
                throw new IllegalStateException(waker.misuse());
            }
            prepare();
            if (wait > 0) {
                // The timeout counts from the call, not from here: locks and the changes just applied (a
                // thousand registrations take a while) come out of the wait (TIMEOUT-POSITIVE). 0 if they
                // took it all: the kernel is still asked what is ready, without waiting.
                wait = Math.max(0, deadline - System.nanoTime());
            }
            int n = kernelWait.run(this, wait); // implSelect, off the carrier in a virtual thread
            if (closed) {
                throw closedException("select");
            }
            if (n >= 0) {
                gather(n);
                if (waker.isBroken()) {
                    throw new IllegalStateException(waker.misuse());
                }
            }
            return n;
        } finally {
            if (closed) {
                releaseIfClosed(); // a close() that could not wake us (broken waker) left this to us
            }
            kernelLock.unlock();
        }
    }

    private void beginSelect() {
        if (selectLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("select called from inside a ReadyHandler of the same "
                    + backend + " selector: return from the handler first");
        }
        if (!selectLock.tryLock()) {
            if (closed) {
                throw closedException("select");
            }
            Thread t = selectingThread;
            throw new IllegalStateException("the " + backend + " selector is already selecting in thread "
                    + (t == null ? "(another thread)" : "'" + t.getName() + "'")
                    + ": one thread selects at a time (API-THREADS)");
        }
        if (closed) {
            batch.drop(); // left over from a handler that threw before the close
            selectLock.unlock();
            throw closedException("select");
        }
        selectingThread = Thread.currentThread();
    }

    private void endSelect() {
        selectingThread = null;
        selectLock.unlock();
    }

    private void prepare() {
        if (!prepareRequested) {
            return; // nothing changed since the last batch: no lock on the way into the kernel
        }
        stateLock.lock();
        try {
            prepareNow();
        } finally {
            stateLock.unlock();
        }
    }

    private void prepareNow() {
        implPrepare(changed); // if it throws, the request and the list stay for the next select
        prepareRequested = false;
        changed.clear(table.size());
    }

    private void gather(int count) throws IOException {
        stateLock.lock();
        try {
            batch.clear();
            wokenUp = false;
            if (count > 0) {
                try {
                    implCollect(count);
                } finally {
                    batch.gathered(table); // merging is within one wait only
                }
            }
            if (prepareRequested) {
                prepareNow(); // ready for the next wait while the lock is held anyway: one lock per batch
            }
        } finally {
            stateLock.unlock();
        }
    }

    private int deliver(ReadyHandler handler, List<Ready> out) throws IOException {
        if (closed) {
            throw closedException("select"); // closed by another thread after the wait returned
        }
        int delivered = 0;
        while (batch.hasNext() && !closed) {
            int i = batch.take();
            int fd = batch.fd(i);
            SelectorKey current = table.keyAcquire(fd); // the key first, then its id: RegistrationTable
            if (current == null || table.idAcquire(fd) != batch.id(i)) {
                continue; // unregistered after the kernel reported it (REPORT-AFTER-UNREGISTER)
            }
            int events = batch.events(i) & (current.interest() | FLAGS); // modified meanwhile: today's interest
            if ((events & INTERESTS) == 0) {
                continue;
            }
            delivered++;
            if (handler != null) {
                handler.ready(current, events);
            } else {
                out.add(new Ready(current, events));
            }
        }
        if (closed) {
            batch.drop();
        }
        return delivered;
    }

    // ------------------------------------------------------------------------------------------------
    // Wake-up and close
    // ------------------------------------------------------------------------------------------------

    @Override
    public final void wakeup() {
        signal(true);
    }

    @Override
    public final void close() {
        stateLock.lock();
        try {
            closed = true; // every close() goes on to wait for the release, not only the first (CLOSE-TWICE)
        } finally {
            stateLock.unlock();
        }
        waker.signal(false); // a select in progress sees 'closed' when it wakes (CLOSE-WAKES)
        // Wait for the selecting thread to leave the kernel, not for its handlers: a handler may itself be
        // closing another selector whose handler closes this one.
        if (!waker.isBroken()) {
            kernelLock.lock();
        } else if (!tryKernelLock()) {
            throw new IllegalStateException(waker.misuse() + ". A select blocked in thread '"
                    + threadName() + "' cannot be woken; the selector's memory is released when it returns");
        }
        try {
            releaseIfClosed();
        } finally {
            kernelLock.unlock();
        }
        if (waker.isBroken()) {
            throw new IllegalStateException(waker.misuse() + ". The selector is closed");
        }
    }

    private boolean tryKernelLock() {
        try {
            return kernelLock.tryLock(200, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private String threadName() {
        Thread t = selectingThread;
        return t == null ? "(none)" : t.getName();
    }

    /** Frees everything once closed. Kernel lock held, so the kernel is done with our memory. */
    private void releaseIfClosed() {
        if (!closed) {
            return;
        }
        stateLock.lock();
        try {
            if (released) {
                return;
            }
            released = true;
            table.clear(); // every key invalid now
            try {
                implClose();
            } finally {
                waker.close();
            }
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public final boolean isOpen() {
        return !closed;
    }

    private void ensureOpen(String what) {
        if (closed) {
            throw closedException(what);
        }
    }

    private SelectorClosedException closedException(String what) {
        return new SelectorClosedException("cannot " + what + ": the " + backend + " selector is closed");
    }

    @Override
    public final Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public final String backend() {
        return backend;
    }

    @Override
    public String toString() {
        return backend + " selector" + (closed ? " (closed)" : "");
    }

}
