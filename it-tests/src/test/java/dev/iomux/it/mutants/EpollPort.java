package dev.iomux.it.mutants;

import static dev.iomux.Events.EDGE;
import static dev.iomux.Events.EXCLUSIVE;
import static dev.iomux.Events.ONESHOT;

import java.io.IOException;
import java.util.EnumSet;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.NativeIOException;
import dev.iomux.spi.AbstractSelector;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.PollBits;
import dev.iomux.spi.Registration;
import dev.iomux.spi.Waker;

/**
 * A small epoll(7) backend written as a port would be, for the {@link Mutant}s that need a kernel object
 * of the backend's own (a descriptor to leak) or modes poll cannot have (EDGE, EXCLUSIVE). Without a
 * mutant it passes the whole kit ({@link MorePortsConformanceTest}).
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
    private static final boolean PACKED = Kernel.EPOLL_EVENT_PACKED;
    private static final int EVENT = PACKED ? 12 : 16;
    private static final int DATA = PACKED ? 4 : 8;
    private static final int MAX_EVENTS = 64;
    /** The {@link Registration#slot()} of one in the kernel's interest list; a parked one is not. */
    private static final int WATCHED = 1;
    private static final int NOT_WATCHED = -1;

    private final Mutant mutant; // null: the clean port
    private int epfd = -1;
    private NativeBuffer ready;
    private NativeBuffer ctlEvent;
    private NativeBuffer timespec;

    static EpollPort open(String name, Capabilities capabilities, Mutant mutant) throws IOException {
        return new EpollPort(name, capabilities, mutant, Waker.pipe(name + " selector"));
    }

    private EpollPort(String name, Capabilities capabilities, Mutant mutant, Waker waker) throws IOException {
        super(name, capabilities, waker, Updates.KERNEL_AT_ONCE);
        this.mutant = mutant;
        try {
            ready = NativeBuffer.allocate(MAX_EVENTS * EVENT);
            ctlEvent = NativeBuffer.allocate(EVENT);
            timespec = NativeBuffer.allocate(Kernel.TIMESPEC_SIZE);
            epfd = Kernel.epollCreate();
            ctl(Kernel.EPOLL_CTL_ADD, waker.fd(), PollBits.POLLIN, 0); // id 0: the waker
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
            if ((r.events() & ONESHOT) == 0) {
                remove(r); // parked: only leaving the interest list stops EPOLLHUP being reported
            }
            return; // EPOLLONESHOT: the kernel disarmed it when it reported it
        }
        int op = r.slot() == WATCHED ? Kernel.EPOLL_CTL_MOD : Kernel.EPOLL_CTL_ADD; // ADD: new, or parked
        ctl(op, r.fd(), kernelEvents(r.events()), token(r));
        r.setSlot(WATCHED);
    }

    @Override
    protected void implUnregister(Registration r) {
        if (mutant != Mutant.DEL_SKIPPED) {
            remove(r);
        }
    }

    private void remove(Registration r) {
        if (r.slot() != WATCHED) {
            return;
        }
        r.setSlot(NOT_WATCHED);
        // False when the number no longer names the file (closed, or reused): unregister works anyway.
        Kernel.epollDel(epfd, r.fd());
    }

    @Override
    protected int implSelect(long timeoutNanos) throws IOException {
        return Kernel.epollWait(epfd, ready.address(), MAX_EVENTS, timeoutNanos, timespec);
    }

    @Override
    protected void implCollect(int count) throws IOException {
        for (int i = 0; i < count; i++) {
            long data = ready.getLong(i * EVENT + DATA);
            int id = (int) (data >>> 32);
            if (id == 0) {
                wakeupReady();
                continue;
            }
            int fd = (int) data; // by number: a Registration handle per event would be garbage
            if (registrationId(fd) != id || slot(fd) != WATCHED) {
                continue; // removed, or removed and registered again, since the event was fetched
            }
            collect(fd, PollBits.toEvents(ready.getInt(i * EVENT)));
        }
    }

    @Override
    protected void implClose() {
        if (mutant != Mutant.EPFD_LEAKED_ON_CLOSE) {
            Kernel.closeQuietly(epfd);
        }
        if (ready != null) {
            ready.free();
        }
        if (timespec != null) {
            timespec.free();
        }
        if (ctlEvent != null) {
            ctlEvent.free();
        }
    }

    private void ctl(int op, int fd, int events, long data) throws NativeIOException {
        ctlEvent.putInt(0, events);
        ctlEvent.putLong(DATA, data);
        Kernel.epollCtl(epfd, op, fd, ctlEvent.address());
    }

    private static long token(Registration r) {
        return ((long) r.id() << 32) | (r.fd() & 0xffffffffL);
    }

    /** EPOLLRDHUP is refused with EPOLLEXCLUSIVE (epoll_ctl(2): EINVAL), so an exclusive key goes without. */
    private int kernelEvents(int events) {
        boolean exclusive = (events & EXCLUSIVE) != 0;
        int bits = PollBits.request(events, !exclusive);
        if ((events & EDGE) != 0 && mutant != Mutant.EDGE_NOT_PASSED) {
            bits |= Kernel.EPOLLET;
        }
        if ((events & ONESHOT) != 0) {
            bits |= Kernel.EPOLLONESHOT;
        }
        if (exclusive && mutant != Mutant.EXCLUSIVE_NOT_PASSED) {
            bits |= Kernel.EPOLLEXCLUSIVE;
        }
        return bits;
    }
}
