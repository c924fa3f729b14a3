package dev.iomux.spi;

import static dev.iomux.internal.Native.C;

import java.io.IOException;

import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;

/**
 * A selector's wake-up: a non-blocking pipe whose read end the backend watches, written at most once
 * until a select drains it (coalescing: one write per sleep, however many wakeups).
 *
 * <p>A pipe rather than an eventfd, for identity. A program with a stale double {@code close(fd)} can hit
 * one of the selector's own descriptor numbers, and the number is then reused by whatever the program
 * opens next. Writing to it would put bytes into the program's socket, draining it would eat its data,
 * closing it would close the program's descriptor. So before every write, drain and close, the waker
 * checks that the number still names the file it opened: same {@code st_dev} and {@code st_ino} as at
 * creation (fstat(2)). Every eventfd shares one anonymous inode and cannot be told apart this way; every
 * pipe has an inode of its own. A mismatch marks the waker broken and the selector reports the misuse
 * instead of hanging, spinning or touching a descriptor it no longer owns.
 *
 * <p>A backend opens one ({@link #pipe}), watches {@link #fd()} for reading and hands it to
 * {@link AbstractSelector}'s constructor, which signals, drains and closes it. A backend whose kernel has
 * a wake-up of its own (kqueue's EVFILT_USER) still needs this one for the identity-checked close.
 *
 * <p>Thread-safe: every method synchronizes on the waker.
 */
public final class Waker {
    private final String owner;
    private final int readFd;
    private final int writeFd;
    private long readDev;   // final in spirit: set once by the constructor
    private long readIno;
    private long writeDev;
    private long writeIno;
    private final NativeBuffer buf;

    private boolean pending;  // a byte was written and not yet drained
    private boolean user;     // Selector.wakeup() asked, not only an internal signal
    private boolean closed;
    private String misuse;    // non-null once one of our numbers was found naming another file
    private volatile boolean broken; // misuse != null, readable without the lock on every select

    /**
     * Opens the pipe.
     *
     * @param owner the selector, for messages, e.g. "epoll selector"
     * @throws IOException if the pipe cannot be made (EMFILE)
     */
    private Waker(String owner) throws IOException {
        this.owner = owner;
        int[] fds = new int[2];
        Native.check(C.pipe2(fds, Linux.O_NONBLOCK | Linux.O_CLOEXEC), "pipe2");
        NativeBuffer b = null;
        try {
            b = NativeBuffer.allocate(Native.STAT_SIZE);
            for (int fd : fds) {
                if (Native.fstat(fd, b.address()) < 0) {
                    throw Native.error("fstat(fd=" + fd + ")");
                }
                if (fd == fds[0]) {
                    readDev = b.getLong(0);
                    readIno = b.getLong(8);
                } else {
                    writeDev = b.getLong(0);
                    writeIno = b.getLong(8);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            Native.closeQuietly(fds[0]);
            Native.closeQuietly(fds[1]);
            if (b != null) {
                b.free();
            }
            throw e;
        }
        this.readFd = fds[0];
        this.writeFd = fds[1];
        this.buf = b;
    }

    /**
     * Opens a wake-up pipe (pipe2, non-blocking, close-on-exec).
     *
     * @param owner the selector, for messages, e.g. "epoll selector"
     * @return the waker
     * @throws IOException if the pipe cannot be made (EMFILE)
     */
    public static Waker pipe(String owner) throws IOException {
        return new Waker(owner);
    }

    /** @return the read end, which the backend watches for reading */
    public int fd() {
        return readFd;
    }

    /**
     * @param fd a descriptor
     * @return whether it is one of the waker's two descriptors
     */
    boolean owns(int fd) {
        return fd == readFd || fd == writeFd;
    }

    /**
     * Makes the read end readable, unless a write is already pending.
     *
     * @param fromUser true for {@link dev.iomux.Selector#wakeup()}, whose select returns to its caller
     * @return false if the waker is closed or broken (see {@link #misuse()}): nothing was written
     */
    synchronized boolean signal(boolean fromUser) {
        if (closed || misuse != null) {
            return false;
        }
        user |= fromUser;
        if (pending) {
            return true;
        }
        if (!verify(readFd, readDev, readIno, "read") || !verify(writeFd, writeDev, writeIno, "write")) {
            return false;
        }
        buf.putByte(0, (byte) 1);
        // A full pipe (EAGAIN) cannot happen with one byte per drain; an error is left to the next check.
        Native.write(writeFd, buf.address(), 1);
        pending = true;
        return true;
    }

    /**
     * Empties the read end after the backend saw it readable.
     *
     * @return true if {@link dev.iomux.Selector#wakeup()} was among the signals drained
     */
    synchronized boolean drain() {
        if (!closed && misuse == null && verify(readFd, readDev, readIno, "read")) {
            // Several signals make one byte each at most; EAGAIN (already empty) is fine.
            while (Native.read(readFd, buf.address(), 64) == 64) {
                // more than 64 bytes: only if something else wrote to our pipe
            }
        }
        pending = false;
        boolean wasUser = user;
        user = false;
        return wasUser;
    }

    /**
     * @return what went wrong, naming the descriptor and the likely misuse, or null while the waker is
     *         sound
     */
    synchronized String misuse() {
        return misuse;
    }

    /** @return whether a descriptor of the waker was found closed or naming another file */
    boolean isBroken() {
        return broken;
    }

    /** Closes both ends, each only if it still names the pipe it opened, and frees the native buffer. */
    synchronized void close() {
        if (closed) {
            return;
        }
        if (verify(readFd, readDev, readIno, "read")) {
            Native.closeQuietly(readFd);
        }
        if (verify(writeFd, writeDev, writeIno, "write")) {
            Native.closeQuietly(writeFd);
        }
        closed = true;
        buf.free();
    }

    private boolean verify(int fd, long dev, long ino, String end) {
        boolean open = Native.fstat(fd, buf.address()) == 0;
        if (open && buf.getLong(0) == dev && buf.getLong(8) == ino) {
            return true;
        }
        if (misuse == null) {
            misuse = "the " + owner + "'s wake-up pipe (" + end + " end, fd " + fd + ") was closed behind its back"
                    + (open ? " and the number now names another file" : "")
                    + ": a close(" + fd + ") in the program hit a descriptor it did not own, most likely a "
                    + "stale number closed twice. The selector can no longer be woken and will not read, write or "
                    + "close fd " + fd + " again; close the selector and find the double close";
            broken = true;
        }
        return false;
    }
}
