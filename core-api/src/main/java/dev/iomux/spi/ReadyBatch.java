package dev.iomux.spi;

import java.util.Arrays;

/**
 * The ready registrations of one wait: gathered under the state lock, delivered without it, by the
 * selecting thread only. A registration is in it at most once: a second report for it in the same wait
 * (kqueue reports reading and writing of one descriptor as two events) merges into the first entry.
 */
final class ReadyBatch {
    private Registration[] registrations = new Registration[64];
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

    boolean holds(Registration r) {
        int i = r.batchIndex;
        return i >= next && i < size && registrations[i] == r;
    }

    void merge(Registration r, int more) {
        events[r.batchIndex] |= more;
    }

    void add(Registration r, int ready) {
        if (size == registrations.length) {
            registrations = Arrays.copyOf(registrations, size * 2);
            events = Arrays.copyOf(events, size * 2);
        }
        registrations[size] = r;
        events[size] = ready;
        r.batchIndex = size;
        size++;
    }

    /** @return the index of the next entry, which is no longer in the batch; read it at once */
    int take() {
        int i = next++;
        registrations[i].batchIndex = -1;
        return i;
    }

    Registration registration(int i) {
        Registration r = registrations[i];
        registrations[i] = null; // the batch keeps no key or attachment alive
        return r;
    }

    int events(int i) {
        return events[i];
    }

    /** Drops what is left: the selector closed. */
    void drop() {
        while (hasNext()) {
            registration(take());
        }
    }
}
