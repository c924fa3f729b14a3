package dev.iomux.conformance;

import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Fds;

/**
 * Seeded random sequences of register / modify / unregister / write / read / shutdown / close over a pool
 * of AF_UNIX socket pairs and pipes, watched at once by one selector of each backend and checked after
 * every step against a small model of the kernel's readiness and against each other.
 *
 * <p>The model: a socket end is writable (writes are kept small) and readable when bytes are queued or
 * its peer shut down or closed; a pipe's read end is readable with bytes or without writers, a write end
 * writable, and both directions ready on a write end without readers (POLLERR). A hang-up on a pipe's read
 * end is also shown as writable where the backend tells hang-ups apart (poll, epoll: ERROR_HANGUP), and
 * not by select(2), whose writefds never include POLLHUP: the one place the backends may differ.
 * Closing drains first (closing an AF_UNIX socket with unread data resets its peer, which the scripted
 * rules cover). Backends that both declare ERROR_HANGUP must report identical masks.
 *
 * <p>A failure names the seed; {@code check(seed, ...)} replays it exactly.
 */
public final class RandomSequences {
    private static final int SOCKET_PAIRS = 3;
    private static final int PIPES = 2;
    private static final int MAX_QUEUED = 2048;
    private static final int MAX_SEGMENTS = 8;

    private RandomSequences() {
    }

    /** One end of a socket pair or a pipe, and what the model knows of it. */
    private static final class End {
        final String name;
        final boolean socket;
        final boolean canRead;
        final boolean canWrite;
        int fd;
        End peer;
        boolean open = true;
        boolean shutWr;
        int queued;        // bytes readable here
        int segments;      // writes queued here and not wholly read
        int interest;      // 0: not registered

        End(String name, boolean socket, boolean canRead, boolean canWrite) {
            this.name = name;
            this.socket = socket;
            this.canRead = canRead;
            this.canWrite = canWrite;
        }

        boolean endOfStream() {
            return socket ? peer.shutWr || !peer.open : !peer.open;
        }

        /** Directions the model expects for this end's interest; {@code hangUpFlags}: poll/epoll. */
        int expected(boolean hangUpFlags) {
            int ready = 0;
            if (socket) {
                ready = WRITE | (queued > 0 || endOfStream() ? READ : 0);
            } else if (canRead) {
                ready = (queued > 0 || !peer.open ? READ : 0) | (!peer.open && hangUpFlags ? WRITE : 0);
            } else {
                ready = WRITE | (!peer.open ? READ : 0);
            }
            return ready & interest;
        }

        @Override
        public String toString() {
            return name + "(fd " + fd + ")";
        }
    }

