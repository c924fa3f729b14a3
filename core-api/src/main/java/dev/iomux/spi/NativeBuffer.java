package dev.iomux.spi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

import com.kenai.jffi.MemoryIO;

/**
 * A block of native memory that iomux owns: allocated zeroed, freed explicitly, and counted.
 *
 * <p>Every read and write goes through a direct {@link ByteBuffer} over the block, so an
 * offset outside it throws {@link IndexOutOfBoundsException} instead of touching memory we do not own;
 * the JIT compiles those accesses to plain loads and stores. After {@link #free()} the view is replaced
 * by an empty one, so a stray access fails the same way instead of reading freed memory.
 *
 * <p>Unlike {@code ByteBuffer.allocateDirect}, the memory goes back to the system when {@link #free()} is
 * called, not when the garbage collector gets round to it; {@link #liveBlocks()} counts blocks not yet
 * freed, which tests use to check that closing a selector releases everything it allocated.
 */
public final class NativeBuffer {
    private static final MemoryIO IO = MemoryIO.getInstance();
    private static final ByteBuffer FREED = ByteBuffer.allocateDirect(0);
    private static final AtomicLong LIVE_BLOCKS = new AtomicLong();
    private static final AtomicLong LIVE_BYTES = new AtomicLong();

    private final int size;
    private long address;
    private ByteBuffer view;

    private NativeBuffer(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("native buffer size must be positive, got " + size);
        }
        long a = IO.allocateMemory(size, true);
        if (a == 0) {
            throw new OutOfMemoryError("could not allocate " + size + " bytes of native memory");
        }
        this.size = size;
        this.address = a;
        this.view = IO.newDirectByteBuffer(a, size).order(ByteOrder.nativeOrder());
        LIVE_BLOCKS.incrementAndGet();
        LIVE_BYTES.addAndGet(size);
    }

    /**
     * Allocates a zeroed block.
     *
     * @param size its size in bytes, positive
     * @return the block
     */
    public static NativeBuffer allocate(int size) {
        return new NativeBuffer(size);
    }

    /**
     * Returns the number of blocks allocated and not yet freed, process-wide.
     *
     * @return the live block count
     */
    public static long liveBlocks() {
        return LIVE_BLOCKS.get();
    }

    /**
     * Returns the number of bytes in blocks not yet freed, process-wide.
     *
     * @return the live byte count
     */
    public static long liveBytes() {
        return LIVE_BYTES.get();
    }

    /** @return the block's address, to pass to a system call; 0 once freed */
    public long address() {
        return address;
    }

    /** @return the block's size in bytes */
    public int size() {
        return size;
    }

    /**
     * Reads an int in native byte order.
     *
     * @param offset its offset in the block, in bytes
     * @return the int at {@code offset}
     * @throws IndexOutOfBoundsException if the int is not wholly inside the block (or the block is freed)
     */
    public int getInt(int offset) {
        return view.getInt(offset);
    }

    /**
     * Stores an int in native byte order.
     *
     * @param offset its offset in the block, in bytes
     * @param value the int to store
     * @throws IndexOutOfBoundsException if the int is not wholly inside the block (or the block is freed)
     */
    public void putInt(int offset, int value) {
        view.putInt(offset, value);
    }

    /**
     * Reads a short in native byte order.
     *
     * @param offset its offset in the block, in bytes
     * @return the short at {@code offset}
     * @throws IndexOutOfBoundsException if the short is not wholly inside the block (or the block is freed)
     */
    public short getShort(int offset) {
        return view.getShort(offset);
    }

    /**
     * Stores a short in native byte order.
     *
     * @param offset its offset in the block, in bytes
     * @param value the short to store
     * @throws IndexOutOfBoundsException if the short is not wholly inside the block (or the block is freed)
     */
    public void putShort(int offset, short value) {
        view.putShort(offset, value);
    }

    /**
     * Reads a long in native byte order.
     *
     * @param offset its offset in the block, in bytes
     * @return the long at {@code offset}
     * @throws IndexOutOfBoundsException if the long is not wholly inside the block (or the block is freed)
     */
    public long getLong(int offset) {
        return view.getLong(offset);
    }

    /**
     * Stores a long in native byte order.
     *
     * @param offset its offset in the block, in bytes
     * @param value the long to store
     * @throws IndexOutOfBoundsException if the long is not wholly inside the block (or the block is freed)
     */
    public void putLong(int offset, long value) {
        view.putLong(offset, value);
    }

    /**
     * Reads a byte.
     *
     * @param offset its offset in the block
     * @return the byte at {@code offset}
     * @throws IndexOutOfBoundsException if {@code offset} is outside the block (or the block is freed)
     */
    public byte getByte(int offset) {
        return view.get(offset);
    }

    /**
     * Stores a byte.
     *
     * @param offset its offset in the block
     * @param value the byte to store
     * @throws IndexOutOfBoundsException if {@code offset} is outside the block (or the block is freed)
     */
    public void putByte(int offset, byte value) {
        view.put(offset, value);
    }

    /**
     * Copies {@code length} bytes from {@code src[srcOffset..]} to this block at {@code offset}.
     *
     * @param offset where the bytes go in this block
     * @param src the array to copy from
     * @param srcOffset where the bytes start in {@code src}
     * @param length how many bytes to copy
     * @throws IndexOutOfBoundsException if either range is out of bounds (or the block is freed)
     */
    public void put(int offset, byte[] src, int srcOffset, int length) {
        view.put(offset, src, srcOffset, length);
    }

    /**
     * Copies {@code length} bytes of this block at {@code offset} into {@code dst[dstOffset..]}.
     *
     * @param offset where the bytes start in this block
     * @param dst the array to copy into
     * @param dstOffset where the bytes go in {@code dst}
     * @param length how many bytes to copy
     * @throws IndexOutOfBoundsException if either range is out of bounds (or the block is freed)
     */
    public void get(int offset, byte[] dst, int dstOffset, int length) {
        view.get(offset, dst, dstOffset, length);
    }

    /**
     * Zeroes {@code length} bytes at {@code offset}.
     *
     * @param offset where the bytes start in this block
     * @param length how many bytes to zero
     * @throws IndexOutOfBoundsException if the range is not wholly inside the block (or the block is freed)
     */
    public void clear(int offset, int length) {
        Objects.checkFromIndexSize(offset, length, view.capacity());
        IO.setMemory(address + offset, length, (byte) 0);
    }

    /**
     * Copies {@code length} bytes at {@code srcOffset} of {@code src} to {@code offset} of this block.
     *
     * @param src the block to copy from
     * @param srcOffset where the bytes start in {@code src}
     * @param offset where the bytes go in this block
     * @param length how many bytes to copy
     * @throws IndexOutOfBoundsException if either range is not wholly inside its block (or a block is freed)
     */
    public void copyFrom(NativeBuffer src, int srcOffset, int offset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.view.capacity());
        Objects.checkFromIndexSize(offset, length, view.capacity());
        IO.copyMemory(src.address + srcOffset, address + offset, length);
    }

    /** @return whether {@link #free()} has been called */
    public boolean isFreed() {
        return address == 0;
    }

    /** Returns the memory to the system. Idempotent. */
    public void free() {
        if (address != 0) {
            long a = address;
            address = 0;
            view = FREED;
            IO.freeMemory(a);
            LIVE_BLOCKS.decrementAndGet();
            LIVE_BYTES.addAndGet(-size);
        }
    }

    @Override
    public String toString() {
        return "NativeBuffer[" + size + " bytes" + (address == 0 ? ", freed]" : "]");
    }
}
