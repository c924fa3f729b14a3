package dev.iomux.io;

import static dev.iomux.internal.Native.C;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.stream.Stream;

import dev.iomux.NativeIOException;
import dev.iomux.internal.ForeignIo;
import dev.iomux.internal.IoBuffers;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.spi.NativeBuffer;

/**
 * Raw file descriptors: pipes, eventfds, files, reading and writing, and the descriptor table.
 *
 * <p>Every descriptor made here is close-on-exec, and pipes and eventfds are non-blocking, as an event
 * loop needs them. Reads and writes follow POSIX, not {@code java.nio}: a read returns the byte count,
 * {@code 0} at end of stream, or {@link #WOULD_BLOCK} when the call would block (EAGAIN); any other
 * failure throws {@link NativeIOException} with the errno. EINTR is retried.
 *
 * <p>Buffers: a direct buffer is handed to the kernel in place, from its position to its limit. A heap
 * buffer's bytes go through native scratch memory, at most 64 KiB per call (a longer buffer takes several
 * calls). On JDK 22 and later a direct buffer may be a view of an {@code Arena}'s memory; such a buffer is
 * treated as the JDK's own channels treat it: if the arena is closed the call throws
 * {@link IllegalStateException} and moves nothing, a confined arena's buffer used by another thread throws
 * {@code WrongThreadException}, and a shared arena cannot be closed while a call uses its memory (its
 * {@code close()} throws IllegalStateException until the call returns).
 */
public final class Descriptors {
    /** Returned instead of a count when a non-blocking call would block (EAGAIN). Not end of stream. */
    public static final int WOULD_BLOCK = -1;

    private Descriptors() {
    }

    /**
     * Creates a pipe, both ends non-blocking and close-on-exec (pipe2(2)).
     *
     * @return {@code {readEnd, writeEnd}}
     * @throws NativeIOException if the kernel refuses (EMFILE)
     */
    public static int[] pipe() throws NativeIOException {
        int[] fds = new int[2];
        Native.check(C.pipe2(fds, Linux.O_NONBLOCK | Linux.O_CLOEXEC), "pipe2");
        return fds;
    }

    /**
     * Creates a non-blocking, close-on-exec eventfd (eventfd(2)): readable while its counter is not zero.
     *
     * @param initial the counter's initial value
     * @return the descriptor
     * @throws NativeIOException if the kernel refuses
     */
    public static int eventfd(int initial) throws NativeIOException {
        return Native.check(C.eventfd(initial, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC), "eventfd");
    }

