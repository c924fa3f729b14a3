package dev.iomux.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Array;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * read, write, recv and send on a direct {@link ByteBuffer} through {@code java.lang.foreign} (JDK 22+),
 * which keeps the buffer's memory alive for the length of the call.
 *
 * <p>Internal. From JDK 22 a direct buffer can be a view of a {@code MemorySegment} whose {@code Arena}
 * the program closes: the memory is freed and the buffer object lives on. Passing its address to the
 * kernel as a number, as jnr-ffi does, lets read(2) write into freed memory and write(2) send it; a
 * check that the arena is alive before the call does not help, since another thread can close a shared
 * arena between the check and the call. A downcall handle that takes the buffer's segment
 * ({@code MemorySegment.ofBuffer}, which spans position to limit) as an address argument does what the
 * JDK's own channels do: it throws {@link IllegalStateException} ("Already closed") if the arena is
 * closed, {@code WrongThreadException} for a confined arena's buffer used by another thread, and keeps
 * the arena's scope acquired during the call, so that closing a shared arena meanwhile fails with
 * IllegalStateException instead of freeing the memory under the kernel (Linker.downcallHandle's
 * guarantees for address arguments).
 *
 * <p>iomux is compiled for Java 17, so the handles are built once, here, through reflection and
 * {@code java.lang.invoke}, with {@code MemorySegment} erased to {@code Object} in their types; the call
 * sites are ordinary {@code invokeExact} on constant handles, which the JIT inlines. Below JDK 22 (no
 * Arena outside preview) or if linking fails, {@link #AVAILABLE} is false and iomux passes addresses
 * through jnr-ffi as before; {@link #unavailabilityCause()} says why. errno is captured by the downcall
 * itself ({@code Linker.Option.captureCallState("errno")}) into a small per-thread native segment, since
 * the JVM may overwrite errno before Java code could read it.
 *
 * <p>read and write go through {@code syscall(2)} where {@link Native#DIRECT_SYSCALLS} says so, as the
 * jnr-ffi path does, and through libc otherwise; recv and send through libc.
 */
public final class ForeignIo {
    /** Whether the handles were built: JDK 22 or later and linking succeeded. */
    public static final boolean AVAILABLE;

    /** (Object capture, int fd, ByteBuffer buf, long count) long: read(2). */
    private static final MethodHandle READ;
    /** The same for write(2). */
    private static final MethodHandle WRITE;
    /** (Object capture, int fd, ByteBuffer buf, long count, int flags) long: recv(2). */
    private static final MethodHandle RECV;
    /** The same for send(2). */
    private static final MethodHandle SEND;
    /** (Object capture) int: the errno the last downcall captured. */
    private static final MethodHandle ERRNO;
    /** () Object: a new capture segment, allocated in an automatic arena (freed once unreachable). */
    private static final MethodHandle NEW_CAPTURE;
    private static final ThreadLocal<Object> CAPTURE;
    private static final Throwable UNAVAILABLE;

    static {
        MethodHandle[] handles = null;
        Throwable cause = null;
        if (Runtime.version().feature() < 22) {
            cause = new UnsupportedOperationException("java.lang.foreign is final from JDK 22; this is JDK "
                    + Runtime.version().feature());
        } else if (Native.unavailabilityCause() != null) {
            cause = Native.unavailabilityCause();
        } else {
            try {
                handles = link();
            } catch (Throwable t) {
                cause = t;
            }
        }
        AVAILABLE = handles != null;
        UNAVAILABLE = cause;
        READ = AVAILABLE ? handles[0] : null;
        WRITE = AVAILABLE ? handles[1] : null;
        RECV = AVAILABLE ? handles[2] : null;
        SEND = AVAILABLE ? handles[3] : null;
        ERRNO = AVAILABLE ? handles[4] : null;
        NEW_CAPTURE = AVAILABLE ? handles[5] : null;
        CAPTURE = AVAILABLE ? ThreadLocal.withInitial(ForeignIo::newCapture) : null;
    }

    private ForeignIo() {
    }

    /**
     * Returns why {@link #AVAILABLE} is false.
     *
     * @return the reason, or null when available
     */
    public static Throwable unavailabilityCause() {
        return UNAVAILABLE;
    }

    /**
     * read(2), or recv(2) with {@code flags}, into a direct buffer from its position, EINTR retried. The
     * buffer's position is not changed.
     *
     * @param fd    the descriptor
     * @param dst   a direct buffer with {@code count} bytes remaining
     * @param count how many bytes at most
     * @param recv  recv(2) instead of read(2)
     * @param flags recv's flags
     * @return the count, or minus the errno
     * @throws IllegalStateException if the buffer's arena is closed, or being closed
     */
    public static long in(int fd, ByteBuffer dst, int count, boolean recv, int flags) {
        return call(READ, RECV, fd, dst, count, recv, flags);
    }

    /**
     * write(2), or send(2) with {@code flags}, from a direct buffer at its position, EINTR retried. The
     * buffer's position is not changed.
     *
     * @param fd    the descriptor
     * @param src   a direct buffer with {@code count} bytes remaining
     * @param count how many bytes
     * @param send  send(2) instead of write(2)
     * @param flags send's flags
     * @return the count, or minus the errno
     * @throws IllegalStateException if the buffer's arena is closed, or being closed
     */
    public static long out(int fd, ByteBuffer src, int count, boolean send, int flags) {
        return call(WRITE, SEND, fd, src, count, send, flags);
    }

    /** One downcall, EINTR retried; inlined into {@link #in} and {@link #out}, whose handles are constants. */
    private static long call(MethodHandle plain, MethodHandle flagged, int fd, ByteBuffer buffer, int count,
            boolean withFlags, int flags) {
        Object capture = CAPTURE.get();
        try {
            for (;;) {
                long n = withFlags ? (long) flagged.invokeExact(capture, fd, buffer, (long) count, flags)
                        : (long) plain.invokeExact(capture, fd, buffer, (long) count);
                if (n >= 0) {
                    return n;
                }
                int errno = (int) ERRNO.invokeExact(capture);
                if (errno != Linux.EINTR) {
                    return -errno;
                }
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable impossible) {
            throw new AssertionError("a downcall threw a checked exception", impossible);
        }
    }

    private static Object newCapture() {
        try {
            return (Object) NEW_CAPTURE.invokeExact();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable impossible) {
            throw new AssertionError(impossible);
        }
    }

    /** Builds {READ, WRITE, RECV, SEND, ERRNO, NEW_CAPTURE}; any failure means "not available". */
    private static MethodHandle[] link() throws Throwable {
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
        Class<?> layout = Class.forName("java.lang.foreign.MemoryLayout");
        Class<?> valueLayout = Class.forName("java.lang.foreign.ValueLayout");
        Class<?> descriptor = Class.forName("java.lang.foreign.FunctionDescriptor");
        Class<?> linkerClass = Class.forName("java.lang.foreign.Linker");
        Class<?> option = Class.forName("java.lang.foreign.Linker$Option");
        Class<?> symbols = Class.forName("java.lang.foreign.SymbolLookup");
        Class<?> pathElement = Class.forName("java.lang.foreign.MemoryLayout$PathElement");
        Class<?> arena = Class.forName("java.lang.foreign.Arena");

        Object linker = linkerClass.getMethod("nativeLinker").invoke(null);
        Object libc = linkerClass.getMethod("defaultLookup").invoke(linker);
        Object jint = valueLayout.getField("JAVA_INT").get(null);
        Object jlong = valueLayout.getField("JAVA_LONG").get(null);
        Object address = valueLayout.getField("ADDRESS").get(null);

        // errno: where captureCallState writes it, and a getter (MemorySegment.get(JAVA_INT, offset)).
        Object stateLayout = option.getMethod("captureStateLayout").invoke(null);
        Object errnoPath = Array.newInstance(pathElement, 1);
        Array.set(errnoPath, 0, pathElement.getMethod("groupElement", String.class).invoke(null, "errno"));
        long errnoOffset = (long) layout.getMethod("byteOffset", errnoPath.getClass()).invoke(stateLayout, errnoPath);
        Class<?> ofInt = Class.forName("java.lang.foreign.ValueLayout$OfInt");
        MethodHandle get = lookup.findVirtual(segment, "get", MethodType.methodType(int.class, ofInt, long.class));
        MethodHandle errno = MethodHandles.insertArguments(get, 1, jint, errnoOffset)
                .asType(MethodType.methodType(int.class, Object.class));

        // A capture segment: Arena.ofAuto().allocate(stateLayout).
        Object autoArena = arena.getMethod("ofAuto").invoke(null);
        MethodHandle allocate = lookup.findVirtual(arena, "allocate", MethodType.methodType(segment, layout));
        MethodHandle newCapture = MethodHandles.insertArguments(allocate, 0, autoArena, stateLayout)
                .asType(MethodType.methodType(Object.class));

        Object captureErrno = Array.newInstance(option, 1);
        Array.set(captureErrno, 0, option.getMethod("captureCallState", String[].class)
                .invoke(null, (Object) new String[] {"errno"}));
        MethodHandle ofBuffer = lookup.findStatic(segment, "ofBuffer", MethodType.methodType(segment, Buffer.class))
                .asType(MethodType.methodType(segment, ByteBuffer.class));
        Linking l = new Linking(linker, libc, linkerClass, symbols, layout, descriptor, segment);

        MethodHandle read;
        MethodHandle write;
        if (Native.DIRECT_SYSCALLS) {
            // long syscall(long number, ...): variadic from the second argument (syscall(2)).
            Object variadic = Array.newInstance(option, 2);
            Array.set(variadic, 0, Array.get(captureErrno, 0));
            Array.set(variadic, 1, option.getMethod("firstVariadicArg", int.class).invoke(null, 1));
            MethodHandle syscall = l.downcall("syscall", variadic, jlong, jlong, jlong, address, jlong);
            read = MethodHandles.insertArguments(syscall, 1, Native.SYS_READ);
            write = MethodHandles.insertArguments(syscall, 1, Native.SYS_WRITE);
        } else {
            read = l.downcall("read", captureErrno, jlong, jint, address, jlong);
            write = l.downcall("write", captureErrno, jlong, jint, address, jlong);
        }
        MethodHandle recv = l.downcall("recv", captureErrno, jlong, jint, address, jlong, jint);
        MethodHandle send = l.downcall("send", captureErrno, jlong, jint, address, jlong, jint);

        // (MemorySegment capture, fd, MemorySegment buf, ...) -> (Object capture, int fd, ByteBuffer buf, ...)
        MethodType io = MethodType.methodType(long.class, Object.class, int.class, ByteBuffer.class, long.class);
        MethodType ioFlags = io.appendParameterTypes(int.class);
        return new MethodHandle[] {
            MethodHandles.filterArguments(read, 2, ofBuffer).asType(io),
            MethodHandles.filterArguments(write, 2, ofBuffer).asType(io),
            MethodHandles.filterArguments(recv, 2, ofBuffer).asType(ioFlags),
            MethodHandles.filterArguments(send, 2, ofBuffer).asType(ioFlags),
            errno,
            newCapture,
        };
    }

    /** The reflective pieces needed to link one libc function. */
    private static final class Linking {
        private final Object linker;
        private final Object libc;
        private final Class<?> linkerClass;
        private final Class<?> symbols;
        private final Class<?> layout;
        private final Class<?> descriptor;
        private final Class<?> segment;

        Linking(Object linker, Object libc, Class<?> linkerClass, Class<?> symbols, Class<?> layout,
                Class<?> descriptor, Class<?> segment) {
            this.linker = linker;
            this.libc = libc;
            this.linkerClass = linkerClass;
            this.symbols = symbols;
            this.layout = layout;
            this.descriptor = descriptor;
            this.segment = segment;
        }

        /** {@code linker.downcallHandle(libc.find(name).get(), FunctionDescriptor.of(result, arguments), options)}. */
        MethodHandle downcall(String name, Object options, Object result, Object... arguments) throws Exception {
            Optional<?> symbol = (Optional<?>) symbols.getMethod("find", String.class).invoke(libc, name);
            Object target = symbol.orElseThrow(() -> new UnsupportedOperationException("libc has no " + name));
            Object argumentLayouts = Array.newInstance(layout, arguments.length);
            for (int i = 0; i < arguments.length; i++) {
                Array.set(argumentLayouts, i, arguments[i]);
            }
            Object function = descriptor.getMethod("of", layout, argumentLayouts.getClass())
                    .invoke(null, result, argumentLayouts);
            return (MethodHandle) linkerClass.getMethod("downcallHandle", segment, descriptor, options.getClass())
                    .invoke(linker, target, function, options);
        }
    }
}
