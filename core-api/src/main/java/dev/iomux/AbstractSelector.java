package dev.iomux;

import static dev.iomux.Events.EDGE;
import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.EXCLUSIVE;
import static dev.iomux.Events.FLAGS;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.INTERESTS;
import static dev.iomux.Events.MODES;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.internal.Native.C;

import java.io.IOException;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import dev.iomux.internal.FdTable;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.spi.NativeBuffer;

/**
 * The shared base of every backend: what select, poll and epoll have in common, written once.
 *
 * <p>It holds the descriptor-to-key table, checks every argument, rolls a registration back when the
 * kernel refuses it, runs the timeout and EINTR-retry loop, owns the closed state and the coalesced
 * wake-up (a pipe, {@link Waker}), emulates {@link Events#ONESHOT} where the kernel does not do it, and delivers
 * ready keys. Its public methods are final. A backend fills in the hooks below and is a few hundred
 * lines; the contract of each hook is on the hook.
 *
 * <h2>Locks</h2>
 * The <em>state lock</em> guards the table, the keys' registration state and everything a backend keeps
 * per registration; every {@code impl*} hook but {@link #implSelect} runs with it held, so hooks need no
 * locking of their own. The <em>select lock</em> admits one selecting thread; {@link #implSelect} runs
 * without the state lock, so that other threads can register while a select blocks. The <em>kernel
 * lock</em> is held by the selecting thread from {@link #implPrepare} through {@link #implSelect} to
 * {@link #implCollect}, never while a {@link ReadyHandler} runs; {@link #close()} takes it before
 * {@link #implClose}, so native memory is freed only when no wait uses it, and close never waits for a
 * handler. Native memory a backend
 * hands to the kernel during {@link #implSelect} must only be changed in {@link #implPrepare}, which the
 * selecting thread calls before each wait: the kernel writes results back into it when the wait ends.
 *
 * <h2>Delivery</h2>
 * {@link #implCollect} turns the kernel's results into {@link #collect(SelectorKey, int)} calls under the
 * state lock; the base masks them with the key's interest (rule REPORT-MASKED), disarms one-shot keys,
 * and parks keys whose descriptor hung up or failed outside their interest (REPORT-NO-SPIN). The batch is
 * then delivered without the lock, skipping keys unregistered in the meantime (REPORT-AFTER-UNREGISTER).
 */
public abstract class AbstractSelector implements Selector {
    /** What {@link #implSelect} returns when a signal interrupted the wait (EINTR). */
    protected static final int INTERRUPTED = -1;

    /**
     * What {@link #implSelect} returns when its native sets changed under the call and it should be made
     * again, with the time left, after {@link #implPrepare} (call {@link #requestPrepare()} first). Unlike
     * {@link #INTERRUPTED}, a zero timeout is retried too.
     */
    protected static final int RETRY = -2;

    /** Timeouts this long or longer (about 146 years) are treated as no timeout. */
    private static final long FOREVER_NANOS = Long.MAX_VALUE / 2;

    private final String backend;
    private final Capabilities capabilities;
    private final ReentrantLock stateLock = new ReentrantLock();
    private final ReentrantLock selectLock = new ReentrantLock();
    private final ReentrantLock kernelLock = new ReentrantLock();
    private final FdTable<SelectorKey> table = new FdTable<>();
    private final KeysView keysView = new KeysView();
    private final KernelWait kernelWait = new KernelWait(); // select lock: a virtual thread's waits

    private final Waker waker;
    private volatile boolean prepareRequested = true;

    private volatile boolean closed;
    private boolean released;        // stateLock
    private volatile Thread selectingThread;
    private int nextId = 1;          // stateLock

    // The batch of one select: resolved under the state lock, delivered without it. Selecting thread only.
    private SelectorKey[] batchKeys = new SelectorKey[64];
    private int[] batchEvents = new int[64];
    private int batchSize;
    private int batchPos;
    private boolean wokenUp;

    /**
     * Creates the base: opens the wake-up pipe. A backend constructor that fails after this must call
     * {@link #close()}, and {@link #implClose()} must cope with a half-built backend.
     *
     * @param backend      the backend's name, used in messages
     * @param capabilities what the backend supports; {@link #register} enforces it
     * @throws IOException if the pipe cannot be created
     */
    protected AbstractSelector(String backend, Capabilities capabilities) throws IOException {
        this.backend = backend;
        this.capabilities = capabilities;
        this.waker = new Waker(backend + " selector");
    }

