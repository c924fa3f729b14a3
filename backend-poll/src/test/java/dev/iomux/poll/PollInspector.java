package dev.iomux.poll;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.HashSet;
import java.util.Set;

import com.kenai.jffi.MemoryIO;
import dev.iomux.spi.AbstractSelector;
import dev.iomux.spi.ChangedFds;

/**
 * Reads a poll selector's pollfd array and slot bookkeeping from its package-private fields, for the
 * backend's own tests; the selector itself carries no test code. Call only while no thread selects.
 *
 * <p>What a test cannot count, the number of times the array was brought up to date, it sees through a
 * mark: {@link #mark} sets a bit in each entry's {@code events} that poll(2) ignores (the kernel's
 * demangle_poll keeps only the defined POLL* bits), and only a rewrite of the entry removes it again.
 */
final class PollInspector {
    /** Above POLLRDHUP (0x2000) and defined by no POLL* constant: poll(2) drops it. */
    static final short MARK = 0x4000;
    private static final int EVENTS = 4; // offsetof(struct pollfd, events)
    private static final MemoryIO RAW = MemoryIO.getInstance();

    private PollInspector() {
    }

    /** @return the slots in use, the wake-up slot 0 included */
    static int used(PollSelector sel) {
        return sel.used;
    }

    /** @return the address of the pollfd array: a new one after any reallocation */
    static long arrayAddress(PollSelector sel) {
        return sel.fds.address();
    }

    /** @return the slot of {@code fd} in the pollfd array, or -1 if it has none */
    static int slotOf(PollSelector sel, int fd) {
        for (int slot = 1; slot < sel.used; slot++) {
            if (sel.fdBySlot[slot] == fd) {
                return slot;
            }
        }
        return -1;
    }

    /** @return the {@code fd} field of the entry of {@code fd}: negative while poll(2) is to skip it */
    static int pollfdFd(PollSelector sel, int fd) {
        return sel.fds.fd(requireSlot(sel, fd));
    }

    /** @return the {@code events} field of the entry of {@code fd}, the {@link #MARK} excluded */
    static int pollfdEvents(PollSelector sel, int fd) {
        return events(sel, requireSlot(sel, fd)) & ~MARK;
    }

    /** Sets the {@link #MARK} in every entry in use, the wake-up slot's included. */
    static void mark(PollSelector sel) {
        for (int slot = 0; slot < sel.used; slot++) {
            long at = sel.fds.address() + (long) slot * PollFdArray.SIZE + EVENTS;
            RAW.putShort(at, (short) (RAW.getShort(at) | MARK));
        }
    }

    /** @return the descriptors (the waker's included) whose entry lost its {@link #MARK}: rewritten since */
    static Set<Integer> rewritten(PollSelector sel) {
        Set<Integer> out = new HashSet<>();
        for (int slot = 0; slot < sel.used; slot++) {
            if ((events(sel, slot) & MARK) == 0) {
                out.add(sel.fdBySlot[slot]);
            }
        }
        return out;
    }

    /**
     * The bytes of bookkeeping kept between selects: the backend's pollfd array, the fd of each slot and
     * the holes, and the base's list of changed descriptors, where a backlog of changes would pile up.
     */
    static long bookkeepingBytes(PollSelector sel) {
        return 4L * (sel.fdBySlot.length + sel.holes.length) + (long) PollFdArray.SIZE * sel.fds.capacity()
                + changedFdsBytes(sel);
    }

    /**
     * Bytes held by the base's list of changed descriptors (its int list and its bitset), read by
     * reflection: the list is private to dev.iomux.spi, and no test seam is added to the library for this.
     */
    private static long changedFdsBytes(PollSelector sel) {
        try {
            Object changed = field(AbstractSelector.class, "changed").get(sel);
            int[] fds = (int[]) field(ChangedFds.class, "fds").get(changed);
            long[] listed = (long[]) field(ChangedFds.class, "listed").get(changed);
            return 4L * fds.length + 8L * listed.length;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("AbstractSelector.changed or ChangedFds' arrays changed: update this test", e);
        }
    }

    private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
        Field f = owner.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    /**
     * Checks, after a select and before any change, that the slots match the registrations: no hole
     * left, one slot per key and one key per slot, and each entry's fd the key's, negative exactly for
     * the descriptors in {@code disarmed} (fired ONESHOT or parked keys).
     */
    static void checkSlots(PollSelector sel, Set<Integer> disarmed) {
        assertThat(sel.holeCount).as("holes not removed by the select").isZero();
        Set<Integer> registered = sel.keys().keySet();
        assertThat(sel.used - 1).as("slots in use for the keys %s", registered).isEqualTo(registered.size());
        Set<Integer> seen = new HashSet<>();
        for (int slot = 1; slot < sel.used; slot++) {
            int fd = sel.fdBySlot[slot];
            assertThat(registered).as("slot %d of %d holds fd %d", slot, sel.used, fd).contains(fd);
            assertThat(seen.add(fd)).as("fd %d has two slots", fd).isTrue();
            int expected = disarmed.contains(fd) ? ~fd : fd;
            assertThat(sel.fds.fd(slot)).as("pollfd fd of slot %d, fd %d (disarmed: %s)", slot, fd,
                    disarmed.contains(fd)).isEqualTo(expected);
        }
    }

    private static int requireSlot(PollSelector sel, int fd) {
        int slot = slotOf(sel, fd);
        assertThat(slot).as("slot of fd %d among %d in use", fd, sel.used).isPositive();
        return slot;
    }

    private static int events(PollSelector sel, int slot) {
        return RAW.getShort(sel.fds.address() + (long) slot * PollFdArray.SIZE + EVENTS) & 0xffff;
    }
}
