package dev.iomux.it.mutants;

import static dev.iomux.Events.EDGE;
import static dev.iomux.Events.EXCLUSIVE;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.internal.Native.C;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumSet;

import dev.iomux.AbstractSelector;
import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.NativeIOException;
import dev.iomux.SelectorKey;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.internal.PollBits;
import dev.iomux.spi.NativeBuffer;
import jnr.ffi.Platform;

/**
 * A small epoll(7) backend written as a port would be, for the {@link Mutant}s that need a kernel object
 * of the backend's own (a descriptor to leak) or modes poll cannot have (EDGE, EXCLUSIVE). Without a
 * mutant it passes the whole kit ({@link PortConformanceTest}).
 *
 * <p>Registrations go to the kernel at once with epoll_ctl. Each carries {@code (id << 32) | fd} in
 * {@code epoll_event.data}, so that an event fetched for a registration removed since is dropped. A key
 * parked on a hang-up outside its interest is deleted from the interest list (epoll reports EPOLLHUP and
 * EPOLLERR whatever the mask, epoll_ctl(2)) and added back when modify re-arms it.
 */
final class EpollPort extends AbstractSelector {
    static final Capabilities CAPABILITIES = Capabilities.of(EnumSet.allOf(Capability.class), Capabilities.UNLIMITED);

    // struct epoll_event { uint32_t events; epoll_data_t data; }: packed on x86-64 only (12 bytes, data
    // at 4), naturally aligned elsewhere (16 bytes, data at 8); include/uapi/linux/eventpoll.h.
    private static final boolean PACKED = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64;
    private static final int EVENT = PACKED ? 12 : 16;
    private static final int DATA = PACKED ? 4 : 8;
    private static final int MAX_EVENTS = 64;
    /** {@link #slot} of a key in the kernel's interest list; a parked key is not. */
    private static final int WATCHED = 1;
    private static final int NOT_WATCHED = -1;

    private final Mutant mutant; // null: the clean port
    private int epfd = -1;
    private NativeBuffer ready;
    private NativeBuffer ctlEvent;

    EpollPort(String name, Capabilities capabilities, Mutant mutant) throws IOException {
        super(name, capabilities);
        this.mutant = mutant;
        try {
            ready = NativeBuffer.allocate(MAX_EVENTS * EVENT);
            ctlEvent = NativeBuffer.allocate(EVENT);
            epfd = Native.check(C.epoll_create1(Linux.EPOLL_CLOEXEC), "epoll_create1(EPOLL_CLOEXEC)");
            ctl(Linux.EPOLL_CTL_ADD, wakeupFd(), Linux.EPOLLIN, 0); // id 0: the wake-up pipe
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
        ctl(Linux.EPOLL_CTL_ADD, key.fd(), kernelEvents(key.events()), token(key));
        setSlot(key, WATCHED);
    }

    @Override
    protected void implModify(SelectorKey oldKey, SelectorKey newKey) throws IOException {
        int op = slot(newKey) == WATCHED ? Linux.EPOLL_CTL_MOD : Linux.EPOLL_CTL_ADD; // ADD: it was parked
        ctl(op, newKey.fd(), kernelEvents(newKey.events()), token(newKey));
        setSlot(newKey, WATCHED);
    }

    @Override
    protected void implUnregister(SelectorKey key) {
        if (mutant != Mutant.DEL_SKIPPED) {
            remove(key);
        }
    }

    @Override
    protected void implDisarm(SelectorKey key) {
        if ((key.events() & ONESHOT) != 0) {
            return; // EPOLLONESHOT: the kernel disarmed it when it reported it
        }
        remove(key); // parked: only leaving the interest list stops EPOLLHUP being reported
    }

    private void remove(SelectorKey key) {
        if (slot(key) != WATCHED) {
            return;
        }
        setSlot(key, NOT_WATCHED);
        if (C.epoll_ctl(epfd, Linux.EPOLL_CTL_DEL, key.fd(), 0) < 0) {
            int errno = Native.errno();
            // EBADF: closed since it was registered; ENOENT: closed, and the number reused by a file never
            // added. Unregister must work in both cases (API-UNREGISTER).
            if (errno != Linux.EBADF && errno != Linux.ENOENT) {
                throw new UncheckedIOException(new NativeIOException("epoll_ctl(DEL, fd=" + key.fd() + ")", errno,
                        null));
            }
        }
    }

    @Override
    protected int implSelect(long timeoutNanos) throws IOException {
        int n = Native.epollWait(epfd, ready.address(), MAX_EVENTS, toMillisCeil(timeoutNanos));
        return waitResult(n, "epoll_wait", "epfd", epfd);
    }

    @Override
    protected void implCollect(int count) {
        for (int i = 0; i < count; i++) {
            long data = ready.getLong(i * EVENT + DATA);
            int id = (int) (data >>> 32);
            if (id == 0) {
                wakeupFdReady();
                continue;
            }
            SelectorKey key = keyOf((int) data);
            if (key == null || registrationId(key) != id || slot(key) != WATCHED) {
                continue; // removed, or removed and registered again, since the event was fetched
            }
            collect(key, PollBits.toEvents(ready.getInt(i * EVENT)));
        }
    }

    @Override
    protected void implClose() {
        if (mutant != Mutant.EPFD_LEAKED_ON_CLOSE) {
            Native.closeQuietly(epfd);
        }
        if (ready != null) {
            ready.free();
        }
        if (ctlEvent != null) {
            ctlEvent.free();
        }
    }

    private void ctl(int op, int fd, int events, long data) throws NativeIOException {
        ctlEvent.putInt(0, events);
        ctlEvent.putLong(DATA, data);
        if (C.epoll_ctl(epfd, op, fd, ctlEvent.address()) < 0) {
            String name = op == Linux.EPOLL_CTL_ADD ? "ADD" : "MOD";
            throw new NativeIOException("epoll_ctl(" + name + ", fd=" + fd + ")", Native.errno(), null);
        }
    }

    private static long token(SelectorKey key) {
        return ((long) registrationId(key) << 32) | (key.fd() & 0xffffffffL);
    }

    /** EPOLLRDHUP is refused with EPOLLEXCLUSIVE (epoll_ctl(2): EINVAL), so an exclusive key goes without. */
    private int kernelEvents(int events) {
        boolean exclusive = (events & EXCLUSIVE) != 0;
        int bits = PollBits.request(events, !exclusive);
        if ((events & EDGE) != 0 && mutant != Mutant.EDGE_NOT_PASSED) {
            bits |= Linux.EPOLLET;
        }
        if ((events & ONESHOT) != 0) {
            bits |= Linux.EPOLLONESHOT;
        }
        if (exclusive && mutant != Mutant.EXCLUSIVE_NOT_PASSED) {
            bits |= Linux.EPOLLEXCLUSIVE;
        }
        return bits;
    }
}
