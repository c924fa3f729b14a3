package dev.iomux.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;
import dev.iomux.internal.Native;

/**
 * Real descriptors for tests, closed together at the end: {@code try (Fds fds = new Fds()) { ... }}.
 * Everything is non-blocking, on loopback or in a temporary directory.
 */
public final class Fds implements AutoCloseable {
    private final List<Integer> open = new ArrayList<>();
    private Path tempDir;

    /**
     * Opens a pipe.
     *
     * @return {@code {readEnd, writeEnd}} of a new pipe
     * @throws IOException if pipe2(2) fails
     */
    public int[] pipe() throws IOException {
        return track(Descriptors.pipe());
    }

    /**
     * Opens a socket pair.
     *
     * @return a connected AF_UNIX stream socket pair
     * @throws IOException if socketpair(2) fails
     */
    public int[] socketPair() throws IOException {
        return track(Sockets.pair());
    }

    /**
     * Returns a connected TCP pair on loopback: {@code {client, server}}.
     *
     * @param family INET (127.0.0.1), INET6 (::1) or UNIX (a socket file in a temporary directory)
     * @return {@code {client, server}}
     * @throws IOException if a system call fails, or no connection arrives within 5 s
     */
    public int[] connectedPair(ProtocolFamily family) throws IOException {
        int listener = listener(family, 8);
        try {
            SocketAddress address = Sockets.localAddress(listener);
            int client = track(Sockets.connect(address));
            int server = acceptWithin(listener, 5_000);
            return new int[] {client, server};
        } finally {
            close(listener);
        }
    }

    /**
     * Opens a listening socket.
     *
     * @param family INET, INET6 or UNIX, as for {@link #loopback}
     * @param backlog listen(2)'s backlog
     * @return a listening socket on loopback (port 0) or a fresh Unix socket path
     * @throws IOException if a system call fails
     */
    public int listener(ProtocolFamily family, int backlog) throws IOException {
        return track(Sockets.listen(loopback(family), backlog));
    }

    /**
     * Makes an address to listen on.
     *
     * @param family INET (127.0.0.1), INET6 (::1) or UNIX
     * @return a loopback address with port 0 for TCP, or a fresh socket path for UNIX
     * @throws IOException if the temporary directory cannot be made
     */
    public SocketAddress loopback(ProtocolFamily family) throws IOException {
        if (family == StandardProtocolFamily.UNIX) {
            return UnixDomainSocketAddress.of(tempDir().resolve("s" + open.size() + "-" + System.nanoTime()));
        }
        String host = family == StandardProtocolFamily.INET6 ? "::1" : "127.0.0.1";
        return new InetSocketAddress(InetAddress.getByName(host), 0);
    }

    /**
     * Accepts one connection, waiting for it up to {@code millis}.
     *
     * @param listener a non-blocking listening socket
     * @param millis how long to wait
     * @return the accepted socket, tracked
     * @throws IOException if accept(2) fails, or no connection arrives in time
     */
    public int acceptWithin(int listener, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        for (;;) {
            int fd = Sockets.accept(listener);
            if (fd >= 0) {
                return track(fd);
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("no connection to accept on fd " + listener + " within " + millis + " ms");
            }
            sleep(1);
        }
    }

    /**
     * Opens a regular file.
     *
     * @return a regular file with a few bytes in it, opened read-write
     * @throws IOException if the file cannot be made or opened
     */
    public int regularFile() throws IOException {
        Path f = Files.write(tempDir().resolve("file-" + open.size()), new byte[] {1, 2, 3});
        return track(Descriptors.openReadWrite(f));
    }

    /**
     * Opens a directory.
     *
     * @return the temporary directory, opened read-only
     * @throws IOException if it cannot be made or opened
     */
    public int directory() throws IOException {
        return track(Descriptors.openReadOnly(tempDir()));
    }

    /**
     * Opens /dev/null.
     *
     * @return /dev/null, opened read-only
     * @throws IOException if open(2) fails
     */
    public int devNull() throws IOException {
        return track(Descriptors.openReadOnly(Path.of("/dev/null")));
    }