    // ------------------------------------------------------------------------------------------------
    // Hooks
    // ------------------------------------------------------------------------------------------------

    /**
     * Applies a new registration: epoll adds it to the kernel; select and poll check the descriptor is
     * open ({@link #requireOpen}) and record it for {@link #implPrepare} (and call
     * {@link #wakeupIfSelecting()}). State lock held. The key enters the table only if this returns, so a
     * refused (or made-up, huge) descriptor leaves no key and does not grow the table.
     *
     * @param key the new key, not yet in the table
     * @throws IOException if the kernel refuses
     */
    protected abstract void implRegister(SelectorKey key) throws IOException;

    /**
     * Applies a change of events, or re-arms a disarmed key ({@link #isArmed} of {@code newKey} is true).
     * State lock held. If this throws, the registration is removed ({@link #implUnregister} is called with
     * {@code newKey}) and the exception passed on.
     *
     * @param oldKey the key being replaced
     * @param newKey its replacement: same fd, same {@link #slot}, already in the table
     * @throws IOException if the kernel refuses
     */
    protected abstract void implModify(SelectorKey oldKey, SelectorKey newKey) throws IOException;

    /**
     * Removes a registration. State lock held. Must cope with a descriptor that was closed, or closed and
     * its number reused, since it was registered.
     *
     * @param key the key, already out of the table
     */
    protected abstract void implUnregister(SelectorKey key);

    /**
     * Stops reporting a key until {@link #implModify} re-arms it: a {@link Events#ONESHOT} key the kernel
     * reported (epoll disarms an EPOLLONESHOT registration by itself), or a key parked because its
     * descriptor hung up or failed outside its interest. State lock held.
     *
     * @param key the key; {@link #isArmed} is already false
     */
    protected abstract void implDisarm(SelectorKey key);

    /**
     * Brings the native sets up to date for the next wait: select and poll apply the changes they
     * recorded. Runs only after {@link #requestPrepare()}: at the end of collecting a batch, or before a
     * wait if a change came in since. Selecting thread, state lock held. Epoll has nothing to do.
     */
    protected void implPrepare() {
    }

    /**
     * Waits for readiness. Selecting thread, or a platform thread standing in for a selecting virtual
     * thread (so keep nothing in thread-locals); the state lock is <em>not</em> held.
     *
     * @param timeoutNanos negative: no timeout; zero: do not wait; positive: wait at most this long,
     *                     rounded up to the call's unit ({@link #toMillisCeil})
     * @return the count of native results to hand to {@link #implCollect}, {@link #INTERRUPTED} or
     *         {@link #RETRY}
     * @throws IOException if the call fails with anything but EINTR
     */
    protected abstract int implSelect(long timeoutNanos) throws IOException;

    /**
     * Turns the results of the last {@link #implSelect} into {@link #collect} calls (current keys only:
     * look them up with {@link #keyOf}) and calls {@link #wakeupFdReady()} if the wake-up fd was
     * reported. Selecting thread, state lock held.
     *
     * @param count what {@link #implSelect} returned, not negative
     */
    protected abstract void implCollect(int count);

    /**
     * Releases the backend's descriptors and native memory. Called once, with the state lock held and no
     * select in progress; also after a failed constructor, so fields may still be null.
     */
    protected abstract void implClose();

    // ------------------------------------------------------------------------------------------------
    // For backends
    // ------------------------------------------------------------------------------------------------

    /** @return the read end of the wake-up pipe, which the backend watches for reading */
    protected final int wakeupFd() {
        return waker.fd();
    }

    /**
     * Tells the base the wake-up fd was reported readable: drains it. The select returns to its caller
     * only if {@link #wakeup()} was called; a signal that only asked the selecting thread to apply a change
     * ({@link #wakeupIfSelecting()}) lets the wait go on. State lock held.
     */
    protected final void wakeupFdReady() {
        if (waker.drain()) {
            wokenUp = true;
        }
    }

    /**
     * Asks for {@link #implPrepare} before the next wait. Called by a backend whenever it records a change
     * to its native sets (state lock held), or, like select, when the kernel consumed them.
     */
    protected final void requestPrepare() {
        prepareRequested = true;
    }

