package dev.iomux.examples;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

import dev.iomux.io.Descriptors;

/**
 * Bytes waiting to be written to one descriptor, in order: the per-connection queue of the classic
 * select echo server ({@code message_queues[s] = queue.Queue()}), counted in bytes so that a server can
 * bound it.
 */
final class OutQueue {
    private final ArrayDeque<ByteBuffer> buffers = new ArrayDeque<>();
    private long bytes;
    private boolean headStarted; // part of the head buffer is already on the wire

    /** Queues a buffer's remaining bytes; the queue owns the buffer from now on. */
    void add(ByteBuffer data) {
        if (data.hasRemaining()) {
            bytes += data.remaining();
            buffers.add(data);
        }
    }

    /**
     * Writes queued bytes until the queue is empty or the descriptor would block.
     *
     * @return true if everything was written
     * @throws IOException if the write fails (EPIPE, ECONNRESET)
     */
    boolean flush(int fd) throws IOException {
        while (!buffers.isEmpty()) {
            ByteBuffer head = buffers.peek();
            int n = Descriptors.write(fd, head);
            if (n == Descriptors.WOULD_BLOCK) {
                return false;
            }
            bytes -= n;
            headStarted = head.hasRemaining();
            if (!headStarted) {
                buffers.poll();
            }
        }
        return true;
    }

    /** @return the bytes queued */
    long bytes() {
        return bytes;
    }

    /** @return whether nothing is queued */
    boolean isEmpty() {
        return buffers.isEmpty();
    }

    /**
     * Drops what is queued and not yet begun. The rest of a buffer that a write took only part of stays:
     * the peer already has its first bytes, and whatever is queued next would otherwise land in the middle
     * of that message.
     */
    void clear() {
        ByteBuffer started = headStarted ? buffers.peek() : null;
        buffers.clear();
        bytes = 0;
        headStarted = false;
        if (started != null) {
            add(started);
            headStarted = true;
        }
    }
}
