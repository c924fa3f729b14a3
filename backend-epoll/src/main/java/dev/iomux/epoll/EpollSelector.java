package dev.iomux.epoll;

import java.io.IOException;
import java.util.Arrays;
import java.util.EnumSet;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.spi.AbstractSelector;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.PollBits;
import dev.iomux.spi.Registration;
import dev.iomux.spi.Waker;

/**
 * Epoll-based selector: one epoll instance, registrations applied to the kernel at once with
 * epoll_ctl, and an event array in native memory that epoll_wait fills. A positive timeout is passed to
 * epoll_pwait2 to the nanosecond; where the kernel (before 5.11) or libc (before glibc 2.35) has none
 * ({@code Kernel.hasEpollPwait2()}), to epoll_wait rounded up to a millisecond.
 *
 * <p>Each registration carries {@code (id << 32) | fd} in {@code epoll_event.data}, so an event that was
 * already fetched for a key unregistered (or unregistered and registered again) since is recognised as
 * stale and dropped (REPORT-AFTER-UNREGISTER, libuv's uv__platform_invalidate_fd).
 *
 * <p>Stale events have two sources. Most are leftovers: another thread removed the registration after
 * epoll_wait had fetched its event, an ordinary race that ends with that one wait. The other is an orphan:
 * a descriptor closed without unregister while a dup keeps its file open (epoll(7) Q6, rule CLOSE-DUP), so
 * the kernel keeps the registration, and EPOLL_CTL_DEL, which goes by number, can no longer reach it; it
 * fires for good. Only orphans are a reason to rebuild the epoll instance, so a stale event counts toward
 * one only when it cannot be a leftover: no registration was removed while its wait ran, or its
 * registration's DEL failed before that wait began.
 */
final class EpollSelector extends AbstractSelector {
    static final Capabilities CAPABILITIES =
            Capabilities.of(EnumSet.allOf(Capability.class), Capabilities.UNLIMITED);

    /** The {@link Registration#slot()} of one the kernel watches; a parked one is taken out (-1). */
    private static final int IN_KERNEL = 1;
    private static final int DETACHED = -1;
    /** Waits in a row that reported an orphaned registration before the epoll instance is rebuilt. */
    private static final int ORPHAN_WAITS_BEFORE_REBUILD = 3;
    /**
     * Failed DELs remembered, the most recent ones. An orphan forgotten here is still recognised by any
     * wait that no removal raced; the memory is for orphans that fire while other threads keep removing.
     */
    private static final int FAILED_DELS_REMEMBERED = 32;

    private final EpollEventArray.Layout layout = EpollEventArray.Layout.running();
    private final int wakeupFd;
    // volatile: register's own-descriptor check reads it without the lock; package-private: the backend's
    // own tests read it to tell a rebuild and to find the instance's /proc/self/fdinfo
    volatile int epfd = -1;
    private EpollEventArray ready;
    private EpollEventArray ctlEvent;
    private NativeBuffer timespec; // epoll_pwait2(2)'s timeout, nanoseconds
    private int orphanWaits;

    // Registrations removed (EPOLL_CTL_DEL tried), counted once the call has returned. Written under the
    // state lock by any thread, read by implSelect without it.
    private volatile long removals;
    private long removalsAtWait; // selecting thread: removals as the current wait began
    // The registrations whose DEL failed (EBADF, ENOENT), each with removals just after the failure; a
    // ring, 0 is an empty slot (ids are never 0). Cleared by a rebuild, which leaves no orphan behind.
    private final int[] failedDelIds = new int[FAILED_DELS_REMEMBERED];
    private final long[] failedDelAt = new long[FAILED_DELS_REMEMBERED];
    private int failedDelNext;

    EpollSelector(int maxEvents) throws IOException {
        this(maxEvents, Waker.pipe("epoll selector"));
    }