    /**
     * Returns the current key of a descriptor. State lock held.
     *
     * @param fd a descriptor
     * @return its key, or null
     */
    protected final SelectorKey keyOf(int fd) {
        return table.get(fd);
    }

    /**
     * Checks that a descriptor is open, for backends whose kernel interface only learns about a
     * descriptor at the next wait (select, poll): register refuses a closed fd with EBADF on every
     * backend (rule API-REGISTER), as epoll_ctl does by itself.
     *
     * @param fd the descriptor
     * @throws NativeIOException EBADF if it is not open
     */
    protected static void requireOpen(int fd) throws NativeIOException {
        if (C.fcntl(fd, Linux.F_GETFD, 0) < 0) {
            throw new NativeIOException("fcntl(fd=" + fd + ", F_GETFD)", Native.errno(),
                    "register needs an open descriptor");
        }
    }

    /**
     * Returns every current key. State lock held. Allocates: for rare paths (rebuilding a kernel object).
     *
     * @return the keys, in descriptor order
     */
    protected final SelectorKey[] registeredKeys() {
        return table.values(new SelectorKey[table.size()]);
    }

    /**
     * Reports a key as ready. State lock held, from {@link #implCollect}; at most once per key per batch.
     *
     * @param key   the current key
     * @param ready what the kernel reported, in {@link Events} bits: directions and flags, unmasked
     */
    protected final void collect(SelectorKey key, int ready) {
        int directions = ready & key.events() & INTERESTS;
        boolean oneShot = (key.events() & ONESHOT) != 0;
        if (directions == 0) {
            // Nothing the key asked for. A hang-up or error stays reported by the kernel whatever the
            // interest (poll(2): POLLHUP/POLLERR are always returned), so park the key or the next wait
            // returns at once, forever (REPORT-NO-SPIN; JDK 6403933 CloseWhenKeyIdle). Anything else is a
            // report for an interest the key no longer has (modified meanwhile): it must not use up a
            // one-shot arming it was not for.
            if ((ready & (ERROR | HANGUP)) != 0) {
                disarm(key);
            }
            return;
        }
        if (oneShot) {
            disarm(key);
        }
        if (batchSize == batchKeys.length) {
            batchKeys = Arrays.copyOf(batchKeys, batchSize * 2);
            batchEvents = Arrays.copyOf(batchEvents, batchSize * 2);
        }
        batchKeys[batchSize] = key;
        batchEvents[batchSize] = directions | (ready & FLAGS);
        batchSize++;
    }

    private void disarm(SelectorKey key) {
        if (key.registration.armed) {
            key.registration.armed = false;
            implDisarm(key);
        }
    }

