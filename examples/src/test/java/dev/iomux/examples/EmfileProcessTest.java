package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A server out of descriptors (RLIMIT_NOFILE lowered in its process): connections beyond the limit are
 * accepted and closed at once through the {@link ReserveDescriptor}, with one warning and no busy loop,
 * clients already connected keep being served meanwhile, and service resumes when descriptors are freed.
 */
@ExtendWith(LeakCheck.class)
class EmfileProcessTest {
    private static final String WARNING = "out of descriptors (EMFILE from accept)";

    @Test
    void shedsConnectionsWithoutSpinningAndRecovers() throws Exception {
        List<Socket> served = new ArrayList<>();
        List<Socket> shed = new ArrayList<>();
        try (CliProcess server = CliProcess.startWithFdLimit(64, "echo-server", "--port", "0")) {
            InetSocketAddress address = server.awaitListening();
            try {
                // Fill the server's table; then five more, which must be shed.
                while (shed.size() < 5) {
                    assertThat(served.size() + shed.size()).as("connections before EMFILE").isLessThan(100);
                    Socket s = connect(address);
                    (echoes(s) ? served : shed).add(s);
                }
                assertThat(served).as("served before the table was full").hasSizeGreaterThan(3);
                server.awaitStderr(WARNING);
                assertThat(server.stderr().split(java.util.regex.Pattern.quote(WARNING), -1))
                        .as("one warning for the whole episode").hasSize(2);

                // No busy loop: the queue is empty, so the listener is not readable and the loop sleeps.
                Duration before = server.cpuTime();
                Thread.sleep(2000);
                Duration used = server.cpuTime().minus(before);
                assertThat(used).as("CPU used in 2 s while out of descriptors").isLessThan(Duration.ofMillis(300));

                // Still out of descriptors, and every client accepted before keeps being served: a round
                // trip on each, with its own payload (existing clients keep being served).
                for (int i = 0; i < served.size(); i++) {
                    String line = "still here " + i + "\n";
                    Socket s = served.get(i);
                    s.getOutputStream().write(line.getBytes(StandardCharsets.US_ASCII));
                    byte[] back = s.getInputStream().readNBytes(line.length());
                    assertThat(new String(back, StandardCharsets.US_ASCII)).as("echo on served client %d", i)
                            .isEqualTo(line);
                }
                assertThat(echoes(connect(address, shed))).as("a new client while still out of descriptors")
                        .isFalse();

                // Free three descriptors: new clients are served again.
                for (int i = 0; i < 3; i++) {
                    served.remove(0).close();
                }
                boolean servedAgain = false;
                for (int attempt = 0; attempt < 50 && !servedAgain; attempt++) {
                    Socket s = connect(address);
                    servedAgain = echoes(s);
                    (servedAgain ? served : shed).add(s);
                    if (!servedAgain) {
                        Thread.sleep(100); // the server has not yet seen the closes
                    }
                }
                assertThat(servedAgain).as("served again after descriptors were freed").isTrue();
                server.awaitStderr("descriptors free again: accepting connections");
                assertThat(server.terminate()).isEqualTo(143);
            } finally {
                for (Socket s : served) {
                    s.close();
                }
                for (Socket s : shed) {
                    s.close();
                }
            }
        }
    }

    private static Socket connect(InetSocketAddress address, List<Socket> closeLater) throws IOException {
        Socket s = connect(address);
        closeLater.add(s);
        return s;
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket(address.getAddress(), address.getPort());
        s.setSoTimeout(30_000);
        return s;
    }

    /** True if the server echoes a line; false if it closed the connection unanswered (EOF or reset). */
    private static boolean echoes(Socket s) throws IOException {
        byte[] ping = "ping\n".getBytes(StandardCharsets.US_ASCII);
        try {
            s.getOutputStream().write(ping);
            InputStream in = s.getInputStream();
            byte[] got = in.readNBytes(ping.length);
            return got.length == ping.length;
        } catch (java.net.SocketException reset) {
            return false;
        }
    }
}
