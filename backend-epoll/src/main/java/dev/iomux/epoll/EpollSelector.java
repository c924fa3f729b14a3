package dev.iomux.epoll;

import static dev.iomux.internal.Native.C;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.EnumSet;

import dev.iomux.AbstractSelector;
import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.SelectorKey;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.internal.PollBits;

/**
 * Epoll-based selector: one epoll instance, registrations applied to the kernel at once with
 * epoll_ctl, and an event array in native memory that epoll_wait fills.
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

    /** {@link #slot} of a key the kernel watches; a parked key is taken out of the kernel (slot -1). */
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
    private volatile int epfd = -1; // volatile: register's own-descriptor check reads it without the lock
    private EpollEventArray ready;
    private EpollEventArray ctlEvent;
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

    // Counters for tests: system calls made, so that "one epoll_ctl per interest change" can be checked;
    // events dropped as stale, and rebuilds, so that races can be told from orphans.
    long ctlCalls;
    long staleEvents;
    long rebuilds;

    EpollSelector(int maxEvents) throws IOException {
        super("epoll", CAPABILITIES);
        try {
            ready = new EpollEventArray(maxEvents, layout);
            ctlEvent = new EpollEventArray(1, layout);
            epfd = Native.check(C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1(EPOLL_CLOEXEC)");
            ctl(epfd, Linux.EPOLL_CTL_ADD, wakeupFd(), Linux.EPOLLIN, 0);
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
    protected void implRegister(SelectorKey key) throws IOException {
        ctl(epfd, Linux.EPOLL_CTL_ADD, key.fd(), kernelEvents(key.events()), token(key));
        setSlot(key, IN_KERNEL);
    }

    @Override
    protected void implModify(SelectorKey oldKey, SelectorKey newKey) throws IOException {
        // A parked key was taken out of the kernel: re-arming it adds it back.
        int op = slot(newKey) == IN_KERNEL ? Linux.EPOLL_CTL_MOD : Linux.EPOLL_CTL_ADD;
        ctl(epfd, op, newKey.fd(), kernelEvents(newKey.events()), token(newKey));
        setSlot(newKey, IN_KERNEL);
    }

    @Override
    protected void implUnregister(SelectorKey key) {
        if (slot(key) != IN_KERNEL) {
            return;
        }
        setSlot(key, DETACHED);
        ctlCalls++;
        int rc = C.epoll_ctl(epfd, Linux.EPOLL_CTL_DEL, key.fd(), 0);
        int errno = rc < 0 ? Native.errno() : 0;
        // Counted after the call: a wait that began after this count began after the DEL (implCollect).
        long removed = removals + 1;
        removals = removed;
        if (rc < 0) {
            // EBADF: the fd was closed since it was registered; ENOENT: closed and its number reused by a
            // file we never added. Unregister must work in both cases (CPython test_unregister_after_fd_close).
            if (errno != Linux.EBADF && errno != Linux.ENOENT) {
                throw new UncheckedIOException(new NativeIOException(
                        "epoll_ctl(DEL, fd=" + key.fd() + ")", errno, null));
            }
            // Either the file is gone, and the kernel dropped the registration with it, or a dup keeps the
            // file open and the registration fires on, out of our reach (epoll(7) Q6).
            failedDelIds[failedDelNext] = registrationId(key);
            failedDelAt[failedDelNext] = removed;
            failedDelNext = (failedDelNext + 1) % FAILED_DELS_REMEMBERED;
        }
    }

    @Override
    protected void implDisarm(SelectorKey key) {
        if ((key.events() & Events.ONESHOT) != 0) {
            return; // EPOLLONESHOT: the kernel disarmed the registration when it reported it
        }
        // Parked on a hang-up or error outside its interest: epoll reports EPOLLHUP and EPOLLERR whatever
        // the mask (epoll_ctl(2)), so the only way to stop a level-triggered repeat is to remove it.
        implUnregister(key);
    }

    @Override
    protected int implSelect(long timeoutNanos) throws IOException {
        removalsAtWait = removals;
        int n = Native.epollWait(epfd, ready.address(0), ready.capacity(), toMillisCeil(timeoutNanos));
        return waitResult(n, "epoll_wait", "epfd", epfd);
    }

    @Override
    protected void implCollect(int count) {
        // Did another thread remove a registration while this wait ran? Then its events may be leftovers.
        boolean raced = removals != removalsAtWait;
        boolean orphan = false;
        for (int i = 0; i < count; i++) {
            long data = ready.data(i);
            int id = (int) (data >>> 32);
            int fd = (int) data;
            if (id == 0) {
                wakeupFdReady();
                continue;
            }
            SelectorKey key = keyOf(fd);
            if (key == null || registrationId(key) != id
                    || !isArmed(key) && (key.events() & Events.ONESHOT) == 0) {
                // Not a current registration, or a parked one, which was deleted from the kernel: a
                // leftover, or an orphan. A DEL that succeeded before this wait began leaves nothing to
                // report, and one that failed is remembered; so without a race it is an orphan.
                staleEvents++;
                orphan |= !raced || failedBefore(id, removalsAtWait);
                continue;
            }
            collect(key, PollBits.toEvents(ready.events(i)));
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
        int fresh = C.epoll_create1(Linux.EPOLL_CLOEXEC);
        if (fresh < 0) {
            return; // keep the old one; the base's loop still honours the deadline
        }
        try {
            ctl(fresh, Linux.EPOLL_CTL_ADD, wakeupFd(), Linux.EPOLLIN, 0);
            for (SelectorKey key : registeredKeys()) {
                if (slot(key) != IN_KERNEL) {
                    continue;
                }
                if (!isArmed(key)) {
                    setSlot(key, DETACHED); // a fired one-shot key: modify adds it back armed
                    continue;
                }
                try {
                    ctl(fresh, Linux.EPOLL_CTL_ADD, key.fd(), kernelEvents(key.events()), token(key));
                } catch (NativeIOException e) {
                    if (e.errno() != Linux.EBADF && e.errno() != Linux.EPERM) {
                        throw e; // ENOMEM, ENOSPC: keep the old instance rather than drop a live key
                    }
                    // Closed without unregister (EBADF), or the number now names a file epoll refuses
                    // (EPERM): the registered file is gone from this fd number; nothing left to watch.
                    setSlot(key, DETACHED);
                }
            }
        } catch (NativeIOException e) {
            Native.closeQuietly(fresh);
            return;
        }
        Native.closeQuietly(epfd);
        epfd = fresh;
        Arrays.fill(failedDelIds, 0); // nothing in the fresh instance is out of reach
        rebuilds++;
    }

    @Override
    protected void implClose() {
        Native.closeQuietly(epfd);
        epfd = -1;
        if (ready != null) {
            ready.free();
        }
        if (ctlEvent != null) {
            ctlEvent.free();
        }
    }

    private void ctl(int ep, int op, int fd, int events, long data) throws NativeIOException {
        ctlEvent.set(0, events, data);
        ctlCalls++;
        if (C.epoll_ctl(ep, op, fd, ctlEvent.address(0)) < 0) {
            int errno = Native.errno();
            throw new NativeIOException("epoll_ctl(" + opName(op) + ", fd=" + fd + ")", errno, hint(op, errno));
        }
    }

    private static String hint(int op, int errno) {
        if (errno == Linux.EBADF) {
            // The same words as select and poll, whose register checks with fcntl (AbstractSelector.requireOpen).
            return op == Linux.EPOLL_CTL_ADD ? "register needs an open descriptor"
                    : "the descriptor was closed while registered: unregister before closing";
        }
        if (errno == Linux.EPERM) {
            return "epoll cannot watch regular files, directories or /dev/null, which are always readable and "
                    + "writable (rule FILE-EPOLL-EPERM): read them directly, or use the poll or select backend";
        }
        if (errno == Linux.EEXIST && op == Linux.EPOLL_CTL_ADD) {
            return "the descriptor's file is still registered through a number that was closed without "
                    + "unregister (epoll(7) Q6)";
        }
        if (errno == Linux.ENOSPC) {
            return "the per-user limit /proc/sys/fs/epoll/max_user_watches is reached";
        }
        return null;
    }

    private static String opName(int op) {
        return op == Linux.EPOLL_CTL_ADD ? "ADD" : op == Linux.EPOLL_CTL_MOD ? "MOD" : "DEL";
    }

    private static long token(SelectorKey key) {
        return ((long) registrationId(key) << 32) | (key.fd() & 0xffffffffL);
    }

    /** iomux events to epoll's; EPOLLRDHUP is not allowed with EPOLLEXCLUSIVE (epoll_ctl(2): EINVAL). */
    static int kernelEvents(int events) {
        boolean exclusive = (events & Events.EXCLUSIVE) != 0;
        int bits = PollBits.request(events, !exclusive);
        if ((events & Events.EDGE) != 0) {
            bits |= Linux.EPOLLET;
        }
        if ((events & Events.ONESHOT) != 0) {
            bits |= Linux.EPOLLONESHOT;
        }
        if (exclusive) {
            bits |= Linux.EPOLLEXCLUSIVE;
        }
        return bits;
    }
}
