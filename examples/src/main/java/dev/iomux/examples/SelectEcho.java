package dev.iomux.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.Set;

import dev.iomux.Events;
import dev.iomux.SelectorKey;
import dev.iomux.io.Descriptors;

/**
 * {@code iomux select-echo}: the classic select echo server, with a queue of output per connection.
 *
 * <p>Run it with {@code ./iomux select-echo --backend select --port 9999} and talk to it with
 * {@code nc 127.0.0.1 9999} or {@code ./iomux client --port 9999}.
 *
 * <p>It follows the select echo server of Python's module tutorials (PyMOTW's {@code select}): what a
 * connection sends goes into its queue ({@code message_queues[s] = queue.Queue()}); the connection is in
 * {@code outputs}, that is, has WRITE interest, only while its queue holds data, so that select does not
 * report it writable for nothing; a connection in the exceptional list (ERROR or HANGUP where the backend
 * reports them) is dropped. Unlike that example it keeps reading while data is
 * queued, up to a bound, and stops reading above it until the client has taken its echo.
 */
final class SelectEcho {
    static final String USAGE = """
            usage: iomux select-echo [-b|--backend select|poll|epoll|uring|uring-single] [--host 127.0.0.1]
                                     [-p|--port 9999] [--queue-limit 262144] [-v|--verbose]
              The classic select echo server: a queue per connection, WRITE interest only while it holds data.
              --queue-limit: bytes queued for one client before the server stops reading from it."""
            + "\n" + Command.SERVER_EXIT;

    private SelectEcho() {
    }

    /** The subcommand; see {@link Command#run}. */
    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options options = Options.parse("select-echo", args, Set.of("host", "port", "queue-limit"), Set.of())
                .noPositional();
        int limit = options.integer("queue-limit", 256 * 1024, 1, Integer.MAX_VALUE);
        EventLoop loop = EventLoop.open("select-echo", options, 9999);
        return loop.run(Events.READ, (key, events) -> {
            for (int conn; (conn = loop.accept()) >= 0; ) {
                loop.register(conn, Events.READ, new Connection(loop, limit)); // inputs.append(conn)
            }
        }, out);
    }

    private static final class Connection implements EventLoop.Handler {
        private final EventLoop loop;
        private final int limit;
        private final OutQueue queue = new OutQueue();

        Connection(EventLoop loop, int limit) {
            this.loop = loop;
            this.limit = limit;
        }

        @Override
        public void ready(SelectorKey key, int events) throws IOException {
            int fd = key.fd();
            if (Events.any(events, Events.ERROR | Events.HANGUP) && !Events.any(events, Events.READ)) {
                loop.close(fd); // "for e in exceptional": nothing left to read, so nothing to echo
                return;
            }
            if (key.interest() != Events.WRITE && Events.any(events, Events.READ)) {
                ByteBuffer data = ByteBuffer.allocate(1024); // data = r.recv(1024)
                int n = Descriptors.read(fd, data);
                if (n == 0) {
                    loop.close(fd);
                    return;
                }
                queue.add(data.flip()); // msg_dic[r].put(data)
            }
            if (Events.any(events, Events.WRITE) || !queue.isEmpty()) {
                queue.flush(fd); // w.send(data_to_client)
            }
            // In outputs only while something is queued; out of inputs while too much is.
            int wanted = (queue.bytes() < limit ? Events.READ : 0) | (queue.isEmpty() ? 0 : Events.WRITE);
            if (key.interest() != wanted) {
                loop.selector().modify(fd, wanted);
            }
        }
    }
}
