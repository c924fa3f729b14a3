package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.iomux.io.Descriptors;
import dev.iomux.io.SockOpt;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The per-connection write queue on a real non-blocking TCP connection whose send buffer fills. */
@ExtendWith(LeakCheck.class)
class OutQueueTest {

    /**
     * A client being dropped is sent a notice in place of its queue. A write that stopped in the middle of
     * a line (the socket buffer filled) must finish that line first, or the notice lands inside it and the
     * client cannot find it.
     */
    @Test
    void clearKeepsTheRestOfALineAlreadyPartlyWritten() throws Exception {
        // TCP, not a Unix socket pair: TCP takes part of a write when its buffer is nearly full, while a
        // Unix stream socket takes a small write whole or not at all (net/unix/af_unix.c).
        int listener = Sockets.listen(new InetSocketAddress("127.0.0.1", 0), 1);
        Sockets.setOption(listener, SockOpt.SO_RCVBUF, 4096); // inherited by the accepted socket
        int[] pair = {Sockets.open(StandardProtocolFamily.INET), -1};
        try {
            Sockets.setOption(pair[0], SockOpt.SO_SNDBUF, 4096); // set before connect: no autotuning then (tcp(7))
            Sockets.connect(pair[0], Sockets.localAddress(listener));
            while ((pair[1] = Sockets.accept(listener)) < 0) {
                Fds.sleep(1);
            }
            // Lines longer than the send buffer: the write that fills it stops in the middle of one.
            String line = "x".repeat(99_999) + "\n";
            OutQueue queue = new OutQueue();
            for (int i = 0; i < 100; i++) {
                queue.add(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
            }
            assertThat(queue.flush(pair[0])).as("the socket buffer fills").isFalse();

            queue.clear();
            queue.add(ByteBuffer.wrap("notice\n".getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(1 << 16);
            boolean sent = false;
            while (!sent) {
                sent = queue.flush(pair[0]);
                int n;
                while ((n = Descriptors.read(pair[1], in.clear())) > 0) {
                    received.write(in.array(), 0, n);
                }
            }
            assertThat(queue.isEmpty()).isTrue();
            assertThat(queue.bytes()).isZero();

            List<String> lines = received.toString(StandardCharsets.US_ASCII).lines().toList();
            assertThat(lines).last().isEqualTo("notice");
            assertThat(lines.subList(0, lines.size() - 1)).as("whole lines before the notice")
                    .isNotEmpty().allMatch(l -> l.equals(line.strip()));
        } finally {
            Descriptors.close(pair[0]);
            if (pair[1] >= 0) {
                Descriptors.close(pair[1]);
            }
            Descriptors.close(listener);
        }
    }
}
