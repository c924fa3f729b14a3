package dev.iomux.epoll;

import java.util.Objects;

import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;

/**
 * An array of {@code struct epoll_event} in native memory, read and written in one place.
 *
 * <pre>
 * typedef union epoll_data { void *ptr; int fd; uint32_t u32; uint64_t u64; } epoll_data_t;
 * struct epoll_event { uint32_t events; epoll_data_t data; } EPOLL_PACKED;
 * </pre>
 *
 * <p>{@code EPOLL_PACKED} is {@code __attribute__((packed))} on x86-64 only (the kernel's
 * {@code include/uapi/linux/eventpoll.h}, kept for 32-bit compatibility): 12 bytes with {@code data} at
 * offset 4. Everywhere else the union is 8-byte aligned: 16 bytes with {@code data} at offset 8
 * ({@link Kernel#EPOLL_EVENT_PACKED}).
 */
final class EpollEventArray {
    /** The two layouts of struct epoll_event. */
    enum Layout {
        /** x86-64: packed, 12 bytes. */
        PACKED(12, 4),
        /** AArch64, RISC-V and the rest: naturally aligned, 16 bytes. */
        ALIGNED(16, 8);

        final int size;
        final int dataOffset;

        Layout(int size, int dataOffset) {
            this.size = size;
            this.dataOffset = dataOffset;
        }

        /** The layout of the running platform: the one place the choice is made. */
        static Layout running() {
            return Kernel.EPOLL_EVENT_PACKED ? PACKED : ALIGNED;
        }
    }

    private final Layout layout;
    private final int capacity;
    private final NativeBuffer memory;

    EpollEventArray(int capacity, Layout layout) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("an epoll event array needs at least 1 entry, got " + capacity);
        }
        this.layout = layout;
        this.capacity = capacity;
        this.memory = NativeBuffer.allocate(Math.multiplyExact(capacity, layout.size));
    }

    int capacity() {
        return capacity;
    }

    Layout layout() {
        return layout;
    }

    /** @return the address of entry {@code i}, for epoll_ctl and epoll_wait */
    long address(int i) {
        return memory.address() + (long) Objects.checkIndex(i, capacity) * layout.size;
    }

    int events(int i) {
        return memory.getInt(Objects.checkIndex(i, capacity) * layout.size);
    }

    long data(int i) {
        return memory.getLong(Objects.checkIndex(i, capacity) * layout.size + layout.dataOffset);
    }

    void set(int i, int events, long data) {
        int at = Objects.checkIndex(i, capacity) * layout.size;
        memory.putInt(at, events);
        memory.putLong(at + layout.dataOffset, data);
    }

    void free() {
        memory.free();
    }
}
