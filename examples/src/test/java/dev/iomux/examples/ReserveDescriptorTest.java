package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;

import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The reserve descriptor while descriptors are free: it accepts like accept4 and keeps exactly one spare.
 * Its EMFILE path is tested on a real server with a lowered limit, in {@link EmfileProcessTest}.
 */
@ExtendWith(LeakCheck.class)
class ReserveDescriptorTest {

    @Test
    void acceptsLikeAccept4AndKeepsOneSpare() throws Exception {
        int listener = Sockets.listen(new InetSocketAddress("127.0.0.1", 0), 4);
        int before = Descriptors.openCount();
        try (ReserveDescriptor reserve = new ReserveDescriptor()) {
            assertThat(Descriptors.openCount()).as("one spare descriptor").isEqualTo(before + 1);
            assertThat(reserve.accept(listener)).as("nothing waiting").isEqualTo(Descriptors.WOULD_BLOCK);
            int port = ((InetSocketAddress) Sockets.localAddress(listener)).getPort();
            try (Socket client = new Socket("127.0.0.1", port)) {
                int conn = -1;
                for (int i = 0; i < 500 && conn < 0; i++) {
                    conn = reserve.accept(listener);
                    if (conn < 0) {
                        Thread.sleep(10);
                    }
                }
                assertThat(conn).as("the connection").isNotNegative();
                assertThat(Descriptors.isNonBlocking(conn)).isTrue();
                assertThat(Sockets.remoteAddress(conn)).isEqualTo(client.getLocalSocketAddress());
                Descriptors.close(conn);
            }
            assertThat(reserve.shedCount()).isZero();
        } finally {
            Descriptors.close(listener);
        }
    }
}
