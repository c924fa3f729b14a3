package dev.iomux.conformance;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.FLAGS;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Fds;

/**
 * Scripted situations set up once and watched by one selector of each backend at the same time, their
 * reports compared. The rules say where the backends agree and where they differ:
 * <ul>
 *   <li>backends that tell errors and hang-ups apart (poll, epoll: ERROR_HANGUP) report the same mask;</li>
 *   <li>select(2) folds them (fs/select.c: POLLIN_SET holds POLLHUP and POLLERR, POLLOUT_SET holds
 *       POLLERR): without E or H its directions equal the others'; with H it shows at least R, with E at
 *       least R and W, never more than the others, and never a flag;</li>
 *   <li>epoll refuses regular files (FILE-EPOLL-EPERM): that script is compared on the others only.</li>
 * </ul>
 */
public final class Differential {
    /** A situation: sets up descriptors and returns the fd to watch and the interest to watch it with. */
    @FunctionalInterface
    public interface Script {
        /**
         * @param fds where to open descriptors
         * @return {@code {fd, interest}}
         * @throws Exception if the set-up fails
         */
        int[] setUp(Fds fds) throws Exception;
    }

    private Differential() {
    }

    /** @return the scripted situations by name, each citing the rule it shows */
    public static Map<String, Script> scripts() {
        Map<String, Script> s = new LinkedHashMap<>();
        s.put("READ-DATA tcp4: 1 byte", f -> {
            int[] c = f.connectedPair(StandardProtocolFamily.INET);
            Kit.send(c[0], 1);
            return new int[] {c[1], READ | WRITE};
        });
        s.put("READ-FIN tcp6: peer SHUT_WR", f -> {
            int[] c = f.connectedPair(StandardProtocolFamily.INET6);
            Sockets.shutdownOutput(c[0]);
            return new int[] {c[1], READ | WRITE};
        });
        s.put("READ-ERROR tcp4: reset", f -> {
            int[] c = f.connectedPair(StandardProtocolFamily.INET);
            Sockets.setLinger(c[0], true, 0);
            f.close(c[0]);
            return new int[] {c[1], READ | WRITE};
        });
        s.put("READ-ACCEPT tcp4: listener with a queued connection", f -> {
            int l = f.listener(StandardProtocolFamily.INET, 4);
            f.track(Sockets.connect(Sockets.localAddress(l)));
            return new int[] {l, READ | WRITE};
        });
        s.put("WRITE-CONNECT-REFUSED tcp4", f -> {
            int l = f.listener(StandardProtocolFamily.INET, 1);
            InetSocketAddress a = (InetSocketAddress) Sockets.localAddress(l);
            f.close(l);
            SocketAddress closed = new InetSocketAddress(a.getAddress(), a.getPort());
            int fd = f.track(Sockets.open(StandardProtocolFamily.INET));
            Sockets.connect(fd, closed);
            return new int[] {fd, READ | WRITE};
        });
        s.put("PRI-OOB tcp4: urgent byte", f -> {
            int[] c = f.connectedPair(StandardProtocolFamily.INET);
            Kit.sendUrgent(c[0], (byte) 1);
            return new int[] {c[1], PRIORITY};
        });
        s.put("UNIX-HUP: peer closed", f -> {
            int[] p = f.socketPair();
            f.close(p[1]);
            return new int[] {p[0], READ | WRITE};
        });
        s.put("UNIX-HUP: peer SHUT_WR", f -> {
            int[] p = f.socketPair();
            Sockets.shutdownOutput(p[1]);
            return new int[] {p[0], READ | WRITE};
        });
        s.put("PIPE-HUP: writer closed, data left", f -> {
            int[] p = f.pipe();
            Fds.write(p[1], 3);
            f.close(p[1]);
            return new int[] {p[0], READ | WRITE};
        });
        s.put("PIPE-HUP: writer closed, empty", f -> {
            int[] p = f.pipe();
            f.close(p[1]);
            return new int[] {p[0], READ | WRITE};
        });
        s.put("PIPE-EPIPE: reader closed", f -> {
            int[] p = f.pipe();
            f.close(p[0]);
            return new int[] {p[1], READ | WRITE};
        });
        s.put("WRITE-SPACE: full pipe", f -> {
            int[] p = f.pipe();
            Fds.fill(p[1]);
            return new int[] {p[1], READ | WRITE};
        });
        s.put("FILE-ALWAYS-READY: regular file", f -> new int[] {f.regularFile(), READ | WRITE});
        return s;
    }

