package dev.iomux.select;

import java.io.IOException;
import java.util.EnumSet;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.spi.AbstractSelector;
import dev.iomux.spi.ChangedFds;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.Registration;
import dev.iomux.spi.Waker;

/**
 * Select-based selector: three master fd_sets, brought up to date with the changed registrations before
 * a wait ({@link #implPrepare}), copied into three working sets before every call because select(2)
 * overwrites them with its result (value-result, rule SELECT-VALUE-RESULT). The masters are the
 * selecting thread's: only implPrepare and implSelect touch them.
 *
 * <p>Only descriptors 0..1023 fit (FD_SETSIZE, rule SELECT-FDSETSIZE); larger ones are refused at
 * register. {@code PRIORITY} uses exceptfds. select(2) folds errors and hang-ups into readable and
 * writable, so this backend reports no ERROR or HANGUP flags. {@code ONESHOT} is emulated by clearing a
 * fired key's bits in the masters until modify re-arms it.
 *
 * <p>A registered descriptor closed behind the selector's back makes select(2) fail with EBADF, every
 * time, for all descriptors; the backend finds which ones (fcntl F_GETFD), reports them as
 * {@link Events#ERROR} on their keys, and selects the others again (rule CLOSED-FD).
 */
final class SelectSelector extends AbstractSelector {
    static final Capabilities CAPABILITIES =
            Capabilities.of(EnumSet.of(Capability.ONESHOT, Capability.PRIORITY), FdSet.BITS - 1);

    private final int wakeupFd;
    // Package-private, not private: the backend's own tests read what the kernel is asked to watch.
    FdSet readMaster;
    FdSet writeMaster;
    FdSet exceptMaster;
    private FdSet readSet;
    private FdSet writeSet;
    private FdSet exceptSet;
    private NativeBuffer timespec; // pselect(2)'s timeout, nanoseconds
    private int maxFd;            // highest fd in the masters, the waker's included
    private int nfds;             // maxFd + 1 as of the last copy
    // The registration id of each fd in the masters, and as of the last copy: a result is for the
    // registration that was watched, not for one that took the same fd number while select waited.
    private final int[] masterIds = new int[FdSet.BITS];
    private final int[] watchedIds = new int[FdSet.BITS];
    private final int[] closedFds = new int[FdSet.BITS];
    private int closedCount;

    SelectSelector() throws IOException {
        this(Waker.pipe("select selector"));
    }

