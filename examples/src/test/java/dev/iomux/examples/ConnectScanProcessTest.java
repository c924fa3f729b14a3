package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code iomux connect-scan} as a real process: an open port and a closed one, told apart by SO_ERROR. */
@ExtendWith(LeakCheck.class)
class ConnectScanProcessTest {

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"select", "poll", "epoll"})
    void tellsAnOpenPortFromAClosedOne(String backend) throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (ServerSocket open = new ServerSocket(0, 10, loopback); Socket closed = new Socket()) {
            closed.bind(new InetSocketAddress(loopback, 0)); // bound, never listening: connects are refused
            String openTarget = "127.0.0.1:" + open.getLocalPort();
            String closedTarget = "127.0.0.1:" + closed.getLocalPort();
            try (CliProcess scan = CliProcess.start("connect-scan", "--backend", backend, "--timeout", "10s",
                    openTarget, closedTarget)) {
                assertThat(scan.awaitExit()).isZero();
                String table = scan.stdout();
                assertThat(table.lines().findFirst().orElseThrow()).matches("TARGET +STATE +TIME +HOW");
                assertThat(row(table, openTarget)).matches(openTarget + " +open +[0-9.]+ ms +EINPROGRESS, writable, SO_ERROR 0");
                assertThat(row(table, closedTarget)).matches(closedTarget
                        + " +closed +[0-9.]+ ms +(EINPROGRESS, writable, SO_ERROR|connect:) ECONNREFUSED");
            }
        }
    }

    private static String row(String table, String target) {
        return table.lines().filter(l -> l.startsWith(target + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + target + " in\n" + table));
    }
}
