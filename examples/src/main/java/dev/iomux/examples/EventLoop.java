package dev.iomux.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import dev.iomux.NativeIOException;
import dev.iomux.Selector;
import dev.iomux.SelectorKey;
import dev.iomux.io.Descriptors;
import dev.iomux.io.SockOpt;
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
 *
 * <p>One selector per core ({@code --loops N}, {@link #serve}): N loops, each a thread with its own
 * selector and its own listener on the same port, bound with {@code SO_REUSEPORT} (socket(7), Linux 3.9).
 * The kernel hashes each new connection's 4-tuple to one of the listeners, so the loops share nothing:
 * no lock, no hand-off between threads, and no thundering herd, since only the chosen listener becomes
 * readable. The alternative, one listener watched by every loop with {@code EPOLLEXCLUSIVE} (epoll_ctl(2),
 * Linux 4.5), exists on the epoll backend only, wakes "one or more" of the waiters (the others may still
 * try accept(2) and get EAGAIN), and wakes the first waiting loop in registration order, so under light
 * load one loop takes nearly every connection. The price of {@code SO_REUSEPORT}: the hash ignores how busy a loop is, and connections queued on a
 * listener when it closes are reset, which only happens here at shutdown, when all of them close.
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

    /** The most loops {@code --loops} accepts: far beyond any core count this example is meant for. */
    static final int MAX_LOOPS = 64;

    private final String name;
    private final int index;
    private final int count;
    private final Selector selector;
    private final int listener;
    private final InetSocketAddress address;
    private final ReserveDescriptor reserve;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private long tickMillis;
    private Runnable tick;
    private boolean warnedMaxFd;
    private long accepted;
    private boolean closed;
    private Thread thread; // null for the loop that runs on the caller's thread

    private EventLoop(String name, int index, int count, Selector selector, int listener, ReserveDescriptor reserve)
            throws IOException {
        this.name = name;
        this.index = index;
        this.count = count;
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
        return open(name, 0, 1, options, options.listenAddress(defaultPort));
    }

    private static EventLoop open(String name, int index, int count, Options options, InetSocketAddress wanted)
            throws IOException {
        Selector selector = options.openSelector();
        int listener = -1;
        try {
            listener = count == 1 ? Sockets.listen(wanted, 1024) : listenShared(wanted);
            return new EventLoop(name, index, count, selector, listener, new ReserveDescriptor());
        } catch (IOException | RuntimeException e) {
            closeQuietly(listener);
            selector.close();
            throw e;
        }
    }

    /**
     * A listener with {@code SO_REUSEPORT}, set before bind(2) as socket(7) requires. One loop alone does
     * not set it, so that a port taken by another program is still EADDRINUSE.
     */
    private static int listenShared(InetSocketAddress address) throws IOException {
        int fd = Sockets.open(address.getAddress() instanceof java.net.Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        try {
            Sockets.setOption(fd, SockOpt.SO_REUSEADDR, 1);
            Sockets.setOption(fd, SockOpt.SO_REUSEPORT, 1);
            Sockets.bind(fd, address);
            Sockets.listen(fd, 1024);
            return fd;
        } catch (IOException | RuntimeException e) {
            closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Runs a server on {@code --loops} event loops (1 unless given), each a thread with its own selector
     * and listener; see the class comment. The status line is printed once, when every listener listens.
     *
     * @param name           the subcommand, for the status line and logs
     * @param options        its options
     * @param defaultPort    the port when {@code --port} is not given
     * @param listenerEvents the listeners' events
     * @param server         makes one loop's listener handler (called on the thread that calls this)
     * @param out            where the status line goes
     * @return {@link Command#OK}
     * @throws IOException if a listener cannot be opened or a select fails; everything is closed then
     */
    static int serve(String name, Options options, int defaultPort, int listenerEvents,
                     Function<EventLoop, Handler> server, PrintStream out) throws IOException {
        int count = options.integer("loops", 1, 1, MAX_LOOPS);
        List<EventLoop> loops = new ArrayList<>();
        List<Handler> acceptors = new ArrayList<>();
        try {
            InetSocketAddress address = options.listenAddress(defaultPort);
            for (int i = 0; i < count; i++) {
                // The first binds what was asked (port 0: a free one); the others bind the port it got.
                EventLoop loop = open(name, i, count, options, i == 0 ? address : loops.get(0).address());
                loops.add(loop);
                acceptors.add(server.apply(loop));
            }
        } catch (IOException | RuntimeException e) {
            for (EventLoop loop : loops) {
                loop.closeEverything();
            }
            throw e;
        }
        return runAll(loops, listenerEvents, acceptors, out);
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
        return runAll(List.of(this), listenerEvents, List.of(acceptor), out);
    }

    /**
     * Runs the loops, the first on this thread and each other on a thread of its own, until SIGINT or
     * SIGTERM or until one fails (then the others stop too); closes everything either way.
     */
    private static int runAll(List<EventLoop> loops, int listenerEvents, List<Handler> acceptors, PrintStream out)
            throws IOException {
        EventLoop first = loops.get(0);
        Thread hook = new Thread(() -> stopFromSignal(loops), first.name + "-shutdown");
        Throwable[] failure = new Throwable[1];
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            out.println(first.name + " on " + hostAndPort(first.address) + ", backend " + first.selector.backend()
                    + ", pid " + ProcessHandle.current().pid());
            if (loops.size() > 1) {
                out.println(first.name + ": " + loops.size() + " loops, each a thread with its own selector and its own "
                        + "SO_REUSEPORT listener");
            }
            out.flush();
            for (int i = 1; i < loops.size(); i++) {
                EventLoop loop = loops.get(i);
                Handler acceptor = acceptors.get(i);
                Thread t = new Thread(() -> {
                    try {
                        loop.loop(listenerEvents, acceptor);
                    } catch (IOException | RuntimeException | Error e) {
                        synchronized (failure) {
                            if (failure[0] == null) {
                                failure[0] = e;
                            }
                        }
                        stop(loops);
                    }
                }, first.name + "-loop-" + (i + 1));
                loop.thread = t;
                t.start();
            }
            try {
                first.loop(listenerEvents, acceptors.get(0));
            } finally {
                stop(loops);
                for (EventLoop loop : loops) {
                    if (loop.thread != null) {
                        join(loop.thread);
                    }
                }
            }
        } finally {
            for (EventLoop loop : loops) {
                loop.closeEverything(); // a no-op for those that ran: they closed their own
                loop.stopped.countDown();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is what stopped us
            }
        }
        synchronized (failure) {
            if (failure[0] instanceof IOException e) {
                throw e;
            } else if (failure[0] instanceof RuntimeException e) {
                throw e;
            } else if (failure[0] instanceof Error e) {
                throw e;
            }
        }
        return Command.OK;
    }

    /** One loop: registers the listener, selects until stopped, then closes what it owns. */
    private void loop(int listenerEvents, Handler acceptor) throws IOException {
        try {
            selector.register(listener, listenerEvents, acceptor);
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
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
            accepted++;
            int conn = fd;
            LOG.log(System.Logger.Level.DEBUG, () -> "accepted fd " + conn + " from " + peer(conn)
                    + (count > 1 ? " (loop " + (index + 1) + ")" : ""));
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

    private static void stopFromSignal(List<EventLoop> loops) {
        LOG.log(System.Logger.Level.INFO, loops.get(0).name + " shutting down (SIGINT or SIGTERM)");
        stop(loops);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_WAIT_SECONDS);
        try {
            for (EventLoop loop : loops) {
                if (!loop.stopped.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                    LOG.log(System.Logger.Level.WARNING, "the event loop did not stop within " + STOP_WAIT_SECONDS + " s");
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asks every loop to stop: clears its flag and wakes its selector. Any thread. */
    private static void stop(List<EventLoop> loops) {
        for (EventLoop loop : loops) {
            loop.running = false;
            try {
                loop.selector.wakeup();
            } catch (RuntimeException alreadyClosed) {
                // the loop ended by itself meanwhile
            }
        }
    }

    /** Closes what this loop owns, once; on the loop's thread, or on the caller's if the loop never ran. */
    private synchronized void closeEverything() {
        if (closed) {
            return;
        }
        closed = true;
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
        LOG.log(System.Logger.Level.INFO, name + (count > 1 ? " loop " + (index + 1) + " of " + count : "")
                + " stopped: closed the selector, the listener, " + connections
                + " connection(s) and the spare descriptor; it accepted " + accepted + " connection(s)");
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