    /**
     * Sets up one script and compares what each backend reports for it.
     *
     * @param name      a script's name, from {@link #scripts()}
     * @param providers the backends to compare (an epoll-like one that refuses the fd sits the script out)
     * @return what each backend reported, by backend name (e.g. {@code poll=R W E H RH})
     * @throws AssertionError if they differ where the rules say they agree
     * @throws Exception       if a system call or a backend fails
     */
    public static Map<String, String> compare(String name, List<SelectorProvider> providers) throws Exception {
        Script script = scripts().get(name);
        if (script == null) {
            throw new IllegalArgumentException("no script named '" + name + "'; scripts are " + scripts().keySet());
        }
        List<Selector> selectors = new ArrayList<>();
        Map<String, String> report = new LinkedHashMap<>();
        try (Fds fds = new Fds()) {
            int[] watch = script.setUp(fds);
            int fd = watch[0];
            int interest = watch[1];
            List<Selector> watching = new ArrayList<>();
            for (SelectorProvider p : providers) {
                Selector s = p.open();
                selectors.add(s);
                try {
                    s.register(fd, interest);
                    watching.add(s);
                } catch (dev.iomux.NativeIOException e) {
                    if (!"EPERM".equals(e.errnoName())) {
                        throw e;
                    }
                    report.put(p.name(), "refused (EPERM)");
                }
            }
            // Loopback delivers in the background (a reset, a refused SYN): wait until every backend that
            // watches reports the fd, then take one more look from each.
            long deadline = System.nanoTime() + 2_000_000_000L;
            for (Selector s : watching) {
                while (events(s, fd, Duration.ofMillis(100)) == 0 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
            }
            Map<Selector, Integer> seen = new LinkedHashMap<>();
            for (Selector s : watching) {
                seen.put(s, events(s, fd, Duration.ZERO));
                report.put(s.backend(), Run.notation(seen.get(s)));
            }
            Integer reference = null;
            String referenceName = null;
            for (Map.Entry<Selector, Integer> e : seen.entrySet()) {
                if (e.getKey().capabilities().supports(Capability.ERROR_HANGUP)) {
                    if (reference == null) {
                        reference = e.getValue();
                        referenceName = e.getKey().backend();
                    } else if (!reference.equals(e.getValue())) {
                        throw new AssertionError(name + ": " + referenceName + " reported " + Run.notation(reference)
                                + " but " + e.getKey().backend() + " reported " + Run.notation(e.getValue()));
                    }
                }
            }
            if (reference != null) {
                for (Map.Entry<Selector, Integer> e : seen.entrySet()) {
                    if (!e.getKey().capabilities().supports(Capability.ERROR_HANGUP)) {
                        checkFolded(name, e.getKey().backend(), e.getValue(), reference, interest);
                    }
                }
            }
        } finally {
            for (Selector s : selectors) {
                s.close();
            }
        }
        return report;
    }

    private static void checkFolded(String name, String backend, int folded, int full, int interest) {
        int directions = READ | WRITE | PRIORITY;
        String what = name + ": " + backend + " reported " + Run.notation(folded) + ", the others "
                + Run.notation(full);
        if ((folded & FLAGS) != 0) {
            throw new AssertionError(what + ": a backend without ERROR_HANGUP cannot show flags");
        }
        if ((folded & ~(full & directions)) != 0) {
            throw new AssertionError(what + ": more than the others");
        }
        int mustShow;
        if ((full & (ERROR | HANGUP)) == 0) {
            mustShow = full & directions;
        } else {
            mustShow = interest & ((full & ERROR) != 0 ? READ | WRITE : READ);
            mustShow |= full & PRIORITY;
        }
        if ((folded & mustShow) != mustShow) {
            throw new AssertionError(what + ": it must show at least " + Events.toString(mustShow));
        }
    }

    private static int events(Selector s, int fd, Duration timeout) throws Exception {
        for (Ready r : s.select(timeout)) {
            if (r.fd() == fd) {
                return r.events();
            }
        }
        return 0;
    }
}
