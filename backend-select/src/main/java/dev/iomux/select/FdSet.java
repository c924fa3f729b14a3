package dev.iomux.select;

import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;

/**
 * One {@code fd_set} in native memory: FD_SETSIZE (1024) bits as 16 native {@code long} words, bit
 * {@code fd % 64} of word {@code fd / 64}, as glibc's {@code __fd_mask} array and the kernel's
 * {@code unsigned long} bitmap agree on 64-bit platforms.
 *
 * <p>Unlike glibc's FD_SET, which writes past the 128 bytes for fd &gt;= 1024 unless built with
 * _FORTIFY_SOURCE (select(2) BUGS; rule SELECT-FDSETSIZE), every access here is bounds-checked.
 */
final class FdSet {
    static final int BITS = Kernel.FD_SETSIZE;
    static final int WORDS = BITS / 64;

    private final NativeBuffer memory = NativeBuffer.allocate(BITS / 8);

    long address() {
        return memory.address();
    }

    void set(int fd) {
        int w = word(fd);
        memory.putLong(w * 8, memory.getLong(w * 8) | (1L << fd));
    }

    void clear(int fd) {
        int w = word(fd);
        memory.putLong(w * 8, memory.getLong(w * 8) & ~(1L << fd));
    }

    boolean isSet(int fd) {
        return (memory.getLong(word(fd) * 8) & (1L << fd)) != 0;
    }

    long wordAt(int index) {
        return memory.getLong(index * 8);
    }

    /** Copies the first {@code words} words of another set: the value-result restore of each call. */
    void copyFrom(FdSet master, int words) {
        memory.copyFrom(master.memory, 0, 0, words * 8);
    }

    void free() {
        memory.free();
    }

    private static int word(int fd) {
        if (fd < 0 || fd >= BITS) {
            throw new IllegalArgumentException("fd " + fd + " does not fit in an fd_set (0.." + (BITS - 1) + ")");
        }
        return fd >>> 6;
    }
}