    /**
     * Starts tracking a descriptor made elsewhere, to close it at the end.
     *
     * @param fd the descriptor
     * @return {@code fd}
     */
    public int track(int fd) {
        open.add(fd);
        return fd;
    }

    /**
     * Moves {@code fd} to the lowest free number from 900 up (dup2(2), then close(2) of the old number),
     * tracked in its place. open, pipe and socket hand out the lowest free number, so a high one closed
     * behind a selector's back stays closed while a test watches it, whatever the JVM opens meanwhile (a
     * jar, a class file) in this or another thread.
     *
     * @param fd a tracked descriptor
     * @return its new number
     * @throws IOException if dup2(2) fails (RLIMIT_NOFILE below the number) or close(2) does
     */
    public int moveHigh(int fd) throws IOException {
        int high = 900;
        while (Descriptors.isOpen(high)) {
            high++;
        }
        Descriptors.dup2(fd, high);
        track(high);
        close(fd);
        return high;
    }

    private int[] track(int[] fds) {
        for (int fd : fds) {
            open.add(fd);
        }
        return fds;
    }

    /**
     * Closes one descriptor now and stops tracking it.
     *
     * @param fd the descriptor
     * @throws IOException if close(2) fails
     */
    public void close(int fd) throws IOException {
        open.remove(Integer.valueOf(fd));
        Descriptors.close(fd);
    }

    /**
     * Writes all of {@code bytes}, failing if the descriptor would block.
     *
     * @param fd a non-blocking descriptor
     * @param bytes what to write
     * @throws IOException if write(2) fails or the descriptor would block
     */
    public static void write(int fd, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            if (Descriptors.write(fd, b) == Descriptors.WOULD_BLOCK) {
                throw new IOException("fd " + fd + " would block after " + b.position() + " of " + bytes.length);
            }
        }
    }

    /**
     * Writes {@code n} bytes of 'x', failing if the descriptor would block.
     *
     * @param fd a non-blocking descriptor
     * @param n how many bytes
     * @throws IOException if write(2) fails or the descriptor would block
     */
    public static void write(int fd, int n) throws IOException {
        write(fd, "x".repeat(n).getBytes());
    }

    /**
     * Reads what is there, up to {@code max} bytes.
     *
     * @param fd a non-blocking descriptor
     * @param max the most to read
     * @return the count, 0 at end of stream, or {@link Descriptors#WOULD_BLOCK}
     * @throws IOException if read(2) fails
     */
    public static int read(int fd, int max) throws IOException {
        return Descriptors.read(fd, ByteBuffer.allocate(max));
    }

    /**
     * Writes until the descriptor would block.
     *
     * @param fd a non-blocking descriptor
     * @return the bytes written
     * @throws IOException if write(2) fails
     */
    public static long fill(int fd) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocateDirect(64 * 1024);
        long total = 0;
        for (;;) {
            chunk.clear();
            int n = Descriptors.write(fd, chunk);
            if (n == Descriptors.WOULD_BLOCK) {
                return total;
            }
            total += n;
        }
    }

    /**
     * Reads until the descriptor would block or ends.
     *
     * @param fd a non-blocking descriptor
     * @return the bytes read
     * @throws IOException if read(2) fails
     */
    public static long drain(int fd) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocateDirect(64 * 1024);
        long total = 0;
        for (;;) {
            chunk.clear();
            int n = Descriptors.read(fd, chunk);
            if (n <= 0) {
                return total;
            }
            total += n;
        }
    }

    private Path tempDir() throws IOException {
        if (tempDir == null) {
            // Short: sun_path holds 107 bytes.
            tempDir = Files.createTempDirectory(Path.of("/tmp"), "iomux");
        }
        return tempDir;
    }

    /**
     * Sleeps; an interrupt is kept set and ends the test as an {@link IllegalStateException}.
     *
     * @param millis how long
     */
    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        for (int fd : open) {
            Native.closeQuietly(fd);
        }
        open.clear();
        if (tempDir != null) {
            try (var files = Files.list(tempDir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(tempDir);
        }
    }
}
