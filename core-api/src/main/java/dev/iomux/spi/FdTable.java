package dev.iomux.spi;

import java.util.Arrays;
import java.util.Objects;

/**
 * A map from descriptor number to value, stored as an array indexed by the descriptor.
 *
 * <p>Internal. Descriptors are small, dense integers (the kernel hands out the lowest free number,
 * open(2)), so an array is both the smallest and the fastest int-keyed map for them, as libuv's
 * {@code loop->watchers[fd]}: no hashing, no boxing. It grows by doubling to fit the highest descriptor
 * stored. Not thread-safe; the selector guards it with its lock.
 *
 * @param <V> the value type
 */
final class FdTable<V> {
    private Object[] values = new Object[64];
    private int size;

    /**
     * Returns the value stored for a descriptor.
     *
     * @param fd the descriptor, not negative
     * @return the value, or null if none is stored
     */
    @SuppressWarnings("unchecked")
    V get(int fd) {
        Object[] v = values;
        return fd < v.length ? (V) v[fd] : null;
    }

    /**
     * Stores a value, replacing any previous one.
     *
     * @param fd    the descriptor, not negative
     * @param value the value, not null
     * @return the previous value, or null
     */
    @SuppressWarnings("unchecked")
    V put(int fd, V value) {
        Objects.requireNonNull(value, "value");
        if (fd >= values.length) {
            // Doubling, or straight to fd + 1; in long arithmetic, so a huge fd cannot wrap the size.
            long grown = Math.max(values.length * 2L, fd + 1L);
            values = Arrays.copyOf(values, (int) Math.min(grown, Integer.MAX_VALUE - 8));
        }
        V old = (V) values[fd];
        values[fd] = value;
        if (old == null) {
            size++;
        }
        return old;
    }

    /**
     * Removes the value of a descriptor.
     *
     * @param fd the descriptor, not negative
     * @return the removed value, or null if none was stored
     */
    @SuppressWarnings("unchecked")
    V remove(int fd) {
        if (fd >= values.length) {
            return null;
        }
        V old = (V) values[fd];
        if (old != null) {
            values[fd] = null;
            size--;
        }
        return old;
    }

    /** @return the number of descriptors stored */
    int size() {
        return size;
    }

    /**
     * Copies the stored values, in descriptor order, into a new array.
     *
     * @param into an array of the right type; used if large enough
     * @param <T>  the array element type
     * @return the values
     */
    @SuppressWarnings("unchecked")
    <T> T[] values(T[] into) {
        T[] out = into.length >= size ? into : Arrays.copyOf(into, size);
        int n = 0;
        for (Object o : values) {
            if (o != null) {
                out[n++] = (T) o;
            }
        }
        if (out.length > n) {
            out[n] = null;
        }
        return out;
    }

    /** Removes everything and shrinks back to the initial capacity. */
    void clear() {
        values = new Object[64];
        size = 0;
    }
}
