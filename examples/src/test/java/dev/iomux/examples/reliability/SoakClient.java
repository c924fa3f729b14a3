package dev.iomux.examples.reliability;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.SplittableRandom;

/**
 * The load of {@link EchoSoakTest}, in a process of its own (this machine allows 20000 descriptors per
 * process; the server and the client each need one per connection). It uses java.nio, not iomux, so that
 * a fault of the library under test cannot hide itself on both ends.
 *
 * <p>It opens {@code connections} connections to {@code port} on 127.0.0.1 (at most 256 connecting at a
 * time, well within the listen backlog), prints {@code HELD n} once all are connected, and waits for a
 * line on standard input. Then every connection sends its payload (1..maxBytes pseudo-random bytes from
 * {@code seed} and its index), shuts its output down, and reads until end of stream, comparing every byte
 * echoed with the one sent at that position. Last it prints
 * {@code RESULT connections=.. sent=.. received=.. mismatched=.. incomplete=.. millis=..} and exits 0 if
 * every connection got exactly its payload back, 1 if not, 2 on its deadline.
 *
 * <p>Arguments: port connections seed maxBytes deadlineSeconds.
 */
public final class SoakClient {
    private static final int CONNECTING_AT_ONCE = 256;

    private SoakClient() {
    }

    /** One connection's payload and progress. */
    private static final class Conn {
        final byte[] payload;
        final ByteBuffer out;
        final ByteBuffer in = ByteBuffer.allocate(8192);
        int received;
        boolean mismatched;
        boolean done;

        Conn(byte[] payload) {
            this.payload = payload;
            this.out = ByteBuffer.wrap(payload);
        }
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int connections = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        int maxBytes = Integer.parseInt(args[3]);
        long deadline = System.nanoTime() + Long.parseLong(args[4]) * 1_000_000_000L;
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);

        SplittableRandom rnd = new SplittableRandom(seed);
        Conn[] conns = new Conn[connections];
        long total = 0;
        for (int i = 0; i < connections; i++) {
            byte[] payload = new byte[1 + rnd.nextInt(maxBytes)];
            rnd.split().nextBytes(payload);
            conns[i] = new Conn(payload);
            total += payload.length;
        }

        try (java.nio.channels.Selector sel = java.nio.channels.Selector.open()) {
            // Connect, a window at a time.
            int started = 0;
            int connected = 0;
            while (connected < connections) {
                while (started < connections && started - connected < CONNECTING_AT_ONCE) {
                    SocketChannel ch = SocketChannel.open();
                    ch.configureBlocking(false);
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    if (ch.connect(server)) {
                        ch.register(sel, 0, started);
                        connected++;
                    } else {
                        ch.register(sel, SelectionKey.OP_CONNECT, started);
                    }
                    started++;
                }
                sel.select(200);
                for (Iterator<SelectionKey> it = sel.selectedKeys().iterator(); it.hasNext();) {
                    SelectionKey k = it.next();
                    it.remove();
                    if (k.isConnectable() && ((SocketChannel) k.channel()).finishConnect()) {
                        k.interestOps(0);
                        connected++;
                    }
                }
                if (System.nanoTime() > deadline) {
                    System.out.println("RESULT deadline while connecting: " + connected + " of " + connections);
                    System.exit(2);
                }
            }
            System.out.println("HELD " + connected);
            System.out.flush();
            BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            if (stdin.readLine() == null) {
                System.exit(3); // the test went away
            }

            long start = System.nanoTime();
            for (SelectionKey k : sel.keys()) {
                k.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            }
            int finished = 0;
            long sent = 0;
            long received = 0;
            while (finished < connections && System.nanoTime() < deadline) {
                sel.select(200);
                for (Iterator<SelectionKey> it = sel.selectedKeys().iterator(); it.hasNext();) {
                    SelectionKey k = it.next();
                    it.remove();
                    SocketChannel ch = (SocketChannel) k.channel();
                    Conn c = conns[(Integer) k.attachment()];
                    if (k.isValid() && k.isWritable()) {
                        sent += ch.write(c.out);
                        if (!c.out.hasRemaining()) {
                            ch.shutdownOutput();
                            k.interestOps(SelectionKey.OP_READ);
                        }
                    }
                    if (k.isValid() && k.isReadable()) {
                        int n = ch.read(c.in.clear());
                        if (n > 0) {
                            for (int j = 0; j < n; j++) {
                                int at = c.received + j;
                                if (at >= c.payload.length || c.in.get(j) != c.payload[at]) {
                                    c.mismatched = true;
                                }
                            }
                            c.received += n;
                            received += n;
                        } else if (n < 0) {
                            c.done = true;
                            finished++;
                            k.cancel();
                            ch.close();
                        }
                    }
                }
            }
            int mismatched = 0;
            int incomplete = 0;
            for (Conn c : conns) {
                if (c.mismatched) {
                    mismatched++;
                } else if (!c.done || c.received != c.payload.length) {
                    incomplete++;
                }
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("RESULT connections=%d sent=%d received=%d expected=%d mismatched=%d incomplete=%d "
                    + "millis=%d%n", connections, sent, received, total, mismatched, incomplete, millis);
            System.out.flush();
            System.exit(finished < connections ? 2 : mismatched + incomplete == 0 ? 0 : 1);
        }
    }
}