    /**
     * Opens a file, directory or device read-only, close-on-exec (open(2)).
     *
     * @param path the path
     * @return the descriptor
     * @throws NativeIOException if the kernel refuses, naming the path
     */
    public static int openReadOnly(Path path) throws NativeIOException {
        String p = path.toString();
        int fd = C.open(p, Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
        return Native.check(fd, "open(" + p + ", O_RDONLY)");
    }

    /**
     * Opens a regular file for reading and writing, creating it (mode 0600) if needed, close-on-exec.
     *
     * @param path the path
     * @return the descriptor
     * @throws NativeIOException if the kernel refuses, naming the path
     */
    public static int openReadWrite(Path path) throws NativeIOException {
        String p = path.toString();
        int fd = C.open(p, Linux.O_RDWR | Linux.O_CREAT | Linux.O_CLOEXEC, 0600);
        return Native.check(fd, "open(" + p + ", O_RDWR|O_CREAT)");
    }

    /**
     * Closes a descriptor (close(2)). The descriptor is released even if this throws.
     *
     * @param fd the descriptor
     * @throws NativeIOException on EBADF (not open) or an I/O error reported at close
     */
    public static void close(int fd) throws NativeIOException {
        Native.check(C.close(fd), "close", fd);
    }

    /**
     * Duplicates a descriptor to the lowest free number, close-on-exec (fcntl F_DUPFD_CLOEXEC).
     *
     * @param fd an open descriptor
     * @return the new descriptor
     * @throws NativeIOException if fd is not open or the table is full
     */
    public static int dup(int fd) throws NativeIOException {
        return Native.check(C.fcntl(fd, Linux.F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)", fd);
    }

    /**
     * Makes {@code newFd} a close-on-exec duplicate of {@code fd}, closing what {@code newFd} was (dup3(2)).
     *
     * @param fd    an open descriptor
     * @param newFd the number to reuse
     * @throws NativeIOException if fd is not open, or the numbers are equal
     */
    public static void dup2(int fd, int newFd) throws NativeIOException {
        Native.check(C.dup3(fd, newFd, Linux.O_CLOEXEC), "dup3(" + fd + ", " + newFd + ")");
    }

    /**
     * Returns whether a descriptor number is open in this process (fcntl F_GETFD).
     *
     * @param fd a descriptor number
     * @return true if open
     */
    public static boolean isOpen(int fd) {
        return fd >= 0 && C.fcntl(fd, Linux.F_GETFD, 0) >= 0;
    }

    /**
     * Sets or clears O_NONBLOCK (fcntl F_SETFL).
     *
     * @param fd          an open descriptor
     * @param nonBlocking true for non-blocking
     * @throws NativeIOException if fd is not open
     */
    public static void setNonBlocking(int fd, boolean nonBlocking) throws NativeIOException {
        int flags = Native.check(C.fcntl(fd, Linux.F_GETFL, 0), "fcntl(F_GETFL)", fd);
        int updated = nonBlocking ? flags | Linux.O_NONBLOCK : flags & ~Linux.O_NONBLOCK;
        if (updated != flags) {
            Native.check(C.fcntl(fd, Linux.F_SETFL, updated), "fcntl(F_SETFL)", fd);
        }
    }

    /**
     * Returns whether O_NONBLOCK is set.
     *
     * @param fd an open descriptor
     * @return true if non-blocking
     * @throws NativeIOException if fd is not open
     */
    public static boolean isNonBlocking(int fd) throws NativeIOException {
        return (Native.check(C.fcntl(fd, Linux.F_GETFL, 0), "fcntl(F_GETFL)", fd) & Linux.O_NONBLOCK) != 0;
    }

    /**
     * Reads into a buffer from its position, advancing it (read(2)).
     *
     * @param fd  the descriptor
     * @param dst the buffer, direct or heap
     * @return bytes read, 0 at end of stream (or if {@code dst} has no space), or {@link #WOULD_BLOCK}
     * @throws NativeIOException       on a failure other than EAGAIN, e.g. ECONNRESET
     * @throws java.nio.ReadOnlyBufferException if {@code dst} is read-only
     * @throws IllegalStateException   if {@code dst} is a view of a closed {@code Arena}'s memory (JDK 22+);
     *                                 nothing is read
     */
    public static int read(int fd, ByteBuffer dst) throws NativeIOException {
        return transferIn(fd, dst, false, 0);
    }

    /**
     * Reads into an array (read(2)).
     *
     * @param fd     the descriptor
     * @param dst    the array
     * @param offset where to start in it
     * @param length how many bytes at most
     * @return bytes read, 0 at end of stream, or {@link #WOULD_BLOCK}
     * @throws NativeIOException on a failure other than EAGAIN
     */
    public static int read(int fd, byte[] dst, int offset, int length) throws NativeIOException {
        Objects.checkFromIndexSize(offset, length, dst.length);
        return read(fd, ByteBuffer.wrap(dst, offset, length));
    }

    /**
     * Writes a buffer's remaining bytes from its position, advancing it (write(2)). A write to a pipe or
     * socket whose reader is gone fails with EPIPE; the JVM ignores SIGPIPE, so it is not fatal.
     *
     * @param fd  the descriptor
     * @param src the buffer, direct or heap
     * @return bytes written (possibly fewer than remaining), or {@link #WOULD_BLOCK}
     * @throws NativeIOException     on a failure other than EAGAIN, e.g. EPIPE
     * @throws IllegalStateException if {@code src} is a view of a closed {@code Arena}'s memory (JDK 22+);
     *                               nothing is written
     */
    public static int write(int fd, ByteBuffer src) throws NativeIOException {
        return transferOut(fd, src, false, 0);
    }

    /**
     * Writes from an array (write(2)).
     *
     * @param fd     the descriptor
     * @param src    the array
     * @param offset where to start in it
     * @param length how many bytes
     * @return bytes written, or {@link #WOULD_BLOCK}
     * @throws NativeIOException on a failure other than EAGAIN
     */
    public static int write(int fd, byte[] src, int offset, int length) throws NativeIOException {
        Objects.checkFromIndexSize(offset, length, src.length);
        return write(fd, ByteBuffer.wrap(src, offset, length));
    }

    /**
     * Counts the descriptors open in this process, from /proc/self/fd: for leak checks before and after.
     * The count includes the descriptor used to read the directory, consistently.
     *
     * @return the count
     * @throws IOException if /proc is not mounted
     */
    public static int openCount() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    /**
     * Returns the soft and hard limits on descriptor numbers (getrlimit RLIMIT_NOFILE).
     *
     * @return {@code {soft, hard}}
     * @throws NativeIOException if the call fails
     */
    public static long[] limits() throws NativeIOException {
        NativeBuffer rl = NativeBuffer.allocate(16);
        try {
            Native.check(C.getrlimit(Linux.RLIMIT_NOFILE, rl.address()), "getrlimit(RLIMIT_NOFILE)");
            return new long[] {rl.getLong(0), rl.getLong(8)};
        } finally {
            rl.free();
        }
    }

    /**
     * Raises the soft limit on descriptor numbers towards the hard limit (setrlimit RLIMIT_NOFILE).
     *
     * @param wanted the soft limit wanted
     * @return the soft limit now: {@code min(wanted, hard)}, or the old soft limit if it was higher
     * @throws NativeIOException if the call fails
     */
    public static long raiseLimit(long wanted) throws NativeIOException {
        long[] current = limits();
        long target = Math.min(wanted, current[1]);
        if (target <= current[0]) {
            return current[0];
        }
        NativeBuffer rl = NativeBuffer.allocate(16);
        try {
            rl.putLong(0, target);
            rl.putLong(8, current[1]);
            Native.check(C.setrlimit(Linux.RLIMIT_NOFILE, rl.address()), "setrlimit(RLIMIT_NOFILE, " + target + ")");
            return target;
        } finally {
            rl.free();
        }
    }

    // read(2), or recv(2) with flags already checked by Sockets. Shared with Sockets.
    static int transferIn(int fd, ByteBuffer dst, boolean recv, int flags) throws NativeIOException {
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        int want = dst.remaining();
        if (want == 0) {
            return 0;
        }
        long n;
        if (dst.isDirect()) {
            // On JDK 22+ the buffer may be an Arena's memory: the foreign call refuses a closed arena's and
            // keeps a shared one open until the kernel is done with it (ForeignIo).
            n = ForeignIo.AVAILABLE ? ForeignIo.in(fd, dst, want, recv, flags)
                    : in(fd, IoBuffers.address(dst), want, recv, flags);
            Reference.reachabilityFence(dst); // its memory is freed once it is unreachable
        } else {
            int len = Math.min(want, IoBuffers.SCRATCH_SIZE);
            IoBuffers.Scratch scratch = IoBuffers.takeScratch(len);
            try {
                n = in(fd, scratch.address(), len, recv, flags);
                if (n > 0) {
                    dst.put(dst.position(), scratch.buffer((int) n), 0, (int) n);
                }
            } finally {
                IoBuffers.release(scratch);
            }
        }
        if (n < 0) {
            return wouldBlockOrThrow(recv ? "recv" : "read", fd, (int) -n);
        }
        dst.position(dst.position() + (int) n);
        return (int) n;
    }

    // write(2), or send(2) with flags already checked by Sockets. Shared with Sockets.
    static int transferOut(int fd, ByteBuffer src, boolean send, int flags) throws NativeIOException {
        int have = src.remaining();
        if (have == 0) {
            return 0;
        }
        long n;
        if (src.isDirect()) {
            n = ForeignIo.AVAILABLE ? ForeignIo.out(fd, src, have, send, flags)
                    : out(fd, IoBuffers.address(src), have, send, flags);
            Reference.reachabilityFence(src);
        } else {
            int len = Math.min(have, IoBuffers.SCRATCH_SIZE);
            IoBuffers.Scratch scratch = IoBuffers.takeScratch(len);
            try {
                scratch.buffer(len).put(0, src, src.position(), len);
                n = out(fd, scratch.address(), len, send, flags);
            } finally {
                IoBuffers.release(scratch);
            }
        }
        if (n < 0) {
            return wouldBlockOrThrow(send ? "send" : "write", fd, (int) -n);
        }
        src.position(src.position() + (int) n);
        return (int) n;
    }

    /** read(2) or recv(2) at an address, EINTR retried: the count, or minus the errno. */
    private static long in(int fd, long address, int len, boolean recv, int flags) {
        for (;;) {
            long n = recv ? C.recv(fd, address, len, flags) : Native.read(fd, address, len);
            if (n >= 0) {
                return n;
            }
            int errno = Native.errno();
            if (errno != Linux.EINTR) {
                return -errno;
            }
        }
    }

    /** write(2) or send(2) from an address, EINTR retried: the count, or minus the errno. */
    private static long out(int fd, long address, int len, boolean send, int flags) {
        for (;;) {
            long n = send ? C.send(fd, address, len, flags) : Native.write(fd, address, len);
            if (n >= 0) {
                return n;
            }
            int errno = Native.errno();
            if (errno != Linux.EINTR) {
                return -errno;
            }
        }
    }

    static int wouldBlockOrThrow(String call, int fd) throws NativeIOException {
        return wouldBlockOrThrow(call, fd, Native.errno());
    }

    static int wouldBlockOrThrow(String call, int fd, int errno) throws NativeIOException {
        if (errno == Linux.EAGAIN) {
            return WOULD_BLOCK;
        }
        throw new NativeIOException(call + "(fd=" + fd + ")", errno, null);
    }
}
