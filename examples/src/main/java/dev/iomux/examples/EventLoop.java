package dev.iomux.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.iomux.NativeIOException;
import dev.iomux.Selector;
import dev.iomux.SelectorKey;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;

/**
 * What every server example shares, so that each example file is only its protocol: the listening
 * socket, the selector, the loop that calls the handler kept in each key's attachment (Python's
 * {@code selectors} example: {@code callback = key.data; callback(key.fileobj, mask)}), the status line,
 * a clean shutdown on
 * SIGINT and SIGTERM, and accept through a {@link ReserveDescriptor}.
 *
 * <p>Shutdown: a JVM shutdown hook (run on SIGINT and SIGTERM) clears the running flag, wakes the
 * selector and waits for the loop, which closes every registered descriptor, the selector and the spare
 * descriptor, and logs what it closed. The process then exits with the signal's status (130 or 143).
 */
final class EventLoop {
    /** What a key's attachment does when its descriptor is ready. */
    @FunctionalInterface
    interface Handler {
        /**
         * Handles readiness. An {@link IOException} closes the connection (the loop logs it at DEBUG).
         *
         * @param key    the ready key
         * @param events the ready events
         * @throws IOException if the connection failed (ECONNRESET, EPIPE)
         */
        void ready(SelectorKey key, int events) throws IOException;
    }

