package dev.iomux.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.Set;

import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.SelectorKey;
import dev.iomux.SelectorProvider;
import dev.iomux.io.Descriptors;

/**
 * {@code iomux et-echo}: an echo server in edge-triggered mode, with the EAGAIN loops of epoll(7).
 *
 * <p>Run it with {@code ./iomux et-echo --port 8788} (epoll) and talk to it with {@code nc 127.0.0.1 8788}.
 *
 * <p>It follows epoll(7)'s advice for edge-triggered use: an edge is reported once, when readiness
 * changes, so after each event the server accepts, reads and writes until the call fails with EAGAIN (a
 * read that fills the buffer may leave more behind), on non-blocking sockets only. Each connection is
 * registered once for READ and WRITE with EDGE and never modified. When its echo queue is full it stops reading
 * before EAGAIN and remembers that, since no new edge will come for the data already waiting; it reads on
 * once the queue drains. select and poll have no edge-triggered mode, so on them it refuses to start.
 */
final class EdgeEcho {
    static final String USAGE = """
            usage: iomux et-echo [-b|--backend epoll|uring|uring-single] [--host 127.0.0.1] [-p|--port 8788]
                                 [--queue-limit 262144] [-v|--verbose]
              Edge-triggered echo (Events.EDGE): accept, read and write each until EAGAIN. Needs epoll
              or uring."""
            + "\n  Exit status: 130 after SIGINT and 143 after SIGTERM (a clean stop either way), 1 if it cannot\n"
            + "  listen or fails, 2 for bad arguments or a backend without edge-triggered mode.";

    private EdgeEcho() {
    }

    /** The subcommand; see {@link Command#run}. */
    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options options = Options.parse("et-echo", args, Set.of("host", "port", "queue-limit"), Set.of())
                .noPositional();
        int limit = options.integer("queue-limit", 256 * 1024, 1, Integer.MAX_VALUE);
        SelectorProvider backend = options.provider();
        if (!backend.capabilities().supports(Capability.EDGE)) {
            err.println("iomux et-echo: the " + backend.name() + " backend has no edge-triggered mode (Events.EDGE, "
                    + "epoll's EPOLLET); select(2) and poll(2) report levels only. Run it with --backend epoll "
                    + "(or uring), or try echo-server, which works on every backend.");
            return Command.USAGE;
        }
        EventLoop loop = EventLoop.open("et-echo", options, 8788);
        return loop.run(Events.READ | Events.EDGE, (key, events) -> {
            for (int conn; (conn = loop.accept()) >= 0; ) { // until EAGAIN: the edge will not come again
                loop.register(conn, Events.READ | Events.WRITE | Events.EDGE, new Connection(loop, limit));
            }
        }, out);
    }

    private static final class Connection implements EventLoop.Handler {
        private final EventLoop loop;
        private final int limit;
        private final OutQueue queue = new OutQueue();
        private boolean unread = true; // data may be waiting that no edge will announce again
        private boolean ended;

        Connection(EventLoop loop, int limit) {
            this.loop = loop;
            this.limit = limit;
        }

        @Override
        public void ready(SelectorKey key, int events) throws IOException {
            int fd = key.fd();
            if (Events.any(events, Events.READ)) {
                unread = true;
            }
            queue.flush(fd); // until EAGAIN or empty
            while (unread && !ended && queue.bytes() < limit) {
                ByteBuffer data = ByteBuffer.allocate(16 * 1024);
                int n = Descriptors.read(fd, data);
                if (n == Descriptors.WOULD_BLOCK) {
                    unread = false; // EAGAIN: drained; the next edge will say when more comes
                } else if (n == 0) {
                    ended = true;
                } else {
                    queue.add(data.flip());
                    queue.flush(fd);
                }
            }
            if (ended && queue.isEmpty()) {
                loop.close(fd);
            }
        }
    }
}
