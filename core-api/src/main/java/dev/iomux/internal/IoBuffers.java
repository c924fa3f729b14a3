package dev.iomux.internal;

import java.nio.ByteBuffer;

import com.kenai.jffi.MemoryIO;

/**
 * Turns {@link ByteBuffer}s into addresses for read, write, recv and send.
 *
 * <p>Internal. A direct buffer is passed in place, at its position. A heap buffer goes through a
 * per-thread direct scratch buffer, as the JDK's own channels do (sun.nio.ch.Util's temporary direct
 * buffers): one copy, no allocation per call, and the memory belongs to the JDK's direct-buffer pool.
 */
public final class IoBuffers {
    /** The most one call moves through the scratch buffer; a longer heap buffer takes several calls. */
    public static final int SCRATCH_SIZE = 64 * 1024;

    private static final MemoryIO IO = MemoryIO.getInstance();
    private static final ThreadLocal<ByteBuffer> SCRATCH =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(SCRATCH_SIZE));

    private IoBuffers() {
    }

    /**
     * Returns the address of a direct buffer's position.
     *
     * @param buffer a direct buffer
     * @return its address plus position
     */
    public static long address(ByteBuffer buffer) {
        return IO.getDirectBufferAddress(buffer) + buffer.position();
    }

    /**
     * Returns this thread's scratch buffer, cleared.
     *
     * @return a direct buffer of {@link #SCRATCH_SIZE} bytes
     */
    public static ByteBuffer scratch() {
        return SCRATCH.get().clear();
    }
}
