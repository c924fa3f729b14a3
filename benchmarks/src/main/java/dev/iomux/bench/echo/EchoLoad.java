package dev.iomux.bench.echo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * The echo load generator, in its own process: C connections to 127.0.0.1:port, each a closed loop of
 * "send one message of S bytes, read S bytes back", for a warm-up and then a measured duration, with at
 * most M measured messages per connection (memory and time are bounded whatever the server does).
 * Prints one line: {@code ECHO msgs=.. secs=.. msgs_per_s=.. p50_us=.. p99_us=.. p999_us=..}.
 *
 * <pre>EchoLoad -p port [-c connections] [-s size] [-w warmup_s] [-d duration_s] [-m max_msgs_per_conn]</pre>
 *
 * <p>One thread per connection with blocking sockets and TCP_NODELAY: the same client for every server.
 */
public final class EchoLoad {
    private EchoLoad() {
    }

    /**
     * Runs the load and prints the result line.
     *
     * @param args see the class comment
     * @throws Exception if a connection fails
     */
    public static void main(String[] args) throws Exception {
        int port = -1;
        int conns = 16;
        int size = 64;
        double warm = 2;
        double secs = 5;
        int max = 2_000_000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-p": port = Integer.parseInt(args[++i]); break;
                case "-c": conns = Integer.parseInt(args[++i]); break;
                case "-s": size = Integer.parseInt(args[++i]); break;
                case "-w": warm = Double.parseDouble(args[++i]); break;
                case "-d": secs = Double.parseDouble(args[++i]); break;
                case "-m": max = Integer.parseInt(args[++i]); break;
                default:
                    System.err.println("usage: EchoLoad -p port [-c conns] [-s size] [-w warmup_s] [-d secs] [-m max_msgs_per_conn]");
                    System.exit(1);
            }
        }
        if (port <= 0 || conns < 1 || size < 1 || secs <= 0 || max < 1) {
            System.err.println("EchoLoad: needs -p port, and positive -c, -s, -d, -m");
            System.exit(1);
        }
        long start = System.nanoTime() + 100_000_000L; // all connections set up first
        long measureFrom = start + (long) (warm * 1e9);
        long end = measureFrom + (long) (secs * 1e9);
        Worker[] workers = new Worker[conns];
        CountDownLatch done = new CountDownLatch(conns);
        for (int i = 0; i < conns; i++) {
            workers[i] = new Worker(port, size, Math.min(max, 5_000_000), measureFrom, end, done);
        }
        for (Worker w : workers) {
            w.start();
        }
        done.await();
        long total = 0;
        long measuredNanos = 0;
        for (Worker w : workers) {
            if (w.failure != null) {
                throw w.failure;
            }
            total += w.count;
            measuredNanos = Math.max(measuredNanos, w.lastDone - measureFrom);
        }
        long[] all = new long[(int) total];
        int at = 0;
        for (Worker w : workers) {
            System.arraycopy(w.lat, 0, all, at, w.count);
            at += w.count;
        }
        Arrays.sort(all);
        double s = measuredNanos / 1e9;
        System.out.printf(Locale.ROOT, "ECHO\tconns=%d\tsize=%d\tmsgs=%d\tsecs=%.2f\tmsgs_per_s=%.0f"
                        + "\tp50_us=%.1f\tp99_us=%.1f\tp999_us=%.1f%n",
                conns, size, total, s, total / s, pct(all, 0.50), pct(all, 0.99), pct(all, 0.999));
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e3;
    }

    private static final class Worker extends Thread {
        private final int port;
        private final int size;
        private final long measureFrom;
        private final long end;
        private final CountDownLatch done;
        final long[] lat;
        int count;
        long lastDone;
        Exception failure;

        Worker(int port, int size, int max, long measureFrom, long end, CountDownLatch done) {
            super("echo-load");
            this.port = port;
            this.size = size;
            this.lat = new long[max];
            this.measureFrom = measureFrom;
            this.end = end;
            this.done = done;
            setDaemon(true);
        }

        @Override
        public void run() {
            try (Socket s = new Socket()) {
                s.setTcpNoDelay(true);
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                s.setSoTimeout(10_000); // a stuck server fails the run instead of hanging it
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                byte[] msg = new byte[size];
                Arrays.fill(msg, (byte) 'e');
                byte[] back = new byte[size];
                for (;;) {
                    long t0 = System.nanoTime();
                    if (t0 >= end || count == lat.length) {
                        break;
                    }
                    out.write(msg);
                    int got = 0;
                    while (got < size) {
                        int n = in.read(back, got, size - got);
                        if (n < 0) {
                            throw new IOException("the server closed the connection");
                        }
                        got += n;
                    }
                    long t1 = System.nanoTime();
                    if (t0 >= measureFrom) {
                        lat[count++] = t1 - t0;
                        lastDone = t1;
                    }
                }
            } catch (Exception e) {
                failure = e;
            } finally {
                done.countDown();
            }
        }
    }
}
