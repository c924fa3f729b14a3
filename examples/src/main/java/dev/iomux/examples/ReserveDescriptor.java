package dev.iomux.examples;

import java.nio.file.Path;

import dev.iomux.NativeIOException;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;

/**
 * Accepts connections, and sheds them instead of spinning when the process is out of descriptors.
 *
 * <p>When accept(2) fails with EMFILE (or ENFILE), the connection stays in the listener's queue and
 * the listener stays readable: a level-triggered loop would wake at once, fail again, and burn a core
 * until some descriptor is closed. So this class keeps one spare descriptor open ({@code /dev/null}); on
 * EMFILE it closes the spare, accepts the connection into the freed slot, closes it at once (the client
 * sees end of stream), and opens the spare again. The queue empties and the loop sleeps. This is
 * libev's {@code ev_io} advice (the "special problem of accept()ing when you can't") and what nginx
 * and Node do in spirit. It logs one warning when shedding starts and one line when accepting works
 * again, not one line per connection.
 *
 * <p>EMFILE does not mean a connection waits: accept4(2) reserves the new descriptor before it looks at
 * the queue, so with no descriptor free, the call that would say EAGAIN (the last of an accept-until-
 * EAGAIN loop) says EMFILE too. Then the accept in the freed slot finds the queue empty, and this
 * returns WOULD_BLOCK, not SHED, so that such a loop ends.
 *
 * <p>Not thread-safe: one event loop owns it. Close it with the loop.
 */
public final class ReserveDescriptor implements AutoCloseable {
    /** {@link #accept} result: a connection came in while no descriptor was free and was closed at once. */
    public static final int SHED = -2;

    // errno(3) values; the same on every CPU core-api supports (asm-generic numbering).
    static final int ENFILE = 23;
    static final int EMFILE = 24;
    static final int ECONNABORTED = 103;

    private static final System.Logger LOG = System.getLogger(ReserveDescriptor.class.getName());
    private static final Path SPARE = Path.of("/dev/null");

    private int spare;
    private long shedTotal;
    private long shedInEpisode;

    /**
     * Opens the spare descriptor.
     *
     * @throws NativeIOException if not even one descriptor is free
     */
    public ReserveDescriptor() throws NativeIOException {
        spare = Descriptors.openReadOnly(SPARE);
        // Load now what the EMFILE path needs: with no descriptor free, the JVM could not open a class
        // file to load it then.
        new NativeIOException("accept4", EMFILE, null).errnoName();
        LOG.log(System.Logger.Level.DEBUG, () -> "spare descriptor " + spare + " kept for EMFILE");
        LOG.isLoggable(System.Logger.Level.WARNING);
    }

    /**
     * Accepts one connection.
     *
     * @param listener a non-blocking listening socket
     * @return the new connection's descriptor (non-blocking, close-on-exec), {@link Descriptors#WOULD_BLOCK}
     *         when no connection is waiting, or {@link #SHED} when one was accepted and closed for want
     *         of a descriptor; call again until WOULD_BLOCK to empty the queue
     * @throws NativeIOException if accept fails otherwise, or the process is out of descriptors and the
     *                           spare could not be reopened since the last shed, or its slot was taken
     */
    public int accept(int listener) throws NativeIOException {
        while (true) {
            try {
                int fd = Sockets.accept(listener);
                if (fd >= 0 && shedInEpisode > 0) {
                    LOG.log(System.Logger.Level.INFO, "descriptors free again: accepting connections; "
                            + shedInEpisode + " were closed unanswered meanwhile");
                    shedInEpisode = 0;
                }
                return fd;
            } catch (NativeIOException e) {
                if (e.errno() == ECONNABORTED) {
                    continue; // accept(2): the connection was reset while queued; take the next one
                }
                if ((e.errno() != EMFILE && e.errno() != ENFILE) || !haveSpare()) {
                    throw e;
                }
                return shed(listener, e);
            }
        }
    }

    /**
     * Frees the spare's slot, takes the waiting connection into it, and drops it.
     *
     * @return {@link #SHED}, or {@link Descriptors#WOULD_BLOCK} if no connection was waiting after all:
     *         accept4(2) reserves the new descriptor before it looks at the queue (net/socket.c,
     *         do_accept), so EMFILE comes whether or not a connection waits
     */
    private int shed(int listener, NativeIOException cause) throws NativeIOException {
        closeSpare();
        int fd;
        try {
            fd = Sockets.accept(listener);
        } catch (NativeIOException stillNone) {
            haveSpare(); // another thread took the slot, or the system-wide table (ENFILE) is full
            throw stillNone;
        }
        if (fd >= 0) {
            closeQuietly(fd);
        }
        haveSpare();
        if (fd == Descriptors.WOULD_BLOCK) {
            return Descriptors.WOULD_BLOCK;
        }
        shedTotal++;
        if (shedInEpisode++ == 0) {
            LOG.log(System.Logger.Level.WARNING, "out of descriptors (" + cause.errnoName() + " from accept): "
                    + "closing new connections at once until some close; raise the limit with ulimit -n");
        } else {
            LOG.log(System.Logger.Level.DEBUG, "shed a connection (" + shedInEpisode + " so far)");
        }
        return SHED;
    }

    /** Reopens the spare if it is closed; false if no descriptor is free for it. */
    private boolean haveSpare() {
        if (spare < 0) {
            try {
                spare = Descriptors.openReadOnly(SPARE);
            } catch (NativeIOException stillFull) {
                return false;
            }
        }
        return true;
    }

    private void closeSpare() {
        closeQuietly(spare);
        spare = -1;
    }

    private static void closeQuietly(int fd) {
        try {
            Descriptors.close(fd);
        } catch (NativeIOException ignored) {
            // close(2) releases the descriptor even when it reports an error
        }
    }

    /**
     * Returns how many connections were shed since this object was made.
     *
     * @return the count
     */
    public long shedCount() {
        return shedTotal;
    }

    /** Closes the spare descriptor. */
    @Override
    public void close() {
        if (spare >= 0) {
            closeSpare();
        }
    }
}
