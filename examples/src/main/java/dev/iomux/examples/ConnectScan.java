package dev.iomux.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.examples.Command.UsageException;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;

/**
 * {@code iomux connect-scan}: non-blocking connects to many targets at once, under one timeout.
 *
 * <p>Run it with {@code ./iomux connect-scan 127.0.0.1:22 127.0.0.1:1 --timeout 2s}.
 *
 * <p>It follows connect(2) on non-blocking sockets (EINPROGRESS): connect returns at once while the
 * handshake goes on; select reports the socket writable when the connect has succeeded or failed;
 * getsockopt(SO_ERROR) tells which. Its three uses are the point here: handshakes overlap other work,
 * many connections are made at once, and select's time limit shortens connect's own timeout (the
 * kernel's SYN retries take minutes). The result is a table: each target,
 * what happened (open, refused, another error, or no answer within the timeout), and how long it took.
 */
final class ConnectScan {
    static final String USAGE = """
            usage: iomux connect-scan [-b|--backend select|poll|epoll|uring|uring-single] [--timeout 3s]
                                  [-v|--verbose] HOST:PORT...
              Connects to every target at once (non-blocking connect, then WRITE, then SO_ERROR) and
              prints a table. --timeout bounds the whole scan. IPv6 targets as [::1]:22."""
            + "\n  Exit status: 0 when the scan is done, whatever it found; 1 if it fails; 2 for bad arguments.";

    /** errno(3): the target answered with a reset, so nothing listens there. */
    private static final int ECONNREFUSED = 111;

    private ConnectScan() {
    }

    /** One target and what became of it. */
    private static final class Target {
        final String text;
        InetSocketAddress address;
        int fd = -1;
        String state = "timeout";
        String detail;
        long started;
        long nanos = -1;

        Target(String text) {
            this.text = text;
        }

        void done(String state, String detail) {
            this.state = state;
            this.detail = detail;
            this.nanos = System.nanoTime() - started;
        }
    }

    /** The subcommand; see {@link Command#run}. */
    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options options = Options.parse("connect-scan", args, Set.of("timeout"), Set.of());
        Duration timeout = options.duration("timeout", Duration.ofSeconds(3));
        if (options.positional().isEmpty()) {
            throw new UsageException("give at least one target, as HOST:PORT");
        }
        List<Target> targets = new ArrayList<>();
        for (String t : options.positional()) {
            Target target = new Target(t);
            target.address = parse(t);
            targets.add(target);
        }
        try (Selector selector = options.openSelector()) {
            long deadline = System.nanoTime() + timeout.toNanos();
            int pending = 0;
            for (Target t : targets) {
                if (start(t, selector)) {
                    pending++;
                }
            }
            while (pending > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                for (Ready ready : selector.select(Duration.ofNanos(left))) {
                    Target t = (Target) ready.attachment();
                    // Writable: the handshake is over, one way or the other. SO_ERROR says which.
                    int error = Sockets.pendingError(t.fd);
                    if (error == 0) {
                        t.done("open", "EINPROGRESS, writable, SO_ERROR 0");
                    } else {
                        t.done(error == ECONNREFUSED ? "closed" : "error",
                                "EINPROGRESS, writable, SO_ERROR " + errnoName(error));
                    }
                    selector.unregister(t.fd);
                    close(t);
                    pending--;
                }
            }
        } finally {
            for (Target t : targets) {
                if (t.fd >= 0) {
                    t.detail = "EINPROGRESS, not writable within " + timeout.toMillis() + " ms";
                    close(t);
                }
            }
        }
        print(targets, out);
        return Command.OK;
    }

    /** Starts one connect; returns whether it is in progress (else its result is known already). */
    private static boolean start(Target t, Selector selector) throws IOException {
        t.started = System.nanoTime();
        try {
            t.fd = Sockets.open(t.address.getAddress() instanceof java.net.Inet6Address
                    ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            if (Sockets.connect(t.fd, t.address)) {
                t.done("open", "connected at once");
                close(t);
                return false;
            }
            selector.register(t.fd, Events.WRITE, t);
            return true;
        } catch (NativeIOException e) {
            // Refused at once (a loopback port with no listener can answer before connect returns).
            t.done(e.errno() == ECONNREFUSED ? "closed" : "error", "connect: " + e.errnoName());
            close(t);
            return false;
        } catch (IllegalArgumentException tooHigh) {
            t.done("error", tooHigh.getMessage()); // select(2) watches descriptors below 1024 only
            close(t);
            return false;
        }
    }

    private static InetSocketAddress parse(String target) {
        int colon = target.lastIndexOf(':');
        String host = colon > 0 ? target.substring(0, colon) : "";
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = -1;
        try {
            port = Integer.parseInt(target.substring(colon + 1));
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            // falls through to the message
        }
        if (host.isEmpty() || port < 1 || port > 65535) {
            throw new UsageException("target '" + target + "' is not HOST:PORT with a port from 1 to 65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new UsageException("target '" + target + "': unknown host " + host);
        }
    }

    private static void print(List<Target> targets, PrintStream out) {
        int width = "TARGET".length();
        for (Target t : targets) {
            width = Math.max(width, t.text.length());
        }
        String row = "%-" + width + "s  %-7s  %9s  %s%n";
        out.printf(row, "TARGET", "STATE", "TIME", "HOW");
        for (Target t : targets) {
            String time = t.nanos < 0 ? "-" : String.format("%.1f ms", t.nanos / 1e6);
            out.printf(row, t.text, t.state, time, t.detail);
        }
        out.flush();
    }

    private static String errnoName(int errno) {
        return new NativeIOException("getsockopt(SO_ERROR)", errno, null).errnoName();
    }

    private static void close(Target t) {
        EventLoop.closeQuietly(t.fd);
        t.fd = -1;
    }
}
