package dev.iomux.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import dev.iomux.Events;
import dev.iomux.SelectorKey;
import dev.iomux.io.Descriptors;
import dev.iomux.io.SockOpt;
import dev.iomux.io.Sockets;

/**
 * {@code iomux chat}: a chat server; each line a client sends goes to every other client.
 *
 * <p>Run it with {@code ./iomux chat --port 7000}, then in two or more terminals
 * {@code ./iomux client --port 7000} (or {@code nc 127.0.0.1 7000}) and type.
 *
 * <p>It is the textbook use of I/O multiplexing: one server thread handling many sockets, a chat room.
 * A client that does not read must not hold up the others: each client's output queue is bounded
 * ({@code --queue-limit}); when a line would overflow it, the queue is replaced by a notice, the client
 * is no longer sent anything, and it is closed once the notice is out, or after {@code --grace} if it
 * never reads it. Everything else goes on meanwhile: no write ever blocks.
 */
final class ChatServer {
    static final String USAGE = """
            usage: iomux chat [-b|--backend select|poll|epoll|uring|uring-single] [--host 127.0.0.1]
                              [-p|--port 7000] [--queue-limit 65536] [--grace 5s] [-v|--verbose]
              A chat server: every line goes to every other client, as "address> line".
              --queue-limit: bytes waiting for one client before it is told it is too slow and dropped.
              --grace: how long a dropped client has to read that notice before it is closed anyway."""
            + "\n" + Command.SERVER_EXIT;

    private static final System.Logger LOG = System.getLogger(ChatServer.class.getName());
    private static final int MAX_LINE = 4096;

    private final EventLoop loop;
    private final int queueLimit;
    private final long graceNanos;
    private final Map<Integer, Client> clients = new LinkedHashMap<>();

    private ChatServer(EventLoop loop, int queueLimit, Duration grace) {
        this.loop = loop;
        this.queueLimit = queueLimit;
        this.graceNanos = grace.toNanos();
    }

