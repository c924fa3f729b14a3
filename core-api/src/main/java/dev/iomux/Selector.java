package dev.iomux;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Waits for readiness on raw file descriptors: select(2), poll(2) or epoll(7) behind one API modelled
 * on Python's {@code selectors}. Open one with {@link Selectors#open()}.
 *
 * <h2>Registrations</h2>
 * A descriptor is registered once, with an event mask of interests ({@link Events#READ},
 * {@link Events#WRITE}, {@link Events#PRIORITY}), optional modes ({@link Events#EDGE},
 * {@link Events#ONESHOT}, {@link Events#EXCLUSIVE}) and an attachment. The selector never reads, writes
 * or closes registered descriptors; unregister a descriptor before closing it.
 *
 * <h2>Readiness</h2>
 * Level-triggered unless the key asks for {@link Events#EDGE}: a key is reported on every select while
 * its condition holds. A select reports each ready key once, with the union of its ready directions
 * masked by the key's interest and the error and hang-up flags the backend can tell apart. Spurious
 * readiness is possible (select(2) BUGS): operate on non-blocking descriptors and expect EAGAIN.
 *
 * <h2>Timeouts</h2>
 * No timeout blocks until a key is ready or {@link #wakeup()}; a zero or negative timeout returns at once
 * with what is ready now; a positive timeout waits at least that long when nothing is ready, to the
 * nanosecond: {@link #select(Duration)} and {@link #select(long, TimeUnit, ReadyHandler)} take
 * sub-millisecond timeouts ({@code Duration.ofNanos(50_000)}, {@code select(50, MICROSECONDS, handler)}),
 * which reach the kernel whole (pselect, ppoll, epoll_pwait2), never rounded down to zero; only epoll on
 * a kernel before 5.11 or a libc before glibc 2.35 (no epoll_pwait2) rounds them up to a millisecond. A
 * signal that interrupts the wait (EINTR) is retried with the time that is left to the deadline.
 *
 * <h2>Threads</h2>
 * One thread at a time selects; a second concurrent select fails with {@link IllegalStateException}.
 * {@link #register}, {@link #modify}, {@link #unregister}, {@link #wakeup()} and {@link #close()} may be
 * called from any thread, also while another thread is blocked in select; their effect is visible to the
 * kernel no later than the next select (epoll applies it at once; select and poll wake the blocked
 * selector, which applies it and goes on waiting). A key unregistered by the selecting thread (in a
 * {@link ReadyHandler}) is not delivered afterwards, even from the current batch; an unregister from
 * another thread can race with a delivery of that key already under way.
 * {@link Thread#interrupt()} does not end a select on any thread (use {@link #wakeup()}); the interrupt
 * status is kept.
 *
 * <p>A select may run in a virtual thread (JDK 21 and later) without holding its carrier while it waits,
 * so other virtual threads run meanwhile, even on a single carrier, and can wake or close it: what is
 * ready at once is fetched inline, as on a platform thread; a wait that blocks runs on a platform thread
 * of a shared pool of daemon threads ({@code iomux-kernel-wait-N}, ended after 30 s idle) while the
 * virtual thread parks until that wait is over. Platform threads wait inline, as always.
 *
 * <h2>Errors</h2>
 * Bad arguments throw {@link IllegalArgumentException}; a registration in the wrong state (a duplicate,
 * an unknown descriptor) throws {@link IllegalStateException}; a mode the backend does not support throws
 * {@link UnsupportedOperationException}; use after close throws {@link SelectorClosedException}; a kernel
 * refusal throws {@link NativeIOException} naming the call, the descriptor and the errno, and leaves no
 * key behind.
 */
public interface Selector extends AutoCloseable {

    /**
     * Registers a descriptor.
     *
     * @param fd         the descriptor, open and not negative
     * @param events     interests ({@link Events#INTERESTS}, at least one) and modes ({@link Events#MODES})
     * @param attachment anything the caller wants back with the key; may be null
     * @return the new key
     * @throws IllegalArgumentException      if the mask is empty or has unknown or report-only bits, the
     *                                       modes contradict each other, the fd is negative, or above
     *                                       {@link Capabilities#maxFd()}
     * @throws UnsupportedOperationException if a mode or interest is not among {@link #capabilities()}
     * @throws IllegalStateException         if the fd is already registered with this selector
     * @throws SelectorClosedException       if the selector is closed
     * @throws NativeIOException             if the kernel refuses (EBADF for a closed fd on every
     *                                       backend, EPERM for a regular file on epoll); no key is left
     */
    SelectorKey register(int fd, int events, Object attachment) throws IOException;

    /**
     * Registers a descriptor without an attachment. See {@link #register(int, int, Object)}.
     *
     * @param fd     the descriptor
     * @param events interests and modes
     * @return the new key
     * @throws IOException if the kernel refuses
     */
    default SelectorKey register(int fd, int events) throws IOException {
        return register(fd, events, null);
    }

    /**
     * Changes the events and the attachment of a registered descriptor.
     *
     * <p>A change of attachment alone makes no system call. On a {@link Events#ONESHOT} key every modify
     * re-arms the key (EPOLL_CTL_MOD), also when the mask is unchanged. {@link Events#EXCLUSIVE} keys
     * cannot be modified (epoll_ctl(2)); unregister and register again. If the kernel refuses the change,
     * the registration is removed and the error thrown (CPython bpo-30014).
     *
     * @param fd         a registered descriptor
     * @param events     the new interests and modes; the same rules as for register
     * @param attachment the new attachment; may be null
     * @return the new key; the old key object keeps its old values
     * @throws IllegalStateException if the fd is not registered, or the key is EXCLUSIVE
     * @throws IOException           if the kernel refuses the change
     */
    SelectorKey modify(int fd, int events, Object attachment) throws IOException;

    /**
     * Changes the events of a registered descriptor, keeping its attachment. See
     * {@link #modify(int, int, Object)}.
     *
     * @param fd     a registered descriptor
     * @param events the new interests and modes
     * @return the new key
     * @throws IOException if the kernel refuses the change
     */
    SelectorKey modify(int fd, int events) throws IOException;

    /**
     * Unregisters a descriptor. Works also after the descriptor was closed, or closed and its number
     * reused (dup2); call it before closing a descriptor, though: epoll keeps watching a closed
     * descriptor's file while a duplicate of it is open (epoll(7) Q6, rule CLOSE-DUP).
     *
     * @param fd a registered descriptor
     * @return the key that was registered
     * @throws IllegalStateException   if the fd is not registered
     * @throws SelectorClosedException if the selector is closed
     */
    SelectorKey unregister(int fd);

    /**
     * Waits with no timeout until a key is ready or {@link #wakeup()} is called.
     *
     * @return the ready keys, each once; empty after a wakeup
     * @throws IOException             if the wait fails
     * @throws SelectorClosedException if the selector is or gets closed
     */
    List<Ready> select() throws IOException;

    /**
     * Waits until a key is ready, {@link #wakeup()} is called, or the timeout passes.
     *
     * @param timeout how long to wait at least; zero or negative returns at once
     * @return the ready keys, each once; empty on timeout or wakeup
     * @throws IOException             if the wait fails
     * @throws SelectorClosedException if the selector is or gets closed
     */
    List<Ready> select(Duration timeout) throws IOException;

    /**
     * Returns what is ready now, without waiting. Consumes a pending {@link #wakeup()}.
     *
     * @return the ready keys, each once
     * @throws IOException if the call fails
     */
    List<Ready> selectNow() throws IOException;

    /**
     * Waits with no timeout and hands each ready key to a handler: the allocation-free select.
     *
     * @param handler receives each ready key once
     * @return the number of keys delivered
     * @throws IOException if the wait fails, or the handler throws
     */
    int select(ReadyHandler handler) throws IOException;

    /**
     * Waits at most a timeout and hands each ready key to a handler: the allocation-free select.
     *
     * @param timeout how long to wait at least; zero or negative returns at once
     * @param unit    the unit of {@code timeout}
     * @param handler receives each ready key once
     * @return the number of keys delivered
     * @throws IOException if the wait fails, or the handler throws
     */
    int select(long timeout, TimeUnit unit, ReadyHandler handler) throws IOException;

    /**
     * Hands what is ready now to a handler, without waiting. Consumes a pending {@link #wakeup()}.
     *
     * @param handler receives each ready key once
     * @return the number of keys delivered
     * @throws IOException if the call fails, or the handler throws
     */
    int selectNow(ReadyHandler handler) throws IOException;

    /**
     * Returns the current key of a descriptor.
     *
     * @param fd a descriptor
     * @return its key, or null if it is not registered
     * @throws SelectorClosedException if the selector is closed
     */
    SelectorKey key(int fd);

    /**
     * Returns a read-only live view of the registrations, descriptor to key. It reflects register,
     * modify and unregister at once; iteration works on a snapshot taken when it starts.
     *
     * @return the view
     * @throws SelectorClosedException if the selector is closed (and the view fails once it is)
     */
    Map<Integer, SelectorKey> keys();

    /**
     * Makes a blocked select return at once, or, if none is in progress, the next one. Calls coalesce:
     * many wakeups before a select returns cost one write to the wake-up descriptor.
     *
     * @throws IllegalStateException if the selector's own wake-up descriptors were closed behind its back
     *                               (a stale double close in the program): nothing is written to a
     *                               descriptor the selector no longer owns
     */
    void wakeup();

    /**
     * Closes the selector: a select blocked in another thread returns and fails as closed, keys become
     * invalid, and every descriptor and all native memory of the selector are released before close
     * returns. Registered descriptors are not closed.
     *
     * <p>close waits for a selecting thread to leave the kernel (it wakes it to do so), never for a
     * {@link ReadyHandler} to return: called from a handler, of this selector or of another one, it releases
     * at once, and the select that runs the handler delivers nothing more and returns; called while another
     * thread's handler runs, it does not wait for that handler. So event loops whose handlers close each
     * other's selectors do not deadlock. Every call returns only after the release, also a second one
     * racing the first; closing again later is harmless.
     *
     * @throws IllegalStateException if the selector's own wake-up descriptors were closed behind its back
     *                               (a stale double close in the program); everything still its own is
     *                               released, and a select it could not wake releases the rest when it
     *                               returns
     */
    @Override
    void close();

    /** @return whether {@link #close()} has not been called */
    boolean isOpen();

    /** @return what this backend declares it can do */
    Capabilities capabilities();

    /** @return the backend's name: "select", "poll", "epoll" or a port's own */
    String backend();
}