    private SelectSelector(Waker waker) throws IOException {
        super("select", CAPABILITIES, waker, Updates.AT_NEXT_WAIT);
        wakeupFd = waker.fd();
        try {
            if (wakeupFd >= FdSet.BITS) {
                throw new IOException("cannot open a select selector: its wake-up pipe got fd " + wakeupFd
                        + ", which does not fit in an fd_set (FD_SETSIZE " + FdSet.BITS + "); with this many "
                        + "descriptors open, use backend-poll or backend-epoll");
            }
            readMaster = new FdSet();
            writeMaster = new FdSet();
            exceptMaster = new FdSet();
            readSet = new FdSet();
            writeSet = new FdSet();
            exceptSet = new FdSet();
            timespec = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
            readMaster.set(wakeupFd);
            maxFd = wakeupFd;
        } catch (IOException | RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    protected String fdLimitMessage(int fd) {
        return "select(2) cannot watch fd " + fd + ": an fd_set is a bitmap of FD_SETSIZE = " + FdSet.BITS
                + " bits, descriptors 0.." + (FdSet.BITS - 1) + " only (rule SELECT-FDSETSIZE); "
                + "use backend-poll or backend-epoll, which have no such limit";
    }

    @Override
    protected void implPrepare(ChangedFds changed) {
        for (int i = 0; i < changed.size(); i++) {
            int fd = changed.fd(i);
            clearBits(fd);
            Registration r = registration(fd);
            if (r != null && r.isArmed()) { // a fired ONESHOT key stays out of the sets until modify
                setBits(r);
            }
        }
    }

    private void setBits(Registration r) {
        int fd = r.fd();
        int interest = r.events();
        if ((interest & Events.READ) != 0) {
            readMaster.set(fd);
        }
        if ((interest & Events.WRITE) != 0) {
            writeMaster.set(fd);
        }
        if ((interest & Events.PRIORITY) != 0) {
            exceptMaster.set(fd);
        }
        maxFd = Math.max(maxFd, fd);
        masterIds[fd] = r.id();
    }

    private void clearBits(int fd) {
        readMaster.clear(fd);
        writeMaster.clear(fd);
        exceptMaster.clear(fd);
        masterIds[fd] = 0;
        if (fd == maxFd) {
            while (maxFd > 0 && !readMaster.isSet(maxFd) && !writeMaster.isSet(maxFd) && !exceptMaster.isSet(maxFd)) {
                maxFd--;
            }
        }
    }

    @Override
    protected int implSelect(long timeoutNanos) throws IOException {
        nfds = maxFd + 1;
        int words = (nfds + 63) >>> 6;
        readSet.copyFrom(readMaster, words);
        writeSet.copyFrom(writeMaster, words);
        exceptSet.copyFrom(exceptMaster, words);
        System.arraycopy(masterIds, 0, watchedIds, 0, nfds);
        closedCount = 0;
        long timeout = timeoutNanos;
        for (;;) {
            try {
                int n = select(timeout);
                return n == INTERRUPTED ? n : n + closedCount;
            } catch (NativeIOException e) {
                if (e.errno() != Kernel.EBADF) {
                    throw e;
                }
            }
            if (!findClosed()) {
                // EBADF, yet every descriptor in the sets is open: one was closed and its number reused
                // between the copy and the call (unregister, close, open on other threads). Its change is
                // listed: let the base apply it and call again.
                return RETRY;
            }
            // The sets are left as they were on error (select(2): "the file descriptor sets are
            // unmodified"), minus the closed descriptors now: ask again without waiting, the closed ones
            // are news enough.
            timeout = 0;
        }
    }

    private int select(long timeoutNanos) throws NativeIOException {
        // pselect(2), not select(2): its timespec takes the timeout to the nanosecond (TIMEOUT-POSITIVE).
        return Kernel.select(nfds, readSet.address(), writeSet.address(), exceptSet.address(), timeoutNanos,
                timespec);
    }

    /** After EBADF: moves every closed descriptor out of the working sets into closedFds. */
    private boolean findClosed() {
        int before = closedCount;
        for (int fd = 0; fd < nfds; fd++) {
            if ((readSet.isSet(fd) || writeSet.isSet(fd) || exceptSet.isSet(fd))
                    && !Kernel.isOpen(fd)) {
                readSet.clear(fd);
                writeSet.clear(fd);
                exceptSet.clear(fd);
                closedFds[closedCount++] = fd;
            }
        }
        return closedCount > before;
    }

    @Override
    protected void implCollect(int count) throws IOException {
        for (int i = 0; i < closedCount; i++) {
            if (closedFds[i] == wakeupFd) {
                wakeupReady(); // closed behind the selector's back: the base finds the misuse and reports it
                continue;
            }
            if (watched(closedFds[i])) {
                collect(closedFds[i], Events.ERROR | Events.READ | Events.WRITE);
            }
        }
        int words = (nfds + 63) >>> 6;
        for (int w = 0; w < words; w++) {
            long r = readSet.wordAt(w);
            long wr = writeSet.wordAt(w);
            long x = exceptSet.wordAt(w);
            long any = r | wr | x;
            while (any != 0) {
                int bit = Long.numberOfTrailingZeros(any);
                any &= any - 1;
                int fd = (w << 6) + bit;
                if (fd == wakeupFd) {
                    wakeupReady();
                    continue;
                }
                if (!watched(fd)) {
                    continue; // unregistered (perhaps registered again) while select was waiting
                }
                long mask = 1L << bit;
                // One entry per descriptor with every bit that is set, though select(2) counted each
                // bit (rule SELECT-ONE-ENTRY).
                int ready = ((r & mask) != 0 ? Events.READ : 0) | ((wr & mask) != 0 ? Events.WRITE : 0)
                        | ((x & mask) != 0 ? Events.PRIORITY : 0);
                collect(fd, ready);
            }
        }
    }

    /** Whether the current registration of {@code fd} is the one select watched. */
    private boolean watched(int fd) {
        int id = registrationId(fd);
        return id != 0 && id == watchedIds[fd];
    }

    @Override
    protected void implClose() {
        for (FdSet s : new FdSet[] {readMaster, writeMaster, exceptMaster, readSet, writeSet, exceptSet}) {
            if (s != null) {
                s.free();
            }
        }
        if (timespec != null) {
            timespec.free();
        }
    }
}
