package dev.iomux.spi;

import java.util.Arrays;

/**
 * The descriptors whose registration changed since the last wait, for a backend whose kernel interface
 * learns of changes only at the next wait ({@link AbstractSelector.Updates#AT_NEXT_WAIT}: select, poll).
 * Each descriptor is listed once however often it changed (a bit per descriptor number says it is
 * listed), and by number, not by key, so that nothing of a key outlives its registration while no thread
 * selects. {@link AbstractSelector#implPrepare} reads the list; the base empties it afterwards.
 *
 * <p>State lock.
 */
public final class ChangedFds {
    private static final int INITIAL_LIST = 16;
    private static final int MIN_BITSET_WORDS = 16; // descriptors 0..1023

    private long[] listed = new long[MIN_BITSET_WORDS];
    private int[] fds = new int[INITIAL_LIST];
    private int count;
    private int highestFd;        // the highest listed since the bitset was last sized
    private long sinceTrim;       // descriptors listed since then

    ChangedFds() {
    }

    /** @return how many descriptors are listed */
    public int size() {
        return count;
    }

    /**
     * Returns a listed descriptor; its current registration, if any, is
     * {@link AbstractSelector#registration(int)}.
     *
     * @param i 0 to {@link #size()} - 1
     * @return the descriptor
     */
    public int fd(int i) {
        return fds[java.util.Objects.checkIndex(i, count)];
    }

    void add(int fd) {
        int word = fd >>> 6;
        if (word >= listed.length) {
            listed = Arrays.copyOf(listed, Math.max(word + 1, listed.length * 2));
        }
        long bit = 1L << fd; // the shift takes the low 6 bits of fd
        if ((listed[word] & bit) == 0) {
            listed[word] |= bit;
            if (count == fds.length) {
                fds = Arrays.copyOf(fds, count * 2);
            }
            fds[count++] = fd;
            highestFd = Math.max(highestFd, fd);
        }
    }

    /**
     * Empties the list. Arrays grown for a burst of changes shrink again once four times larger than
     * needed, so that memory follows the registrations of today rather than the busiest moment so far.
     *
     * @param registered how many registrations there are, which the next burst may all change
     */
    void clear(int registered) {
        for (int i = 0; i < count; i++) {
            listed[fds[i] >>> 6] &= ~(1L << fds[i]);
        }
        int length = trimmedLength(fds.length, Math.max(registered, count), INITIAL_LIST);
        if (length < fds.length) {
            fds = new int[length];
        }
        // Sized at most once per 'registered' changes, by the highest descriptor seen meanwhile, so that a
        // descriptor that changes rarely does not make the bitset shrink and grow back at every wait.
        sinceTrim += count;
        if (listed.length > MIN_BITSET_WORDS && sinceTrim >= registered) {
            int words = trimmedLength(listed.length, (highestFd >>> 6) + 1, MIN_BITSET_WORDS);
            if (words < listed.length) {
                listed = new long[words];
            }
            sinceTrim = 0;
            highestFd = 0;
        }
        count = 0;
    }

    /** @return {@code length}, or a smaller length if it is more than four times {@code needed} */
    static int trimmedLength(int length, int needed, int minimum) {
        int target = Math.max(minimum, 2 * needed);
        return length > 2 * target ? target : length;
    }
}
