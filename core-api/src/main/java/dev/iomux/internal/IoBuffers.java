package dev.iomux.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;

import com.kenai.jffi.MemoryIO;

/**
 * Turns {@link ByteBuffer}s into addresses for read, write, recv and send.
 *
 * <p>Internal. A direct buffer is passed in place, at its position. A heap buffer goes through a
 * per-thread direct scratch buffer, as the JDK's own channels do (sun.nio.ch.Util's temporary direct
 * buffers): one copy, no allocation per call, and the memory belongs to the JDK's direct-buffer pool.
 *
 * <p>A direct buffer's address is {@code java.nio.Buffer}'s {@code address} field, which is all JNI's
 * {@code GetDirectBufferAddress} returns. jffi asks JNI for it, a second trip out of Java next to the
 * system call itself: about 25 ns, twice per read-write pair, which was the whole gap to Netty's JNI
 * layer in the scaling benchmark (perf profile in docs/PERFORMANCE.md). On JDK 17 to 23 the field is read
 * directly through {@code sun.misc.Unsafe} (module jdk.unsupported), as Netty does; from JDK 24 on, whose
 * Unsafe memory-access methods print a warning on first use (JEP 498), and wherever the fast path cannot
 * be set up or disagrees with JNI on a test buffer, the JNI call is used.
 */
public final class IoBuffers {
    /** The most one call moves through the scratch buffer; a longer heap buffer takes several calls. */
    public static final int SCRATCH_SIZE = 64 * 1024;

    private static final MemoryIO IO = MemoryIO.getInstance();
    private static final ThreadLocal<ByteBuffer> SCRATCH =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(SCRATCH_SIZE));

    /** {@code Unsafe.getLong(Object, long)} bound to the Unsafe instance, or null: use JNI. */
    private static final MethodHandle GET_LONG;
    private static final long ADDRESS_OFFSET;

    static {
        MethodHandle getLong = null;
        long offset = -1;
        if (Runtime.version().feature() < 24) {
            try {
                Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
                Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
                theUnsafe.setAccessible(true);
                Object unsafe = theUnsafe.get(null);
                offset = (long) unsafeClass.getMethod("objectFieldOffset", Field.class)
                        .invoke(unsafe, Buffer.class.getDeclaredField("address"));
                getLong = MethodHandles.lookup()
                        .findVirtual(unsafeClass, "getLong", MethodType.methodType(long.class, Object.class, long.class))
                        .bindTo(unsafe);
                ByteBuffer probe = ByteBuffer.allocateDirect(16).position(3).slice();
                if ((long) getLong.invokeExact((Object) probe, offset) != IO.getDirectBufferAddress(probe)) {
                    getLong = null; // a JDK whose Buffer keeps something else in 'address'
                }
            } catch (Throwable unavailable) {
                getLong = null; // no jdk.unsupported, a security manager, a renamed field: JNI it is
            }
        }
        GET_LONG = getLong;
        ADDRESS_OFFSET = offset;
    }

    private IoBuffers() {
    }

    /**
     * Returns the address of a direct buffer's position.
     *
     * @param buffer a direct buffer
     * @return its address plus position
     */
    public static long address(ByteBuffer buffer) {
        MethodHandle getLong = GET_LONG;
        if (getLong != null) {
            try {
                return (long) getLong.invokeExact((Object) buffer, ADDRESS_OFFSET) + buffer.position();
            } catch (Throwable impossible) {
                throw new AssertionError("Unsafe.getLong cannot throw", impossible);
            }
        }
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
