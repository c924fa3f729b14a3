package dev.iomux.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.iomux.NativeIOException;
import dev.iomux.internal.IoBuffers;
import dev.iomux.internal.Linux;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Descriptors} against the real kernel: pipes, eventfds, files, read/write through every buffer kind,
 * the errno reporting, dup/dup2 and the descriptor limits.
 */
@ExtendWith(LeakCheck.class)
class DescriptorsTest {
    private static final long WAIT_NANOS = 10_000_000_000L;

    @TempDir
    Path tmp;

    // ---------------------------------------------------------------- pipes, flags

    /** pipe2(2) with O_NONBLOCK|O_CLOEXEC: both ends non-blocking and close-on-exec. */
    @Test
    void pipeEndsAreNonBlockingAndCloseOnExec() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            assertThat(p[0]).isNotEqualTo(p[1]);
            for (int fd : p) {
                assertThat(fd).isNotNegative();
                assertThat(Descriptors.isOpen(fd)).isTrue();
                assertThat(Descriptors.isNonBlocking(fd)).as("fd %d non-blocking", fd).isTrue();
                assertThat(closeOnExec(fd)).as("fd %d close-on-exec", fd).isTrue();
            }
            // The ends are the read and the write end, in that order (pipe(2)).
            assertThat(fdinfoFlags(p[0]) & 3).isEqualTo(Linux.O_RDONLY);
            assertThat(fdinfoFlags(p[1]) & 3).isEqualTo(Linux.O_WRONLY);
        }
    }

    @Test
    void setNonBlockingRoundTrip() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int file = fds.regularFile();
            assertThat(Descriptors.isNonBlocking(file)).isFalse(); // open(2) without O_NONBLOCK

            Descriptors.setNonBlocking(p[0], false);
            assertThat(Descriptors.isNonBlocking(p[0])).isFalse();
            assertThat(Descriptors.isNonBlocking(p[1])).isTrue(); // the other end keeps its own flags
            Descriptors.setNonBlocking(p[0], false); // no change: no error
            assertThat(Descriptors.isNonBlocking(p[0])).isFalse();
            Descriptors.setNonBlocking(p[0], true);
            assertThat(Descriptors.isNonBlocking(p[0])).isTrue();

            Descriptors.setNonBlocking(file, true);
            assertThat(Descriptors.isNonBlocking(file)).isTrue();
            assertThat(fdinfoFlags(file) & 3).as("access mode kept").isEqualTo(Linux.O_RDWR);
            Descriptors.setNonBlocking(file, false);
            assertThat(Descriptors.isNonBlocking(file)).isFalse();
        }
    }

    @Test
    void flagCallsOnAClosedDescriptorFailEbadf() throws IOException {
        int fd = freeHighFd();
        NativeIOException e = nativeFailure(() -> Descriptors.isNonBlocking(fd));
        assertThat(e.errno()).isEqualTo(Linux.EBADF);
        assertThat(e.getMessage()).contains("fcntl", "F_GETFL", "fd=" + fd).endsWith(": EBADF (Bad file descriptor)");
        e = nativeFailure(() -> Descriptors.setNonBlocking(fd, true));
        assertThat(e.errno()).isEqualTo(Linux.EBADF);
    }

    // ---------------------------------------------------------------- read and write

    @Test
    void heapDirectAndArrayTransfersThroughAPipe() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();

            // Heap source from a non-zero position and array offset; direct target at a non-zero position.
            byte[] backing = "..hello world..".getBytes(StandardCharsets.US_ASCII);
            ByteBuffer heap = ByteBuffer.wrap(backing, 2, 11).slice(); // "hello world", arrayOffset 2
            heap.position(6); // "world"
            assertThat(Descriptors.write(p[1], heap)).isEqualTo(5);
            assertThat(heap.position()).isEqualTo(11);
            assertThat(heap.hasRemaining()).isFalse();

            ByteBuffer direct = ByteBuffer.allocateDirect(16);
            direct.position(3);
            assertThat(Descriptors.read(p[0], direct)).isEqualTo(5);
            assertThat(direct.position()).isEqualTo(8);
            direct.flip().position(3);
            assertThat(StandardCharsets.US_ASCII.decode(direct).toString()).isEqualTo("world");

            // Direct source at a position, heap target with a limit smaller than what is queued.
            ByteBuffer src = ByteBuffer.allocateDirect(10);
            src.put("0123456789".getBytes(StandardCharsets.US_ASCII)).flip().position(2);
            assertThat(Descriptors.write(p[1], src)).isEqualTo(8);
            ByteBuffer dst = ByteBuffer.allocate(10);
            dst.position(1).limit(4);
            assertThat(Descriptors.read(p[0], dst)).isEqualTo(3); // only the 3 bytes of room
            assertThat(dst.position()).isEqualTo(4);
            assertThat(Arrays.copyOfRange(dst.array(), 0, 5)).containsExactly(0, '2', '3', '4', 0);

            // byte[] with offsets: the remaining "56789".
            byte[] out = new byte[9];
            assertThat(Descriptors.read(p[0], out, 2, 7)).isEqualTo(5);
            assertThat(new String(out, 2, 5, StandardCharsets.US_ASCII)).isEqualTo("56789");
            assertThat(out[0]).isZero();
            assertThat(out[7]).isZero();

            byte[] in = "abcdefgh".getBytes(StandardCharsets.US_ASCII);
            assertThat(Descriptors.write(p[1], in, 3, 4)).isEqualTo(4); // "defg"
            assertThat(Descriptors.read(p[0], out, 0, 9)).isEqualTo(4);
            assertThat(new String(out, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("defg");
        }
    }

    @Test
    void arrayBoundsAreChecked() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            assertThatThrownBy(() -> Descriptors.write(p[1], new byte[4], 2, 3))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> Descriptors.read(p[0], new byte[4], -1, 2))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(Sockets.available(p[0])).as("nothing was written").isZero();
        }
    }

    @Test
    void emptyBuffersTransferNothing() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            assertThat(Descriptors.write(p[1], ByteBuffer.allocate(0))).isZero();
            Fds.write(p[1], 3);
            ByteBuffer full = ByteBuffer.allocate(4);
            full.position(4);
            assertThat(Descriptors.read(p[0], full)).isZero(); // no room: 0, data stays queued
            assertThat(Sockets.available(p[0])).isEqualTo(3);
        }
    }

    @Test
    void readIntoAReadOnlyBufferIsRefused() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            Fds.write(p[1], 2);
            assertThatThrownBy(() -> Descriptors.read(p[0], ByteBuffer.allocate(4).asReadOnlyBuffer()))
                    .isInstanceOf(ReadOnlyBufferException.class);
            assertThatThrownBy(() -> Descriptors.read(p[0], ByteBuffer.allocateDirect(4).asReadOnlyBuffer()))
                    .isInstanceOf(ReadOnlyBufferException.class);
            assertThat(Sockets.available(p[0])).as("nothing was consumed").isEqualTo(2);
            // Writing from a read-only buffer is fine.
            ByteBuffer ro = ByteBuffer.wrap(new byte[] {1, 2, 3}).asReadOnlyBuffer();
            assertThat(Descriptors.write(p[1], ro)).isEqualTo(3);
        }
    }

    /** read(2) on an empty non-blocking pipe fails EAGAIN (pipe(7)); once the writer is gone it returns 0. */
    @Test
    void emptyPipeWouldBlockThenEndOfStreamAfterWriterCloses() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            assertThat(Descriptors.read(p[0], ByteBuffer.allocate(8))).isEqualTo(Descriptors.WOULD_BLOCK);
            assertThat(Descriptors.read(p[0], ByteBuffer.allocateDirect(8))).isEqualTo(Descriptors.WOULD_BLOCK);
            assertThat(Descriptors.read(p[0], new byte[8], 0, 8)).isEqualTo(Descriptors.WOULD_BLOCK);

            Fds.write(p[1], new byte[] {7, 8, 9});
            fds.close(p[1]);
            byte[] b = new byte[8];
            assertThat(Descriptors.read(p[0], b, 0, 8)).isEqualTo(3); // queued data first (pipe(7))
            assertThat(b).startsWith(7, 8, 9);
            assertThat(Descriptors.read(p[0], b, 0, 8)).isZero();
            assertThat(Descriptors.read(p[0], ByteBuffer.allocateDirect(8))).isZero();
        }
    }

    /**
     * pipe(7): writing to a pipe whose read end is closed fails EPIPE and raises SIGPIPE; the JVM ignores
     * SIGPIPE, so the process survives to see the errno.
     */
    @Test
    void writeToAPipeWithoutReaderFailsEpipe() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            fds.close(p[0]);
            for (ByteBuffer src : List.of(ByteBuffer.wrap(new byte[] {1}), directOf(new byte[] {1}))) {
                NativeIOException e = nativeFailure(() -> Descriptors.write(p[1], src));
                assertThat(e).as("write must fail").isNotNull();
                assertThat(e.errno()).isEqualTo(32);
                assertThat(e.errnoName()).isEqualTo("EPIPE");
                assertThat(e.syscall()).isEqualTo("write(fd=" + p[1] + ")");
                assertThat(e).hasMessage("write(fd=" + p[1] + "): EPIPE (Broken pipe)");
                assertThat(src.position()).as("nothing written").isZero();
            }
            NativeIOException e = nativeFailure(() -> Descriptors.write(p[1], new byte[2], 0, 2));
            assertThat(e.errno()).isEqualTo(Linux.EPIPE);
        }
    }

    /** read(2) on a directory fails EISDIR: an error other than EAGAIN is thrown, naming read. */
    @Test
    void readFromADirectoryFailsEisdir() throws IOException {
        try (Fds fds = new Fds()) {
            int dir = fds.directory();
            NativeIOException e = nativeFailure(() -> Descriptors.read(dir, ByteBuffer.allocate(4)));
            assertThat(e.errnoName()).isEqualTo("EISDIR");
            assertThat(e.syscall()).isEqualTo("read(fd=" + dir + ")");
        }
    }

    /**
     * A heap buffer goes through native scratch memory of at most 64 KiB per call: a larger one takes several
     * calls, each moving at most {@link IoBuffers#SCRATCH_SIZE} bytes, and the bytes arrive intact and in order.
     */
    @Test
    void heapBufferLargerThanTheScratchBufferIsWrittenAcrossSeveralCalls() throws IOException {
        int total = 5 * IoBuffers.SCRATCH_SIZE + 12_345;
        byte[] data = new byte[total + 7];
        new SplittableRandom(42).nextBytes(data);
        ByteBuffer src = ByteBuffer.wrap(data, 7, total).slice(); // arrayOffset 7: offsets must be honoured
        byte[] received = new byte[total];
        ByteBuffer dst = ByteBuffer.wrap(received);

        try (Fds fds = new Fds()) {
            int[] s = fds.socketPair();
            int writes = 0;
            long deadline = System.nanoTime() + WAIT_NANOS;
            while (dst.hasRemaining()) {
                assertThat(System.nanoTime()).as("transfer stalled at %d of %d", dst.position(), total)
                        .isLessThan(deadline);
                if (src.hasRemaining()) {
                    int before = src.position();
                    int n = Descriptors.write(s[0], src);
                    if (n != Descriptors.WOULD_BLOCK) {
                        writes++;
                        assertThat(n).isPositive().isLessThanOrEqualTo(IoBuffers.SCRATCH_SIZE);
                        assertThat(src.position()).isEqualTo(before + n);
                    }
                }
                int r = Descriptors.read(s[1], dst); // heap target: at most SCRATCH_SIZE per call too
                assertThat(r).isNotZero(); // 0 would be end of stream
                if (r > 0) {
                    assertThat(r).isLessThanOrEqualTo(IoBuffers.SCRATCH_SIZE);
                }
            }
            assertThat(writes).isGreaterThanOrEqualTo((total + IoBuffers.SCRATCH_SIZE - 1) / IoBuffers.SCRATCH_SIZE);
            assertThat(Descriptors.read(s[1], ByteBuffer.allocate(1))).isEqualTo(Descriptors.WOULD_BLOCK);
        }
        assertThat(received).isEqualTo(Arrays.copyOfRange(data, 7, 7 + total));
    }

    // ---------------------------------------------------------------- close, dup, isOpen

    @Test
    void closeOfMinusOneFailsEbadf() {
        NativeIOException e = nativeFailure(() -> Descriptors.close(-1));
        assertThat(e.errno()).isEqualTo(Linux.EBADF);
        assertThat(e.errnoName()).isEqualTo("EBADF");
        assertThat(e).hasMessage("close(fd=-1): EBADF (Bad file descriptor)");
    }

    /**
     * Closing twice fails EBADF the second time. The descriptor is dup2-ed to a high free number, which the
     * kernel never hands out by itself (it picks the lowest free one, open(2)), so no other thread can have
     * reused it between the two closes.
     */
    @Test
    void closeOfAClosedDescriptorFailsEbadf() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int high = freeHighFd();
            Descriptors.dup2(p[0], high);
            fds.track(high);
            assertThat(Descriptors.isOpen(high)).isTrue();
            fds.close(high);
            assertThat(Descriptors.isOpen(high)).isFalse();

            NativeIOException e = nativeFailure(() -> Descriptors.close(high));
            assertThat(e.errno()).isEqualTo(9);
            assertThat(e).hasMessage("close(fd=" + high + "): EBADF (Bad file descriptor)");
            assertThat(Descriptors.isOpen(p[0])).as("the original is not affected").isTrue();
        }
    }

    @Test
    void isOpen() throws IOException {
        assertThat(Descriptors.isOpen(-1)).isFalse();
        assertThat(Descriptors.isOpen(Integer.MIN_VALUE)).isFalse();
        assertThat(Descriptors.isOpen(Integer.MAX_VALUE)).isFalse();
        assertThat(Descriptors.isOpen(freeHighFd())).isFalse();
        try (Fds fds = new Fds()) {
            int ev = fds.track(Descriptors.eventfd(0));
            assertThat(Descriptors.isOpen(ev)).isTrue();
            int high = freeHighFd();
            Descriptors.dup2(ev, high);
            fds.track(high);
            assertThat(Descriptors.isOpen(high)).isTrue();
            fds.close(high);
            assertThat(Descriptors.isOpen(high)).isFalse();
        }
    }

    /** fcntl(F_DUPFD_CLOEXEC): a new number for the same open file description, close-on-exec. */
    @Test
    void dupSharesTheOpenFileAndIsCloseOnExec() throws IOException {
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int copy = fds.track(Descriptors.dup(p[0]));
            assertThat(copy).isNotIn(p[0], p[1]);
            assertThat(closeOnExec(copy)).isTrue();
            assertThat(Descriptors.isNonBlocking(copy)).as("status flags belong to the shared file").isTrue();

            Fds.write(p[1], new byte[] {1, 2});
            byte[] b = new byte[4];
            assertThat(Descriptors.read(copy, b, 0, 1)).isEqualTo(1);
            assertThat(Descriptors.read(p[0], b, 1, 3)).isEqualTo(1); // the same pipe: the second byte
            assertThat(b).startsWith(1, 2);

            // Closing the original leaves the duplicate working (close(2): the file stays open).
            fds.close(p[0]);
            Fds.write(p[1], new byte[] {3});
            assertThat(Descriptors.read(copy, b, 0, 4)).isEqualTo(1);
            assertThat(b[0]).isEqualTo((byte) 3);

            // F_SETFL on one number is seen through the other (fcntl(2): file status flags are shared).
            int copy2 = fds.track(Descriptors.dup(copy));
            Descriptors.setNonBlocking(copy2, false);
            assertThat(Descriptors.isNonBlocking(copy)).isFalse();
            Descriptors.setNonBlocking(copy, true);
        }
    }

    @Test
    void dupOfAClosedDescriptorFailsEbadf() {
        NativeIOException e = nativeFailure(() -> Descriptors.dup(-1));
        assertThat(e.errno()).isEqualTo(Linux.EBADF);
        assertThat(e.getMessage()).contains("F_DUPFD_CLOEXEC").contains("fd=-1").contains("EBADF");
    }

    /** dup3(2): newFd is closed and becomes a close-on-exec copy of fd; equal numbers fail EINVAL. */
    @Test
    void dup2ReplacesTheTargetDescriptor() throws IOException {
        try (Fds fds = new Fds()) {
            int[] a = fds.pipe();
            int[] b = fds.pipe();
            Descriptors.dup2(a[0], b[0]); // b's only read end is gone; b[0] now reads pipe a
            assertThat(closeOnExec(b[0])).isTrue();

            Fds.write(a[1], new byte[] {42});
            byte[] got = new byte[2];
            assertThat(Descriptors.read(b[0], got, 0, 2)).isEqualTo(1);
            assertThat(got[0]).isEqualTo((byte) 42);

            NativeIOException e = nativeFailure(() -> Fds.write(b[1], new byte[] {1}));
            assertThat(e.errno()).as("pipe b has no reader left").isEqualTo(Linux.EPIPE);

            e = nativeFailure(() -> Descriptors.dup2(a[0], a[0]));
            assertThat(e.errno()).isEqualTo(Linux.EINVAL);
            assertThat(e.syscall()).isEqualTo("dup3(" + a[0] + ", " + a[0] + ")");

            int high = freeHighFd();
            e = nativeFailure(() -> Descriptors.dup2(high, a[0]));
            assertThat(e.errno()).isEqualTo(Linux.EBADF);
            assertThat(Descriptors.isOpen(a[0])).as("a failed dup3 leaves the target alone").isTrue();
        }
    }

    // ---------------------------------------------------------------- eventfd

    /**
     * eventfd(2): a write adds an 8-byte host-order value to the counter; a read returns the counter and
     * resets it to 0; reading a zero counter fails EAGAIN when non-blocking; buffers under 8 bytes fail EINVAL.
     */
    @Test
    void eventfdCounterSemantics() throws IOException {
        try (Fds fds = new Fds()) {
            int ev = fds.track(Descriptors.eventfd(0));
            assertThat(Descriptors.isNonBlocking(ev)).isTrue();
            assertThat(closeOnExec(ev)).isTrue();
            ByteBuffer eight = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            assertThat(Descriptors.read(ev, eight)).isEqualTo(Descriptors.WOULD_BLOCK);

            assertThat(Descriptors.write(ev, counter(3))).isEqualTo(8);
            assertThat(Descriptors.write(ev, counter(4))).isEqualTo(8);
            eight.clear();
            assertThat(Descriptors.read(ev, eight)).isEqualTo(8);
            assertThat(eight.flip().getLong()).isEqualTo(7);
            eight.clear();
            assertThat(Descriptors.read(ev, eight)).isEqualTo(Descriptors.WOULD_BLOCK);

            NativeIOException e = nativeFailure(() -> Descriptors.write(ev, ByteBuffer.wrap(new byte[4])));
            assertThat(e.errno()).isEqualTo(Linux.EINVAL);
            Descriptors.write(ev, counter(1));
            e = nativeFailure(() -> Descriptors.read(ev, ByteBuffer.allocate(4)));
            assertThat(e.errno()).isEqualTo(Linux.EINVAL);

            int ev5 = fds.track(Descriptors.eventfd(5));
            eight.clear();
            assertThat(Descriptors.read(ev5, eight)).isEqualTo(8);
            assertThat(eight.flip().getLong()).isEqualTo(5);
        }
    }

    // ---------------------------------------------------------------- files

    @Test
    void openReadWriteCreatesAFileThatOpenReadOnlyReads() throws IOException {
        Path f = tmp.resolve("data.bin");
        try (Fds fds = new Fds()) {
            int rw = fds.track(Descriptors.openReadWrite(f));
            assertThat(Files.exists(f)).isTrue();
            // Mode 0600, possibly narrowed by the umask; never more.
            assertThat(Files.getPosixFilePermissions(f))
                    .isSubsetOf(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
            assertThat(closeOnExec(rw)).isTrue();
            assertThat(Descriptors.isNonBlocking(rw)).isFalse();
            assertThat(fdinfoFlags(rw) & 3).isEqualTo(Linux.O_RDWR);
            Fds.write(rw, "payload".getBytes(StandardCharsets.US_ASCII));

            int ro = fds.track(Descriptors.openReadOnly(f));
            assertThat(closeOnExec(ro)).isTrue();
            assertThat(fdinfoFlags(ro) & 3).isEqualTo(Linux.O_RDONLY);
            byte[] b = new byte[16];
            assertThat(Descriptors.read(ro, b, 0, 16)).isEqualTo(7);
            assertThat(new String(b, 0, 7, StandardCharsets.US_ASCII)).isEqualTo("payload");
            assertThat(Descriptors.read(ro, b, 0, 16)).as("end of file").isZero();

            NativeIOException e = nativeFailure(() -> Fds.write(ro, new byte[] {1}));
            assertThat(e.errno()).as("write on an O_RDONLY descriptor").isEqualTo(Linux.EBADF);

            // openReadWrite of an existing file neither truncates nor fails (no O_TRUNC, no O_EXCL).
            int again = fds.track(Descriptors.openReadWrite(f));
            assertThat(Descriptors.read(again, b, 0, 16)).isEqualTo(7);
        }
        assertThat(Files.readString(f)).isEqualTo("payload");
    }

    @Test
    void openOfAMissingFileNamesThePath() {
        Path missing = tmp.resolve("no-such-dir").resolve("file");
        NativeIOException e = nativeFailure(() -> Descriptors.openReadOnly(missing));
        assertThat(e.errno()).isEqualTo(Linux.ENOENT);
        assertThat(e).hasMessage("open(" + missing + ", O_RDONLY): ENOENT (No such file or directory)");

        e = nativeFailure(() -> Descriptors.openReadWrite(missing));
        assertThat(e.errno()).isEqualTo(Linux.ENOENT);
        assertThat(e.getMessage()).contains(missing.toString()).contains("O_RDWR|O_CREAT").contains("ENOENT");
        assertThat(Files.exists(missing.getParent())).isFalse();
    }

    @Test
    void openReadWriteOfADirectoryFailsEisdir() {
        NativeIOException e = nativeFailure(() -> Descriptors.openReadWrite(tmp));
        assertThat(e.errnoName()).isEqualTo("EISDIR");
        assertThat(e.getMessage()).contains(tmp.toString());
    }

    // ---------------------------------------------------------------- counting and limits

    @Test
    void openCountFollowsPipeAndClose() throws IOException {
        try (Fds warmUp = new Fds()) {
            warmUp.pipe(); // the first native call loads jnr-ffi, whose jar files stay open: not counted below
        }
        int before = Descriptors.openCount();
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            assertThat(Descriptors.openCount()).isEqualTo(before + 2);
            fds.close(p[0]);
            assertThat(Descriptors.openCount()).isEqualTo(before + 1);
        }
        assertThat(Descriptors.openCount()).isEqualTo(before);
    }

    @Test
    void limitsAndRaiseLimit() throws IOException {
        long[] limits = Descriptors.limits();
        assertThat(limits).hasSize(2);
        long soft = limits[0];
        long hard = limits[1];
        assertThat(soft).isPositive().isLessThanOrEqualTo(hard);
        assertThat(soft).as("this process has that many open").isGreaterThanOrEqualTo(Descriptors.openCount());

        assertThat(Descriptors.raiseLimit(soft)).isEqualTo(soft);
        assertThat(Descriptors.raiseLimit(0)).as("never lowers").isEqualTo(soft);
        assertThat(Descriptors.raiseLimit(soft - 1)).isEqualTo(soft);
        assertThat(Descriptors.limits()).containsExactly(soft, hard);
    }

    // ---------------------------------------------------------------- helpers

    /** The flags line of /proc/self/fdinfo/N: file status flags and access mode, plus O_CLOEXEC (proc(5)). */
    static int fdinfoFlags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring("flags:".length()).trim(), 8);
            }
        }
        throw new IOException("no flags line in /proc/self/fdinfo/" + fd);
    }

    /** Runs a call that must fail with a NativeIOException, and returns that exception. */
    static NativeIOException nativeFailure(ThrowingCallable call) {
        Throwable t = catchThrowable(call);
        assertThat(t).as("expected a NativeIOException").isInstanceOf(NativeIOException.class);
        return (NativeIOException) t;
    }

    static boolean closeOnExec(int fd) throws IOException {
        return (fdinfoFlags(fd) & Linux.O_CLOEXEC) != 0;
    }

    /** A free descriptor number well above what the kernel hands out here (it takes the lowest free one). */
    static int freeHighFd() throws IOException {
        int top = (int) Math.min(Descriptors.limits()[0] - 1, 1000);
        for (int fd = top; fd > top / 2; fd--) {
            if (!Descriptors.isOpen(fd)) {
                return fd;
            }
        }
        throw new IllegalStateException("no free descriptor number between " + top / 2 + " and " + top);
    }

    private static ByteBuffer counter(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(0, value); // eventfd(2): host order
    }

    private static ByteBuffer directOf(byte[] bytes) {
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }
}