    /**
     * Runs one sequence.
     *
     * @param seed      the sequence's seed
     * @param steps     how many operations
     * @param providers the backends to watch with, at least one
     * @throws AssertionError naming the seed and the last steps if a backend disagrees with the model or,
     *                        where both declare ERROR_HANGUP, with another backend
     * @throws IOException    if a system call fails
     */
    public static void check(long seed, int steps, List<SelectorProvider> providers) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        Deque<String> log = new ArrayDeque<>();
        List<Selector> selectors = new ArrayList<>();
        try (Fds fds = new Fds()) {
            List<End> ends = new ArrayList<>();
            for (int i = 0; i < SOCKET_PAIRS; i++) {
                int[] p = fds.socketPair();
                End a = new End("s" + i + "a", true, true, true);
                End b = new End("s" + i + "b", true, true, true);
                link(a, p[0], b, p[1]);
                ends.add(a);
                ends.add(b);
            }
            for (int i = 0; i < PIPES; i++) {
                int[] p = fds.pipe();
                End r = new End("p" + i + "r", false, true, false);
                End w = new End("p" + i + "w", false, false, true);
                link(r, p[0], w, p[1]);
                ends.add(r);
                ends.add(w);
            }
            for (SelectorProvider p : providers) {
                selectors.add(p.open());
            }
            for (int step = 0; step < steps; step++) {
                String op = step(random, ends, selectors, fds);
                if (op == null) {
                    break;
                }
                log.addLast(step + ": " + op);
                if (log.size() > 40) {
                    log.removeFirst();
                }
                compare(ends, providers, selectors, seed, log);
            }
        } catch (AssertionError e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("seed " + seed + ": " + e + "\nlast steps:\n  " + String.join("\n  ", log), e);
        } finally {
            for (Selector s : selectors) {
                s.close();
            }
        }
    }

    private static void link(End a, int fdA, End b, int fdB) {
        a.fd = fdA;
        b.fd = fdB;
        a.peer = b;
        b.peer = a;
    }

    private static String step(SplittableRandom random, List<End> ends, List<Selector> selectors, Fds fds)
            throws IOException {
        for (int attempt = 0; ; attempt++) {
            if (attempt == 10_000) {
                return null; // every end closed: the sequence is over
            }
            End e = ends.get(random.nextInt(ends.size()));
            if (!e.open) {
                continue;
            }
            int interest = new int[] {READ, WRITE, READ | WRITE}[random.nextInt(3)];
            switch (random.nextInt(8)) {
                case 0, 1 -> {
                    if (e.interest != 0) {
                        continue;
                    }
                    for (Selector s : selectors) {
                        s.register(e.fd, interest);
                    }
                    e.interest = interest;
                    return "register " + e + " " + Events.toString(interest);
                }
                case 2 -> {
                    if (e.interest == 0) {
                        continue;
                    }
                    for (Selector s : selectors) {
                        s.modify(e.fd, interest);
                    }
                    e.interest = interest;
                    return "modify " + e + " " + Events.toString(interest);
                }
                case 3 -> {
                    if (e.interest == 0) {
                        continue;
                    }
                    unregister(e, selectors);
                    return "unregister " + e;
                }
                case 4 -> {
                    End to = e.peer;
                    if (!e.canWrite || e.shutWr || !to.open || to.queued >= MAX_QUEUED || to.segments >= MAX_SEGMENTS) {
                        continue;
                    }
                    int n = 1 + random.nextInt(256);
                    Fds.write(e.fd, n);
                    to.queued += n;
                    to.segments++;
                    return "write " + n + " to " + e;
                }
                case 5 -> {
                    if (!e.canRead) {
                        continue;
                    }
                    int n = 1 + random.nextInt(512);
                    int got = Descriptors.read(e.fd, ByteBuffer.allocate(n));
                    int want = e.queued > 0 ? Math.min(n, e.queued) : e.endOfStream() ? 0 : Descriptors.WOULD_BLOCK;
                    if (got != want) {
                        throw new AssertionError("read(" + e + ", " + n + ") returned " + got + ", the model says "
                                + want + " (queued " + e.queued + ", end of stream " + e.endOfStream() + ")");
                    }
                    consumed(e, Math.max(got, 0));
                    return "read " + n + " from " + e + ": " + got;
                }
                case 6 -> {
                    if (!e.socket || e.shutWr) {
                        continue;
                    }
                    Sockets.shutdownOutput(e.fd);
                    e.shutWr = true;
                    return "shutdown(SHUT_WR) " + e;
                }
                default -> {
                    if (random.nextInt(4) != 0) {
                        continue; // closes are rarer, or the pool empties too soon
                    }
                    if (e.interest != 0) {
                        unregister(e, selectors);
                    }
                    if (e.canRead) {
                        consumed(e, (int) Fds.drain(e.fd));
                    }
                    fds.close(e.fd);
                    e.open = false;
                    return "drain and close " + e;
                }
            }
        }
    }

    private static void consumed(End e, int n) {
        e.queued -= n;
        if (e.queued == 0) {
            e.segments = 0;
        }
    }

    private static void unregister(End e, List<Selector> selectors) throws IOException {
        for (Selector s : selectors) {
            s.unregister(e.fd);
        }
        e.interest = 0;
    }

    private static void compare(List<End> ends, List<SelectorProvider> providers, List<Selector> selectors,
            long seed, Deque<String> log) throws IOException {
        List<Map<Integer, Integer>> seen = new ArrayList<>();
        for (Selector s : selectors) {
            Map<Integer, Integer> got = new HashMap<>();
            for (Ready r : s.selectNow()) {
                if (got.put(r.fd(), r.events()) != null) {
                    fail(seed, log, s.backend() + " reported fd " + r.fd() + " twice in one select");
                }
            }
            seen.add(got);
        }
        for (int i = 0; i < selectors.size(); i++) {
            boolean flags = providers.get(i).capabilities().supports(Capability.ERROR_HANGUP);
            for (End e : ends) {
                int got = seen.get(i).getOrDefault(e.fd, 0);
                if (!e.open || e.interest == 0) {
                    if (got != 0 && !e.open) {
                        fail(seed, log, selectors.get(i).backend() + " reported closed " + e);
                    }
                    if (got != 0 && e.open) {
                        fail(seed, log, selectors.get(i).backend() + " reported unregistered " + e);
                    }
                    continue;
                }
                int want = e.expected(flags);
                if ((got & (READ | WRITE)) != want) {
                    fail(seed, log, selectors.get(i).backend() + ": " + e + " with interest "
                            + Events.toString(e.interest) + " reported " + Events.toString(got) + ", the model says "
                            + Events.toString(want) + " (queued " + e.queued + ", end of stream " + e.endOfStream()
                            + ", peer open " + e.peer.open + ")");
                }
            }
        }
        int reference = -1; // the first backend that tells hang-ups apart; the others that do must agree
        for (int i = 0; i < selectors.size(); i++) {
            if (!providers.get(i).capabilities().supports(Capability.ERROR_HANGUP)) {
                continue;
            }
            if (reference < 0) {
                reference = i;
            } else if (!seen.get(reference).equals(seen.get(i))) {
                fail(seed, log, selectors.get(reference).backend() + " reported " + render(seen.get(reference))
                        + " but " + selectors.get(i).backend() + " reported " + render(seen.get(i)));
            }
        }
    }

    private static String render(Map<Integer, Integer> m) {
        StringBuilder b = new StringBuilder("{");
        m.forEach((fd, ev) -> b.append(' ').append(fd).append('=').append(Events.toString(ev)));
        return b.append(" }").toString();
    }

    private static void fail(long seed, Deque<String> log, String what) {
        throw new AssertionError("seed " + seed + " (replay: RandomSequences.check(" + seed + "L, ...)): " + what
                + "\nlast steps:\n  " + String.join("\n  ", log));
    }
}