    /** The subcommand; see {@link Command#run}. */
    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options options = Options.parse("chat", args, Set.of("host", "port", "queue-limit", "grace"), Set.of())
                .noPositional();
        int limit = options.integer("queue-limit", 64 * 1024, MAX_LINE + 100, Integer.MAX_VALUE);
        Duration grace = options.duration("grace", Duration.ofSeconds(5));
        EventLoop loop = EventLoop.open("chat", options, 7000);
        ChatServer chat = new ChatServer(loop, limit, grace);
        loop.every(Duration.ofSeconds(1), chat::closeOverdue);
        return loop.run(Events.READ, (key, events) -> chat.accept(), out);
    }

    private void accept() throws IOException {
        for (int fd; (fd = loop.accept()) >= 0; ) {
            Client c;
            try {
                // socket(7): a fixed SO_SNDBUF turns off autotuning, which would let up to tcp_wmem[2]
                // (4 MiB) pile up in the kernel for a client that does not read before the bound applies.
                Sockets.setOption(fd, SockOpt.SO_SNDBUF, queueLimit);
                c = new Client(fd, EventLoop.hostAndPort((InetSocketAddress) Sockets.remoteAddress(fd)));
            } catch (IOException goneAlready) { // ENOTCONN: reset before we got to it
                loop.close(fd);
                continue;
            }
            if (loop.register(fd, Events.READ, c)) {
                broadcast(c, "* " + c.name + " joined\n");
                clients.put(fd, c);
            }
        }
    }

    /** Queues a message for every client but {@code from} and those being dropped. */
    private void broadcast(Client from, String message) throws IOException {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        for (Client c : new ArrayList<>(clients.values())) {
            if (c != from && c.dropDeadline == 0 && c.isIn()) {
                c.send(bytes);
            }
        }
    }

    private void leave(Client c, String why) throws IOException {
        clients.remove(c.fd);
        loop.close(c.fd);
        broadcast(c, "* " + c.name + " " + why + "\n");
    }

    private void closeOverdue() {
        long now = System.nanoTime();
        for (Client c : new ArrayList<>(clients.values())) {
            if (c.dropDeadline != 0 && now - c.dropDeadline > 0) {
                LOG.log(System.Logger.Level.INFO, "closing " + c.name + ": it did not read the notice in time");
                clients.remove(c.fd);
                loop.close(c.fd);
            }
        }
    }

    private final class Client implements EventLoop.Handler {
        final int fd;
        final String name;
        final ByteBuffer line = ByteBuffer.allocate(MAX_LINE);
        final OutQueue queue = new OutQueue();
        long dropDeadline; // System.nanoTime() by which a dropped client must have read its notice; 0 if not dropped

        Client(int fd, String name) {
            this.fd = fd;
            this.name = name;
        }

        @Override
        public void ready(SelectorKey key, int events) throws IOException {
            try {
                if (Events.any(events, Events.READ)) {
                    read();
                }
                if (Events.any(events, Events.WRITE) && isIn()) {
                    flush();
                }
            } catch (IOException reset) {
                if (isIn()) {
                    leave(this, "left (" + reset.getMessage() + ")");
                }
            }
        }

        /** @return whether this client is still connected (its descriptor not closed, maybe reused) */
        boolean isIn() {
            return clients.get(fd) == this;
        }

        private void read() throws IOException {
            int n = Descriptors.read(fd, line);
            if (n == 0) {
                leave(this, "left");
                return;
            }
            if (dropDeadline != 0) {
                line.clear(); // dropped: what it says goes nowhere
                return;
            }
            line.flip();
            for (int i = line.position(); i < line.limit(); i++) {
                if (line.get(i) == '\n') {
                    sendLine(i + 1);
                    i = line.position() - 1;
                }
            }
            if (line.position() == 0 && line.limit() == line.capacity()) {
                sendLine(line.limit()); // a line longer than MAX_LINE goes out in pieces
            }
            line.compact();
        }

        /** Sends the bytes from the buffer's position to {@code end} to everyone else, and skips them. */
        private void sendLine(int end) throws IOException {
            String text = new String(line.array(), line.position(), end - line.position(), StandardCharsets.UTF_8);
            line.position(end);
            broadcast(this, name + "> " + (text.endsWith("\n") ? text : text + "\n"));
        }

        void send(byte[] message) throws IOException {
            try {
                if (queue.bytes() + message.length > queueLimit) {
                    drop();
                } else {
                    queue.add(ByteBuffer.wrap(message));
                    flush();
                }
            } catch (IOException reset) {
                if (isIn()) {
                    leave(this, "left (" + reset.getMessage() + ")"); // this client, not the sender
                }
            }
        }

        private void drop() throws IOException {
            LOG.log(System.Logger.Level.INFO, "dropping slow client " + name + ": " + queue.bytes()
                    + " bytes waiting, limit " + queueLimit);
            queue.clear();
            queue.add(ByteBuffer.wrap(("* you are too slow: more than " + queueLimit
                    + " bytes were waiting for you; goodbye\n").getBytes(StandardCharsets.UTF_8)));
            dropDeadline = System.nanoTime() + graceNanos;
            broadcast(this, "* " + name + " was dropped: too slow\n");
            flush();
        }

        private void flush() throws IOException {
            boolean empty = queue.flush(fd);
            if (empty && dropDeadline != 0) {
                // The notice is out: FIN after it, then close (no RST: we read everything it sent).
                LOG.log(System.Logger.Level.INFO, "dropped slow client " + name + " after telling it");
                Sockets.shutdownOutput(fd);
                clients.remove(fd);
                loop.close(fd);
                return;
            }
            int wanted = empty ? Events.READ : Events.READ | Events.WRITE;
            if (loop.selector().key(fd).interest() != wanted) {
                loop.selector().modify(fd, wanted);
            }
        }
    }
}
