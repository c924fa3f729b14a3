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
 * {@code iomux et-echo}: an echo server in edge-triggered mode, with seed 004's EAGAIN loops.
 *
 * <p>Run it with {@code ./iomux et-echo --port 8788} (epoll) and talk to it with {@code nc 127.0.0.1 8788}.
 *
 * <p>It follows seed 004's "ET模式" passage: an edge is reported once, when readiness changes, so after
 * each event the server accepts, reads and writes until the call fails with EAGAIN ("当recv()返回的大小如果
 * 等于请求的大小，那么很有可能是缓冲区还有数据未读完 ... 还需要再次读取"; "errno为EAGAIN时,表示当前缓冲区已无
 * 数据可读"), on non-blocking sockets only ("ET模式只能和非阻塞IO配合使用"). Each connection is registered
 * once for READ and WRITE with EDGE and never modified. When its echo queue is full it stops reading
 * before EAGAIN and remembers that, since no new edge will come for the data already waiting; it reads on
 * once the queue drains. select and poll have no edge-triggered mode, so on them it refuses to start.
 */
final class EdgeEcho {
    static final String USAGE = """
            usage: iomux et-echo [--backend epoll] [--host 127.0.0.1] [--port 8788] [--queue-limit 262144] [--verbose]
              Edge-triggered echo (Events.EDGE): accept, read and write each until EAGAIN. Needs epoll.""";

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
                    + "epoll's EPOLLET); select(2) and poll(2) report levels only. Run it with --backend epoll, "
                    + "or try echo-server, which works on every backend.");
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