    private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());
    private static final long STOP_WAIT_SECONDS = 5;

    private final String name;
    private final Selector selector;
    private final int listener;
    private final InetSocketAddress address;
    private final ReserveDescriptor reserve;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private long tickMillis;
    private Runnable tick;
    private boolean warnedMaxFd;

    private EventLoop(String name, Selector selector, int listener, ReserveDescriptor reserve) throws IOException {
        this.name = name;
        this.selector = selector;
        this.listener = listener;
        this.reserve = reserve;
        this.address = (InetSocketAddress) Sockets.localAddress(listener);
    }

    /**
     * Opens the selector ({@code --backend}) and the listening socket ({@code --host}, {@code --port}).
     *
     * @param name        the subcommand, for the status line and logs
     * @param options     its options
     * @param defaultPort the port when {@code --port} is not given
     * @return the loop, not yet running
     * @throws IOException if the port is taken or the kernel refuses; nothing is left open then
     */
    static EventLoop open(String name, Options options, int defaultPort) throws IOException {
        InetSocketAddress wanted = options.listenAddress(defaultPort);
        Selector selector = options.openSelector();
        int listener = -1;
        try {
            listener = Sockets.listen(wanted, 1024);
            return new EventLoop(name, selector, listener, new ReserveDescriptor());
        } catch (IOException | RuntimeException e) {
            closeQuietly(listener);
            selector.close();
            throw e;
        }
    }

    /** @return the selector, for handlers to modify their keys */
    Selector selector() {
        return selector;
    }

    /** @return the address the listener is bound to */
    InetSocketAddress address() {
        return address;
    }

    /**
     * Runs {@code task} on the loop's thread after every select, and at least every {@code period}.
     * For deadlines; call before {@link #run}.
     */
    void every(Duration period, Runnable task) {
        this.tickMillis = Math.max(1, period.toMillis());
        this.tick = task;
    }

    /**
     * Registers the listener with {@code acceptor} as its handler, prints the status line, and runs until
     * SIGINT or SIGTERM; then closes everything.
     *
     * @param listenerEvents the listener's events: {@code READ}, or {@code READ | EDGE}
     * @param acceptor       called when the listener is readable; accepts with {@link #accept()}
     * @param out            where the status line goes
     * @return {@link Command#OK}
     * @throws IOException if a select fails
     */
    int run(int listenerEvents, Handler acceptor, PrintStream out) throws IOException {
        Thread hook = new Thread(this::stopFromSignal, name + "-shutdown");
        try {
            selector.register(listener, listenerEvents, acceptor);
            Runtime.getRuntime().addShutdownHook(hook);
            out.println(name + " on " + hostAndPort(address) + ", backend " + selector.backend()
                    + ", pid " + ProcessHandle.current().pid());
            out.flush();
            while (running) {
                if (tick == null) {
                    selector.select(this::dispatch);
                } else {
                    selector.select(tickMillis, TimeUnit.MILLISECONDS, this::dispatch);
                    tick.run();
                }
            }
        } finally {
            closeEverything();
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is what stopped us
            }
        }
        return Command.OK;
    }

    /**
     * Accepts a connection, shedding those that come while the process is out of descriptors.
     *
     * @return a non-blocking connected socket, or {@link Descriptors#WOULD_BLOCK} when none is waiting
     * @throws IOException if accept fails otherwise
     */
    int accept() throws IOException {
        int fd;
        do {
            fd = reserve.accept(listener);
        } while (fd == ReserveDescriptor.SHED);
        if (fd >= 0) {
            int conn = fd;
            LOG.log(System.Logger.Level.DEBUG, () -> "accepted fd " + conn + " from " + peer(conn));
        }
        return fd;
    }

    /**
     * Registers a connection, or closes it if the backend cannot watch a descriptor that high (select(2)
     * stops at FD_SETSIZE, 1024).
     *
     * @return whether it was registered; if not, it is closed
     */
    boolean register(int fd, int events, Handler handler) {
        int max = selector.capabilities().maxFd();
        if (fd > max) {
            if (!warnedMaxFd) {
                warnedMaxFd = true;
                LOG.log(System.Logger.Level.WARNING, "the " + selector.backend() + " backend watches descriptors up to "
                        + max + " only: closing connections above; use --backend poll or epoll for more");
            }
            closeQuietly(fd);
            return false;
        }
        try {
            selector.register(fd, events, handler);
            return true;
        } catch (IOException refused) {
            LOG.log(System.Logger.Level.WARNING, "cannot watch fd " + fd + ", closing it: " + refused.getMessage());
            closeQuietly(fd);
            return false;
        }
    }

    /** Unregisters (if registered) and closes a connection. */
    void close(int fd) {
        if (selector.key(fd) != null) {
            selector.unregister(fd);
        }
        closeQuietly(fd);
        LOG.log(System.Logger.Level.DEBUG, () -> "closed fd " + fd);
    }

    private void dispatch(SelectorKey key, int events) {
        try {
            ((Handler) key.attachment()).ready(key, events);
        } catch (IOException e) {
            if (key.fd() == listener) {
                // Not EMFILE (the reserve handles that): something worse. Do not spin on it.
                LOG.log(System.Logger.Level.WARNING, "accept failed: " + e.getMessage());
                pause(100);
            } else {
                LOG.log(System.Logger.Level.DEBUG, () -> "fd " + key.fd() + ": " + e.getMessage() + "; closing it");
                close(key.fd());
            }
        }
    }

    private void stopFromSignal() {
        LOG.log(System.Logger.Level.INFO, name + " shutting down (SIGINT or SIGTERM)");
        running = false;
        try {
            selector.wakeup();
            if (!stopped.await(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "the event loop did not stop within " + STOP_WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException alreadyClosed) {
            // the loop ended by itself meanwhile
        }
    }

    private void closeEverything() {
        List<Integer> fds = new ArrayList<>();
        if (selector.isOpen()) {
            fds.addAll(selector.keys().keySet());
        }
        selector.close();
        int connections = 0;
        for (int fd : fds) {
            closeQuietly(fd);
            if (fd != listener) {
                connections++;
            }
        }
        if (!fds.contains(listener)) {
            closeQuietly(listener); // the select failed before the listener was registered
        }
        reserve.close();
        LOG.log(System.Logger.Level.INFO, name + " stopped: closed the selector, the listener, " + connections
                + " connection(s) and the spare descriptor");
    }

    static String hostAndPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static String peer(int fd) {
        try {
            return hostAndPort((InetSocketAddress) Sockets.remoteAddress(fd));
        } catch (NativeIOException | ClassCastException e) {
            return "?";
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                Descriptors.close(fd);
            } catch (NativeIOException ignored) {
                // close(2) releases the descriptor even when it reports an error
            }
        }
    }
}
