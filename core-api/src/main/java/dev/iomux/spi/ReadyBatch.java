package dev.iomux.spi;

import java.util.Arrays;

/**
 * The ready registrations of one wait: gathered under the state lock, delivered without it, by the
 * selecting thread only. A registration is in it at most once: a second report for it in the same wait
 * (kqueue reports reading and writing of one descriptor as two events) merges into the first entry.
 *
 * <p>An entry is a descriptor and its registration's id, not a key: the key delivered is the one current
 * at delivery, and the batch keeps no key or attachment alive.
 */
final class ReadyBatch {
    private int[] fds = new int[64];
    private int[] ids = new int[64];
    private int[] events = new int[64];
    private int size;
    private int next;

    /** @return whether entries are left to deliver */
    boolean hasNext() {
        return next < size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Starts a new batch; the previous one was delivered or dropped. */
    void clear() {
        size = 0;
        next = 0;
    }

    /** @return the entry of a descriptor that is in the batch: a second report in one wait, rare */
    int find(int fd) {
        for (int i = size - 1; i >= next; i--) {
            if (fds[i] == fd) {
                return i;
            }
        }
        throw new IllegalStateException("fd " + fd + " is not in the ready batch");
    }

    void merge(int entry, int more) {
        events[entry] |= more;
    }

    void add(int fd, int id, int ready) {
        if (size == fds.length) {
            fds = Arrays.copyOf(fds, size * 2);
            ids = Arrays.copyOf(ids, size * 2);
            events = Arrays.copyOf(events, size * 2);
        }
        fds[size] = fd;
        ids[size] = id;
        events[size] = ready;
        size++;
    }

    /** @return the index of the next entry, which is no longer in the batch; read it at once */
    int take() {
        return next++;
    }

    int fd(int i) {
        return fds[i];
    }

    int id(int i) {
        return ids[i];
    }

    int events(int i) {
        return events[i];
    }

    /** Tells the table that the gathered entries' registrations are no longer being gathered. */
    void gathered(RegistrationTable table) {
        for (int i = next; i < size; i++) {
            table.leftBatch(fds[i]);
        }
    }

    /** Drops what is left: the selector closed. */
    void drop() {
        next = size;
    }
}