    /**
     * Wakes the selecting thread if it is not the caller: select and poll call this after recording a
     * change, so that a blocked wait picks it up (API-THREADS).
     */
    protected final void wakeupIfSelecting() {
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

    /**
     * Returns the backend's slot of a registration (poll: the index in its pollfd array). State lock held.
     *
     * @param key a key
     * @return the slot, -1 until set
     */
    protected static int slot(SelectorKey key) {
        return key.registration.slot;
    }

    /**
     * Sets the backend's slot of a key. State lock held.
     *
     * @param key  a key
     * @param slot the slot
     */
    protected static void setSlot(SelectorKey key, int slot) {
        key.registration.slot = slot;
    }

    /**
     * Returns the id of a key's registration: unique in its selector, kept across modify, never 0.
     *
     * @param key a key
     * @return the id
     */
    protected static int registrationId(SelectorKey key) {
        return key.registration.id;
    }

    /**
     * Returns whether a key is armed: not a fired one-shot key nor a parked one. State lock held.
     *
     * @param key a key
     * @return true if the kernel should watch it
     */
    protected static boolean isArmed(SelectorKey key) {
        return key.registration.armed;
    }

    /**
     * Returns the current key of a key's registration, following modify's replacements.
     *
     * @param key a key
     * @return the current key
     */
    protected static SelectorKey current(SelectorKey key) {
        return key.registration.current;
    }

    /**
     * Returns whether a key's registration still exists.
     *
     * @param key a key
     * @return false once unregistered or closed
     */
    protected static boolean isRegistered(SelectorKey key) {
        return key.registration.registered;
    }

    /**
     * Checks the result of a wait for {@link #implSelect}: a count passes through, EINTR becomes
     * {@link #INTERRUPTED} (select, poll and epoll_wait are never restarted, signal(7)), anything else is
     * thrown as {@code call(argName=arg)}. The message is built only on failure: waits allocate nothing.
     *
     * @param rc      what the wait returned
     * @param call    the call's name, e.g. "epoll_wait"
     * @param argName the argument to name in the message
     * @param arg     its value
     * @return {@code rc}, or {@link #INTERRUPTED}
     * @throws NativeIOException for any errno but EINTR
     */
    protected static int waitResult(int rc, String call, String argName, int arg) throws NativeIOException {
        if (rc >= 0) {
            return rc;
        }
        int errno = Native.errno();
        if (errno == Linux.EINTR) {
            return INTERRUPTED;
        }
        throw new NativeIOException(call + "(" + argName + "=" + arg + ")", errno, null);
    }

    /**
     * Converts a timeout for a call that takes milliseconds: rounded up, so that a sub-millisecond
     * timeout waits rather than busy-polls (CPython's math.ceil, mio's +999_999 ns).
     *
     * @param timeoutNanos negative, zero or positive as in {@link #implSelect}
     * @return -1, 0 or a positive count of milliseconds, at most {@link Integer#MAX_VALUE}
     */
    protected static int toMillisCeil(long timeoutNanos) {
        if (timeoutNanos < 0) {
            return -1;
        }
        long ms = timeoutNanos / 1_000_000 + (timeoutNanos % 1_000_000 == 0 ? 0 : 1);
        return (int) Math.min(ms, Integer.MAX_VALUE);
    }

    /**
     * Returns whether a descriptor is one of the backend's own (epoll: its epoll instance), which register
     * refuses, as it refuses the base's wake-up pipe: watching them would break the selector.
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
    // Registrations
    // ------------------------------------------------------------------------------------------------

    @Override
    public final SelectorKey register(int fd, int events, Object attachment) throws IOException {
        checkFd(fd);
        checkEvents(fd, events);
        stateLock.lock();
        try {
            ensureOpen("register fd " + fd);
            SelectorKey existing = table.get(fd);
            if (existing != null) {
                // The message never runs user code: no attachment toString().
                throw new IllegalStateException("fd " + fd + " is already registered with this " + backend
                        + " selector (events " + Events.toString(existing.events()) + "): use modify() to change it");
            }
            Registration registration = new Registration(newId());
            SelectorKey key = new SelectorKey(this, registration, fd, events, attachment);
            registration.current = key;
            try {
                implRegister(key);
            } catch (IOException | RuntimeException | Error e) {
                registration.registered = false; // never in the table: nothing to repair (CPython's rollback)
                throw e;
            }
            table.put(fd, key);
            return key;
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public final SelectorKey modify(int fd, int events) throws IOException {
        checkNotNegative(fd);
        stateLock.lock();
        try {
            ensureOpen("modify fd " + fd);
            return modify(fd, events, registered(fd, "modify").attachment());
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public final SelectorKey modify(int fd, int events, Object attachment) throws IOException {
        checkNotNegative(fd);
        checkEvents(fd, events);
        stateLock.lock();
        try {
            ensureOpen("modify fd " + fd);
            SelectorKey old = registered(fd, "modify");
            if ((old.events() & EXCLUSIVE) != 0) {
                throw new IllegalStateException("fd " + fd + " is registered EXCLUSIVE, which epoll_ctl(2) "
                        + "cannot modify (EINVAL): unregister it and register again");
            }
            if ((events & EXCLUSIVE) != 0) {
                throw new IllegalArgumentException("EXCLUSIVE can only be set when registering fd " + fd
                        + " (epoll_ctl(2) refuses it in EPOLL_CTL_MOD): unregister it and register again");
            }
            boolean rearm = (events & ONESHOT) != 0;
            if (events == old.events() && !rearm) {
                // Attachment only: no system call (CPython test_modify; rule API-MODIFY).
                return attachment == old.attachment() ? old : replace(old, events, attachment);
            }
            SelectorKey key = replace(old, events, attachment);
            key.registration.armed = true;
            try {
                implModify(old, key);
            } catch (IOException | RuntimeException | Error e) {
                // bpo-30014: a refused modify leaves the descriptor unregistered, not half-changed.
                table.remove(fd);
                key.registration.registered = false;
                try {
                    implUnregister(key);
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
        checkNotNegative(fd);
        stateLock.lock();
        try {
            ensureOpen("unregister fd " + fd);
            SelectorKey key = registered(fd, "unregister");
            table.remove(fd);
            key.registration.registered = false;
            implUnregister(key);
            return key;
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public final SelectorKey key(int fd) {
        stateLock.lock();
        try {
            ensureOpen("look up fd " + fd);
            return fd < 0 ? null : table.get(fd);
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public final Map<Integer, SelectorKey> keys() {
        ensureOpen("list keys");
        return keysView;
    }

    private SelectorKey replace(SelectorKey old, int events, Object attachment) {
        SelectorKey key = new SelectorKey(this, old.registration, old.fd(), events, attachment);
        old.registration.current = key;
        table.put(old.fd(), key);
        return key;
    }

    private SelectorKey registered(int fd, String op) {
        SelectorKey key = fd < 0 ? null : table.get(fd);
        if (key == null) {
            throw new IllegalStateException("cannot " + op + " fd " + fd + ": it is not registered with this "
                    + backend + " selector");
        }
        return key;
    }

    private int newId() {
        int id = nextId++;
        if (nextId == 0) {
            nextId = 1; // 0 marks the wake-up fd
        }
        return id;
    }

    private static void checkNotNegative(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("fd must not be negative, got " + fd);
        }
    }

    private void checkFd(int fd) {
        checkNotNegative(fd);
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

    private void checkEvents(int fd, int events) {
        int unknown = events & ~(INTERESTS | MODES);
        if ((unknown & FLAGS) != 0) {
            throw new IllegalArgumentException("event mask " + Events.toString(events) + " for fd " + fd
                    + " has " + Events.toString(unknown & FLAGS) + ", which a select reports but a key cannot "
                    + "register: register READ or WRITE and errors and hang-ups are reported with them");
        }
        if (unknown != 0) {
            throw new IllegalArgumentException("event mask 0x" + Integer.toHexString(events) + " for fd " + fd
                    + " has unknown bits 0x" + Integer.toHexString(unknown) + ": use the constants of Events");
        }
        if ((events & INTERESTS) == 0) {
            throw new IllegalArgumentException("event mask " + Events.toString(events) + " for fd " + fd
                    + " has no interest: register READ, WRITE or PRIORITY");
        }
        requireCapability(events, PRIORITY, Capability.PRIORITY, fd);
        requireCapability(events, EDGE, Capability.EDGE, fd);
        requireCapability(events, ONESHOT, Capability.ONESHOT, fd);
        requireCapability(events, EXCLUSIVE, Capability.EXCLUSIVE, fd);
        if ((events & EXCLUSIVE) != 0 && (events & (ONESHOT | PRIORITY)) != 0) {
            throw new IllegalArgumentException("event mask " + Events.toString(events) + " for fd " + fd
                    + ": EXCLUSIVE cannot be combined with ONESHOT or PRIORITY (epoll_ctl(2): EINVAL)");
        }
    }

    private void requireCapability(int events, int bit, Capability c, int fd) {
        if ((events & bit) != 0 && !capabilities.supports(c)) {
            throw new UnsupportedOperationException("the " + backend + " backend does not support "
                    + c.description() + ", asked for fd " + fd + "; it supports " + capabilities.supported()
                    + (c == Capability.EDGE || c == Capability.EXCLUSIVE ? ": use backend-epoll" : ""));
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
        doSelect(toNanos(timeout), null, out);
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
        return doSelect(-1, requireHandler(handler), null);
    }

    @Override
    public final int select(long timeout, TimeUnit unit, ReadyHandler handler) throws IOException {
        if (unit == null) {
            throw new NullPointerException("unit must not be null");
        }
        return doSelect(timeout <= 0 ? 0 : unit.toNanos(timeout), requireHandler(handler), null);
    }

    @Override
    public final int selectNow(ReadyHandler handler) throws IOException {
        return doSelect(0, requireHandler(handler), null);
    }

    private static ReadyHandler requireHandler(ReadyHandler handler) {
        if (handler == null) {
            throw new NullPointerException("handler must not be null: use select() for a list of ready keys");
        }
        return handler;
    }

    private static long toNanos(Duration timeout) {
        if (timeout == null) {
            throw new NullPointerException("timeout must not be null: use select() to wait without one");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            return 0;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /** The select loop: timeouts (TIMEOUT-*), EINTR retries with the time left (EINTR-RETRY). */
    private int doSelect(long timeoutNanos, ReadyHandler handler, List<Ready> out) throws IOException {
        long timeout = timeoutNanos >= FOREVER_NANOS ? -1 : timeoutNanos;
        beginSelect();
        try {
            if (batchPos < batchSize) {
                return deliver(handler, out); // left over from a handler that threw
            }
            long deadline = timeout > 0 ? System.nanoTime() + timeout : 0;
            long wait = timeout;
            for (;;) {
                int n = waitInKernel(wait);
                if (n >= 0) {
                    if (batchSize > 0 || wokenUp || timeout == 0) {
                        break;
                    }
                    // Nothing for the caller (parked or stale events, or a kernel that returned a little
                    // early): wait out the rest, the contract is "at least the timeout" (TIMEOUT-POSITIVE).
                } else if (n == INTERRUPTED && timeout == 0) {
                    break;
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
     * @return what {@link #implSelect} returned; the batch is gathered unless it was interrupted
     */
    private int waitInKernel(long wait) throws IOException {
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
            Arrays.fill(batchKeys, null); // left over from a handler that threw before the close
            batchSize = 0;
            batchPos = 0;
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
            prepareRequested = false;
            implPrepare();
        } finally {
            stateLock.unlock();
        }
    }

    private void gather(int count) {
        stateLock.lock();
        try {
            batchSize = 0;
            batchPos = 0;
            wokenUp = false;
            if (count > 0) {
                implCollect(count);
            }
            if (prepareRequested) {
                // Ready for the next wait while the lock is held anyway: one lock per batch.
                prepareRequested = false;
                implPrepare();
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
        while (batchPos < batchSize && !closed) {
            int i = batchPos++;
            SelectorKey key = batchKeys[i];
            batchKeys[i] = null;
            int events = batchEvents[i];
            Registration registration = key.registration;
            if (!registration.registered) {
                continue; // unregistered after the kernel reported it (REPORT-AFTER-UNREGISTER)
            }
            SelectorKey current = registration.current;
            if (current != key) {
                events &= current.interest() | FLAGS; // modified meanwhile: mask with today's interest
                if ((events & INTERESTS) == 0) {
                    continue;
                }
            }
            delivered++;
            if (handler != null) {
                handler.ready(current, events);
            } else {
                out.add(new Ready(current, events));
            }
        }
        if (closed) {
            Arrays.fill(batchKeys, batchPos, batchSize, null);
            batchPos = batchSize;
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
            for (SelectorKey key : table.values(new SelectorKey[0])) {
                key.registration.registered = false;
            }
            table.clear();
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

    /** keys(): a live, read-only view; iteration works on a snapshot. */
    private final class KeysView extends AbstractMap<Integer, SelectorKey> {
        @Override
        public SelectorKey get(Object fd) {
            return fd instanceof Integer ? key((Integer) fd) : null;
        }

        @Override
        public boolean containsKey(Object fd) {
            return get(fd) != null;
        }

        @Override
        public int size() {
            stateLock.lock();
            try {
                ensureOpen("list keys");
                return table.size();
            } finally {
                stateLock.unlock();
            }
        }

        @Override
        public Set<Entry<Integer, SelectorKey>> entrySet() {
            return new AbstractSet<>() {
                @Override
                public Iterator<Entry<Integer, SelectorKey>> iterator() {
                    SelectorKey[] snapshot;
                    stateLock.lock();
                    try {
                        ensureOpen("list keys");
                        snapshot = table.values(new SelectorKey[table.size()]);
                    } finally {
                        stateLock.unlock();
                    }
                    List<Entry<Integer, SelectorKey>> entries = new ArrayList<>(snapshot.length);
                    for (SelectorKey k : snapshot) {
                        if (k != null) {
                            entries.add(Map.entry(k.fd(), k));
                        }
                    }
                    return List.copyOf(entries).iterator();
                }

                @Override
                public int size() {
                    return KeysView.this.size();
                }
            };
        }
    }
}
