package dev.iomux.epoll;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;

import dev.iomux.NativeIOException;
import dev.iomux.io.Sockets;

/** Shared helpers of the epoll backend's own tests (not a test class). */
final class EpollTesting {
    private EpollTesting() {
    }

    /** @return a new epoll selector with the default event array */
    static EpollSelector open() throws IOException {
        return (EpollSelector) new EpollSelectorProvider().open();
    }

    /** @return a new epoll selector whose epoll_wait returns at most {@code maxEvents} events */
    static EpollSelector open(int maxEvents) throws IOException {
        return (EpollSelector) new EpollSelectorProvider().open(maxEvents);
    }

    /**
     * Waits until a non-blocking TCP connect has completed on the client side (getpeername succeeds),
     * then a little longer so that the server side has queued the connection too (loopback delivers the
     * handshake's last ACK at once, the sleep only makes sure).
     */
    static void awaitConnected(int... clients) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (int fd : clients) {
            for (;;) {
                try {
                    Sockets.remoteAddress(fd);
                    break;
                } catch (NativeIOException notYet) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("fd " + fd + " did not connect within 5 s", notYet);
                    }
                    Thread.sleep(5);
                }
            }
            assertThat(Sockets.pendingError(fd)).as("SO_ERROR of connected fd %d", fd).isZero();
        }
        Thread.sleep(100);
    }
}
