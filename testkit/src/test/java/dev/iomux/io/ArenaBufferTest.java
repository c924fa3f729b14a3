package dev.iomux.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import dev.iomux.testing.Async;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Direct buffers whose memory belongs to a {@code java.lang.foreign.Arena} (JDK 22+): closing the arena
 * frees the memory while the {@link ByteBuffer} object lives on. Handing such a buffer's address to the
 * kernel would let read(2) write into freed memory (heap corruption) and write(2) send it. The JDK's own
 * channels refuse a closed arena's buffer with IllegalStateException("Already closed") and keep a shared
 * arena from being closed while a call uses its memory; iomux must do the same on every call that passes a
 * buffer to the kernel: {@link Descriptors#read(int, ByteBuffer)}, {@link Descriptors#write(int, ByteBuffer)},
 * {@link Sockets#recv(int, ByteBuffer, int)} and {@link Sockets#send(int, ByteBuffer, int)}.
 *
 * <p>Skipped below JDK 22, which has no final Arena. The tests compile for Java 17, so Arena is reached
 * through reflection.
 */
@ExtendWith(LeakCheck.class)
class ArenaBufferTest {
    private static final long WAIT_NANOS = 10_000_000_000L;
    private static final int SIZE = 256;
    /** Where the buffers start in their segment: clear of malloc's bookkeeping at the head of a freed chunk. */
    private static final int OFFSET = 128;

    @BeforeEach
    void needsArenas() {
        assumeTrue(Runtime.version().feature() >= 22, "java.lang.foreign.Arena is final from JDK 22");
    }

    @Test
    void aClosedConfinedArenasBufferIsNotReadInto() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int[] s = fds.socketPair();
            Fds.write(p[1], 3);
            Fds.write(s[0], 3);
            Object arena = Arenas.ofConfined();
            ByteBuffer dst = Arenas.buffer(arena, SIZE).position(OFFSET);
            Arenas.close(arena);

            assertClosed(() -> Descriptors.read(p[0], dst));
            assertClosed(() -> Sockets.recv(s[1], dst, 0));
            assertClosed(() -> Sockets.recv(s[1], dst, Sockets.MSG_PEEK));
            assertThat(dst.position()).isEqualTo(OFFSET);
            assertThat(Sockets.available(p[0])).as("the pipe's bytes are still queued").isEqualTo(3);
            assertThat(Sockets.available(s[1])).as("the socket's bytes are still queued").isEqualTo(3);
        }
    }

    @Test
    void aClosedConfinedArenasBufferIsNotWrittenFrom() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int[] s = fds.socketPair();
            Object arena = Arenas.ofConfined();
            ByteBuffer src = Arenas.buffer(arena, SIZE).position(OFFSET);
            Arenas.close(arena);

            assertClosed(() -> Descriptors.write(p[1], src));
            assertClosed(() -> Sockets.send(s[0], src, 0));
            assertClosed(() -> Sockets.send(s[0], src, Sockets.MSG_DONTWAIT));
            assertThat(src.position()).isEqualTo(OFFSET);
            assertThat(Sockets.available(p[0])).as("nothing reached the pipe").isZero();
            assertThat(Sockets.available(s[1])).as("nothing reached the peer").isZero();
        }
    }

    @Test
    void aClosedSharedArenasBufferIsRefusedToo() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            Fds.write(p[1], 2);
            Object arena = Arenas.ofShared();
            ByteBuffer buf = Arenas.buffer(arena, SIZE).position(OFFSET);
            Arenas.close(arena);
            assertClosed(() -> Descriptors.read(p[0], buf));
            assertClosed(() -> Descriptors.write(p[1], buf));
            assertThat(Sockets.available(p[0])).isEqualTo(2);
        }
    }

    /**
     * A shared arena closed by another thread while a read into its memory waits in the kernel: the close
     * is refused (IllegalStateException, the arena stays open) and the read completes into live memory.
     * The read is on a blocking pipe, so it is in the kernel for as long as the test wants.
     */
    @Test
    void aSharedArenaCannotBeClosedWhileAReadIntoItWaitsInTheKernel() throws Exception {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            Descriptors.setNonBlocking(p[0], false);
            Object arena = Arenas.ofShared();
            ByteBuffer dst = Arenas.buffer(arena, SIZE).position(OFFSET);
            AtomicReference<String> task = new AtomicReference<>();
            CountDownLatch calling = new CountDownLatch(1);
            CompletableFuture<Integer> reader = Async.supply(() -> {
                try {
                    task.set(Files.readSymbolicLink(Path.of("/proc/thread-self")).toString());
                    calling.countDown();
                    return Descriptors.read(p[0], dst);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            assertThat(calling.await(10, TimeUnit.SECONDS)).isTrue();
            awaitAsleepInTheKernel(task.get());

            Throwable closing = catchThrowable(() -> Arenas.close(arena));
            if (closing == null) {
                // The memory the read waits to fill is freed: end the read without data, then fail.
                fds.close(p[1]);
                Integer n = reader.get(10, TimeUnit.SECONDS);
                fail("the shared arena was closed while read(2) waited to write into it (the read then "
                        + "returned " + n + "): the kernel would have written into freed memory");
            }
            assertThat(closing).as("closing the arena during the read")
                    .isInstanceOf(IllegalStateException.class);
            System.out.println("arena: a close during the read was refused: " + closing);
            assertThat(reader).as("the read still waits").isNotDone();

            Fds.write(p[1], "hello".getBytes(StandardCharsets.US_ASCII));
            assertThat(reader.get(10, TimeUnit.SECONDS)).isEqualTo(5);
            assertThat(dst.position()).isEqualTo(OFFSET + 5);
            byte[] got = new byte[5];
            dst.get(OFFSET, got); // the arena is still open: its memory is readable
            assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("hello");
            Arenas.close(arena); // and closes once the call is over
            assertThat(Arenas.isAlive(arena)).isFalse();
        }
    }

    /** Buffers of an open arena work like any direct buffer: position, limit, read-only checks. */
    @Test
    void anOpenArenasBufferWorksWithItsPositionAndLimit() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int[] s = fds.socketPair();
            Object arena = Arenas.ofConfined();
            try {
                ByteBuffer src = Arenas.buffer(arena, SIZE);
                src.put(0, "..hello..".getBytes(StandardCharsets.US_ASCII)).position(2).limit(7);
                assertThat(Descriptors.write(p[1], src)).isEqualTo(5);
                assertThat(src.position()).isEqualTo(7);
                ByteBuffer dst = Arenas.buffer(arena, SIZE).position(10).limit(13);
                assertThat(Descriptors.read(p[0], dst)).as("three bytes of room").isEqualTo(3);
                assertThat(dst.position()).isEqualTo(13);
                assertThat(Sockets.available(p[0])).isEqualTo(2);
                byte[] got = new byte[3];
                dst.get(10, got);
                assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("hel");

                ByteBuffer readOnly = src.duplicate().position(2).asReadOnlyBuffer();
                assertThat(Sockets.send(s[0], readOnly, 0)).as("sending from a read-only buffer").isEqualTo(5);
                assertThatThrownBy(() -> Sockets.recv(s[1], readOnly.clear(), 0))
                        .isInstanceOf(ReadOnlyBufferException.class);
                ByteBuffer in = Arenas.buffer(arena, 8);
                assertThat(Sockets.recv(s[1], in, Sockets.MSG_PEEK)).isEqualTo(5);
                assertThat(Sockets.recv(s[1], in.clear(), 0)).isEqualTo(5);
                assertThat(Sockets.recv(s[1], in.clear(), 0)).isEqualTo(Descriptors.WOULD_BLOCK);
            } finally {
                Arenas.close(arena);
            }
        }
    }

    /** Buffers of no arena go on as before: allocateDirect (a slice, read-only for writing), heap. */
    @Test
    void ordinaryDirectAndHeapBuffersAreUnaffected() throws IOException {
        try (Fds fds = new Fds()) {
            int[] s = fds.socketPair();
            ByteBuffer direct = ByteBuffer.allocateDirect(32).put("0123456789".getBytes(StandardCharsets.US_ASCII));
            ByteBuffer slice = direct.flip().position(4).slice(); // "456789"
            assertThat(Sockets.send(s[0], slice.asReadOnlyBuffer(), 0)).isEqualTo(6);
            assertThat(Descriptors.write(s[0], ByteBuffer.wrap(new byte[] {'!'}).asReadOnlyBuffer())).isOne();
            ByteBuffer heap = ByteBuffer.allocate(3);
            assertThat(Descriptors.read(s[1], heap)).isEqualTo(3);
            ByteBuffer into = ByteBuffer.allocateDirect(16).position(5).slice();
            assertThat(Sockets.recv(s[1], into, 0)).isEqualTo(4);
            assertThat(new String(heap.array(), StandardCharsets.US_ASCII)).isEqualTo("456");
            byte[] rest = new byte[4];
            into.flip().get(rest);
            assertThat(new String(rest, StandardCharsets.US_ASCII)).isEqualTo("789!");
            assertThatThrownBy(() -> Descriptors.read(s[1], ByteBuffer.allocateDirect(4).asReadOnlyBuffer()))
                    .isInstanceOf(ReadOnlyBufferException.class);
        }
    }

    /** A confined arena's buffer used by another thread is refused as the JDK's channels refuse it. */
    @Test
    void aConfinedArenasBufferFromAnotherThreadIsRefused() throws Exception {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            Fds.write(p[1], 1);
            Object arena = Arenas.ofConfined();
            try {
                ByteBuffer dst = Arenas.buffer(arena, SIZE);
                Throwable t = Async.supply(() -> catchThrowable(() -> Descriptors.read(p[0], dst)))
                        .get(10, TimeUnit.SECONDS);
                assertThat(t).isNotNull();
                assertThat(t.getClass().getName()).isEqualTo("java.lang.WrongThreadException");
                assertThat(Sockets.available(p[0])).isOne();
            } finally {
                Arenas.close(arena);
            }
        }
    }

    private static void assertClosed(IoCall call) {
        Object returned;
        try {
            returned = call.run();
        } catch (Throwable t) {
            assertThat(t).as("a call with a closed arena's buffer").isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Already closed");
            return;
        }
        fail("a call with a closed arena's buffer returned " + returned + " instead of refusing the buffer");
    }

    /**
     * Waits until the thread named by /proc/thread-self's target ({@code PID/task/TID}) has been asleep
     * (state S, proc(5)) for five looks in a row, 20 ms apart: it is blocked in the system call.
     */
    private static void awaitAsleepInTheKernel(String threadSelf) throws IOException, InterruptedException {
        Path stat = Path.of("/proc", threadSelf, "stat");
        long deadline = System.nanoTime() + WAIT_NANOS;
        int asleep = 0;
        while (asleep < 5) {
            assertThat(System.nanoTime()).as("thread %s never blocked", threadSelf).isLessThan(deadline);
            String line = Files.readString(stat);
            char state = line.charAt(line.lastIndexOf(')') + 2);
            asleep = state == 'S' ? asleep + 1 : 0;
            Thread.sleep(20);
        }
    }

    private interface IoCall {
        Object run() throws IOException;
    }

    /** java.lang.foreign.Arena, reached through reflection (the tests compile for Java 17). */
    private static final class Arenas {
        private Arenas() {
        }

        static Object ofConfined() {
            return invoke(method("java.lang.foreign.Arena", "ofConfined"), null);
        }

        static Object ofShared() {
            return invoke(method("java.lang.foreign.Arena", "ofShared"), null);
        }

        /** {@code arena.allocate(size).asByteBuffer()}. */
        static ByteBuffer buffer(Object arena, long size) {
            Object segment = invoke(method("java.lang.foreign.Arena", "allocate", long.class), arena, size);
            return (ByteBuffer) invoke(method("java.lang.foreign.MemorySegment", "asByteBuffer"), segment);
        }

        static void close(Object arena) {
            invoke(method("java.lang.foreign.Arena", "close"), arena);
        }

        static boolean isAlive(Object arena) {
            Object scope = invoke(method("java.lang.foreign.Arena", "scope"), arena);
            return (Boolean) invoke(method("java.lang.foreign.MemorySegment$Scope", "isAlive"), scope);
        }

        private static Method method(String type, String name, Class<?>... parameters) {
            try {
                return Class.forName(type).getMethod(name, parameters);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Invokes, rethrowing what the method threw (IllegalStateException from close) as itself. */
        private static Object invoke(Method m, Object target, Object... args) {
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException) {
                    throw (RuntimeException) cause;
                }
                throw new IllegalStateException(cause);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