    private EpollSelector(int maxEvents, Waker waker) throws IOException {
        super("epoll", CAPABILITIES, waker, Updates.KERNEL_AT_ONCE);
        wakeupFd = waker.fd();
        try {
            ready = new EpollEventArray(maxEvents, layout);
            ctlEvent = new EpollEventArray(1, layout);
            timespec = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
            epfd = Kernel.epollCreate();
            ctl(epfd, Kernel.EPOLL_CTL_ADD, wakeupFd, PollBits.POLLIN, 0);
        } catch (IOException | RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    protected boolean isOwnDescriptor(int fd) {
        return fd == epfd;
    }

    @Override
    protected void implUpdate(Registration r) throws IOException {
        if (!r.isArmed()) {
            if ((r.events() & Events.ONESHOT) == 0) {
                // Parked on a hang-up or error outside its interest: epoll reports EPOLLHUP and EPOLLERR
                // whatever the mask (epoll_ctl(2)), so the only way to stop a level-triggered repeat is
                // to take it out of the kernel.
                detach(r);
            }
            return; // EPOLLONESHOT: the kernel disarmed the registration when it reported it
        }
        // New, or parked and now re-armed: out of the kernel, so ADD.
        int op = r.slot() == IN_KERNEL ? Kernel.EPOLL_CTL_MOD : Kernel.EPOLL_CTL_ADD;
        ctl(epfd, op, r.fd(), kernelEvents(r.events()), token(r));
        r.setSlot(IN_KERNEL);
    }

    @Override
    protected void implUnregister(Registration r) {
        detach(r);
    }

    private void detach(Registration r) {
        if (r.slot() != IN_KERNEL) {
            return;
        }
        r.setSlot(DETACHED);
        boolean removed = Kernel.epollDel(epfd, r.fd());
        // Counted after the call: a wait that began after this count began after the DEL (implCollect).
        long count = removals + 1;
        removals = count;
        if (!removed) {
            // The number no longer names the file: either the file is gone, and the kernel dropped the
            // registration with it, or a dup keeps it open and the registration fires on, out of our reach
            // (epoll(7) Q6).
            failedDelIds[failedDelNext] = r.id();
            failedDelAt[failedDelNext] = count;
            failedDelNext = (failedDelNext + 1) % FAILED_DELS_REMEMBERED;
        }
    }

    @Override
    protected int implSelect(long timeoutNanos) throws IOException {
        removalsAtWait = removals;
        // epoll_pwait2(2) for a positive timeout, to the nanosecond (TIMEOUT-POSITIVE); epoll_wait(2) rounded
        // up to milliseconds where the kernel or libc has none (Kernel.hasEpollPwait2).
        return Kernel.epollWait(epfd, ready.address(0), ready.capacity(), timeoutNanos, timespec);
    }

    @Override
    protected void implCollect(int count) throws IOException {
        // Did another thread remove a registration while this wait ran? Then its events may be leftovers.
        boolean raced = removals != removalsAtWait;
        boolean orphan = false;
        for (int i = 0; i < count; i++) {
            long data = ready.data(i);
            int id = (int) (data >>> 32);
            int fd = (int) data;
            if (id == 0) {
                wakeupReady();
                continue;
            }
            // By number, without a Registration handle: this loop runs once per ready event.
            if (registrationId(fd) != id || !isArmed(fd) && (registeredEvents(fd) & Events.ONESHOT) == 0) {
                // Not a current registration, or a parked one, which was deleted from the kernel: a
                // leftover, or an orphan. A DEL that succeeded before this wait began leaves nothing to
                // report, and one that failed is remembered; so without a race it is an orphan.
                orphan |= !raced || failedBefore(id, removalsAtWait);
                continue;
            }
            collect(fd, PollBits.toEvents(ready.events(i)));
        }
        orphanWaits = orphan ? orphanWaits + 1 : 0;
        if (orphanWaits >= ORPHAN_WAITS_BEFORE_REBUILD) {
            orphanWaits = 0;
            rebuild();
        }
    }

    /** @return whether the DEL of registration {@code id} failed before {@code removals} reached {@code at} */
    private boolean failedBefore(int id, long at) {
        for (int i = 0; i < FAILED_DELS_REMEMBERED; i++) {
            if (failedDelIds[i] == id && failedDelAt[i] <= at) {
                return true;
            }
        }
        return false;
    }

    /**
     * Replaces the epoll instance by a new one holding the current registrations. The way out when the
     * kernel keeps reporting a registration we no longer have and cannot delete: a descriptor closed
     * without unregister while a dup of it lives on (epoll(7) Q6, rule CLOSE-DUP) fires level-triggered
     * events forever under a number that EPOLL_CTL_DEL no longer reaches. Netty rebuilds its selector for
     * the same reason (netty#565).
     */
    private void rebuild() {
        int fresh;
        try {
            fresh = Kernel.epollCreate();
        } catch (NativeIOException e) {
            return; // keep the old one; the base's loop still honours the deadline
        }
        try {
            ctl(fresh, Kernel.EPOLL_CTL_ADD, wakeupFd, PollBits.POLLIN, 0);
            for (Registration r : registrations()) {
                if (r.slot() != IN_KERNEL) {
                    continue;
                }
                if (!r.isArmed()) {
                    r.setSlot(DETACHED); // a fired one-shot key: modify adds it back armed
                    continue;
                }
                try {
                    ctl(fresh, Kernel.EPOLL_CTL_ADD, r.fd(), kernelEvents(r.events()), token(r));
                } catch (NativeIOException e) {
                    if (e.errno() != Kernel.EBADF && e.errno() != Kernel.EPERM) {
                        throw e; // ENOMEM, ENOSPC: keep the old instance rather than drop a live key
                    }
                    // Closed without unregister (EBADF), or the number now names a file epoll refuses
                    // (EPERM): the registered file is gone from this fd number; nothing left to watch.
                    r.setSlot(DETACHED);
                }
            }
        } catch (NativeIOException e) {
            Kernel.closeQuietly(fresh);
            return;
        }
        Kernel.closeQuietly(epfd);
        epfd = fresh;
        Arrays.fill(failedDelIds, 0); // nothing in the fresh instance is out of reach
    }

    @Override
    protected void implClose() {
        Kernel.closeQuietly(epfd);
        epfd = -1;
        if (ready != null) {
            ready.free();
        }
        if (ctlEvent != null) {
            ctlEvent.free();
        }
        if (timespec != null) {
            timespec.free();
        }
    }

    private void ctl(int ep, int op, int fd, int events, long data) throws NativeIOException {
        ctlEvent.set(0, events, data);
        Kernel.epollCtl(ep, op, fd, ctlEvent.address(0));
    }

    private static long token(Registration r) {
        return ((long) r.id() << 32) | (r.fd() & 0xffffffffL);
    }

    /** iomux events to epoll's; EPOLLRDHUP is not allowed with EPOLLEXCLUSIVE (epoll_ctl(2): EINVAL). */
    static int kernelEvents(int events) {
        boolean exclusive = (events & Events.EXCLUSIVE) != 0;
        int bits = PollBits.request(events, !exclusive);
        if ((events & Events.EDGE) != 0) {
            bits |= Kernel.EPOLLET;
        }
        if ((events & Events.ONESHOT) != 0) {
            bits |= Kernel.EPOLLONESHOT;
        }
        if (exclusive) {
            bits |= Kernel.EPOLLEXCLUSIVE;
        }
        return bits;
    }
}
