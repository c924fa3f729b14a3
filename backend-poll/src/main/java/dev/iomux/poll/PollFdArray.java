package dev.iomux.poll;

import java.util.Objects;

import dev.iomux.spi.NativeBuffer;

/**
 * An array of {@code struct pollfd} in native memory, read and written in one place.
 *
 * <pre>
 * struct pollfd { int fd; short events; short revents; };   // 8 bytes on every Linux ABI
 * </pre>
 *
 * <p>It grows by doubling and can be shrunk; either copies the entries into a new block, so it may only
 * happen while no poll(2) call is using the array.
 */
final class PollFdArray {
    static final int SIZE = 8;
    private static final int FD = 0;
    private static final int EVENTS = 4;
    private static final int REVENTS = 6;

    private NativeBuffer memory;
    private int capacity;

    PollFdArray(int capacity) {
        this.capacity = capacity;
        this.memory = NativeBuffer.allocate(capacity * SIZE);
    }

    long address() {
        return memory.address();
    }

    int capacity() {
        return capacity;
    }

    int fd(int i) {
        return memory.getInt(offset(i) + FD);
    }

    int revents(int i) {
        return memory.getShort(offset(i) + REVENTS) & 0xffff;
    }

    void set(int i, int fd, int events) {
        int at = offset(i);
        memory.putInt(at + FD, fd);
        memory.putShort(at + EVENTS, (short) events);
        memory.putShort(at + REVENTS, (short) 0);
    }

    /** Copies entry {@code from} over entry {@code to}: swap-with-last removal. */
    void copy(int from, int to) {
        memory.copyFrom(memory, offset(from), offset(to), SIZE);
    }

    /** Checked before multiplying, so a huge index cannot wrap around into the array. */
    private int offset(int i) {
        return Objects.checkIndex(i, capacity) * SIZE;
    }

    /** Makes room for at least {@code needed} entries, keeping the first {@code used}. */
    void ensureCapacity(int needed, int used) {
        if (needed <= capacity) {
            return;
        }
        reallocate(Math.max(needed, capacity * 2), used);
    }

    /**
     * Gives memory back: moves the first {@code used} entries into a block of {@code smaller} entries.
     *
     * @throws IllegalArgumentException unless {@code used <= smaller <= capacity()}
     */
    void shrink(int smaller, int used) {
        if (smaller < used || smaller > capacity) {
            throw new IllegalArgumentException("cannot shrink a pollfd array of " + capacity + " entries, "
                    + used + " in use, to " + smaller);
        }
        if (smaller < capacity) {
            reallocate(smaller, used);
        }
    }

    private void reallocate(int newCapacity, int used) {
        NativeBuffer block = NativeBuffer.allocate(Math.multiplyExact(newCapacity, SIZE));
        block.copyFrom(memory, 0, 0, used * SIZE);
        memory.free();
        memory = block;
        capacity = newCapacity;
    }

    void free() {
        memory.free();
    }
}
