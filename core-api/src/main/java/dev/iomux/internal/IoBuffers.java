package dev.iomux.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

import com.kenai.jffi.MemoryIO;

/**
 * Turns {@link ByteBuffer}s into addresses for read, write, recv and send.
 *
 * <p>Internal. A direct buffer is passed in place, at its position: on JDK 22 and later as a memory
 * segment through {@link ForeignIo}, which keeps an Arena's memory alive for the call, and below that as
 * the address {@link #address(ByteBuffer)} returns. A heap buffer cannot be passed in place: the garbage
 * collector moves it. Its bytes go through native scratch memory instead, taken for one call and given
 * back: {@link #takeScratch(int)} and {@link #release(Scratch)}.
 *
 * <p>Scratch memory is sized to the transfer, a power of two from {@link #MIN_SCRATCH} to
 * {@link #SCRATCH_SIZE} bytes, and kept between calls in one pool for the whole process holding at most
 * {@link #SCRATCH_POOL_BYTES}; what does not fit is freed at once. Memory is held per call in flight, not
 * per thread: a thread-local 64 KiB buffer, as this class had, held 125 MiB for 2,000 virtual threads
 * that had each written one byte. The JDK's own temporary buffers (sun.nio.ch.Util) are also sized to the
 * transfer and allocated outside the direct-buffer pool, but cached per carrier thread, up to 16 each.
 * The scratch memory is malloc'd and freed explicitly, so it shows in {@link #scratchBytes()}, not in the
 * "direct" BufferPoolMXBean.
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
    /** The most one call moves through scratch memory; a longer heap buffer takes several calls. */
    public static final int SCRATCH_SIZE = 64 * 1024;
    /** The least scratch memory a call takes: a transfer of fewer bytes is rounded up to this. */
    public static final int MIN_SCRATCH = 1024;
    /** The most scratch memory kept for reuse between calls, process-wide. */
    public static final long SCRATCH_POOL_BYTES = 1024 * 1024;

    private static final MemoryIO IO = MemoryIO.getInstance();
    private static final int MIN_SHIFT = Integer.numberOfTrailingZeros(MIN_SCRATCH);
    private static final int CLASSES = Integer.numberOfTrailingZeros(SCRATCH_SIZE) - MIN_SHIFT + 1;

    /** Free scratch blocks by size class (MIN_SCRATCH << index), guarded by itself. */
    private static final ArrayDeque<?>[] POOL = new ArrayDeque<?>[CLASSES];
    private static long pooledBytes; // guarded by POOL
    private static final AtomicLong SCRATCH_BYTES = new AtomicLong();

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
        for (int i = 0; i < CLASSES; i++) {
            POOL[i] = new ArrayDeque<Scratch>();
        }
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
     * Takes native scratch memory for one transfer, from the pool or newly allocated. Give it back with
     * {@link #release(Scratch)} once the call is over, in a finally block.
     *
     * @param bytes how many bytes the call moves, 1 to {@link #SCRATCH_SIZE}
     * @return scratch memory of at least {@code bytes} bytes, used by this caller alone until released
     */
    public static Scratch takeScratch(int bytes) {
        if (bytes <= 0 || bytes > SCRATCH_SIZE) {
            throw new IllegalArgumentException("scratch size must be 1.." + SCRATCH_SIZE + ", got " + bytes);
        }
        int wanted = sizeClass(bytes);
        synchronized (POOL) {
            for (int c = wanted; c < CLASSES; c++) { // a larger free block beats a new allocation
                Scratch s = pool(c).pollLast();
                if (s != null) {
                    pooledBytes -= s.size;
                    return s;
                }
            }
        }
        return new Scratch(MIN_SCRATCH << wanted);
    }

    /**
     * Gives scratch memory back: into the pool while it holds less than {@link #SCRATCH_POOL_BYTES},
     * otherwise freed at once. The caller must not use it afterwards.
     *
     * @param scratch what {@link #takeScratch(int)} returned
     */
    public static void release(Scratch scratch) {
        synchronized (POOL) {
            if (pooledBytes + scratch.size <= SCRATCH_POOL_BYTES) {
                pooledBytes += scratch.size;
                pool(sizeClass(scratch.size)).addLast(scratch);
                return;
            }
        }
        scratch.free();
    }

    /**
     * Returns the bytes of scratch memory allocated and not yet freed, process-wide: what the pool keeps
     * plus what calls in flight hold.
     *
     * @return the byte count
     */
    public static long scratchBytes() {
        return SCRATCH_BYTES.get();
    }

    /** The size class of a transfer: the index of the smallest power of two, from MIN_SCRATCH, that holds it. */
    private static int sizeClass(int bytes) {
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(bytes, MIN_SCRATCH) - 1);
        return shift - MIN_SHIFT;
    }

    @SuppressWarnings("unchecked")
    private static ArrayDeque<Scratch> pool(int sizeClass) {
        return (ArrayDeque<Scratch>) POOL[sizeClass];
    }

    /** A block of native scratch memory with a direct buffer over it. Not zeroed: every use fills it first. */
    public static final class Scratch {
        private final long address;
        private final int size;
        private final ByteBuffer view;

        private Scratch(int size) {
            long a = IO.allocateMemory(size, false);
            if (a == 0) {
                throw new OutOfMemoryError("could not allocate " + size + " bytes of scratch memory");
            }
            this.address = a;
            this.size = size;
            this.view = IO.newDirectByteBuffer(a, size);
            SCRATCH_BYTES.addAndGet(size);
        }

        /** @return the block's address, to pass to a system call */
        public long address() {
            return address;
        }

        /**
         * Returns the block's first bytes as a buffer, position 0.
         *
         * @param length how many bytes, at most the block's size
         * @return a buffer over them, shared by every call on this block
         */
        public ByteBuffer buffer(int length) {
            return view.clear().limit(length);
        }

        private void free() {
            IO.freeMemory(address);
            SCRATCH_BYTES.addAndGet(-size);
        }
    }
}
