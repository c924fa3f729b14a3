package dev.iomux.select;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.FLAGS;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What select(2) can and cannot tell apart: its three sets map to READ, WRITE and PRIORITY, one result
 * entry per descriptor (SELECT-ONE-ENTRY), and errors and hang-ups are folded into readable and writable,
 * so the ERROR, HANGUP and READ_HANGUP flags are never reported for them (REPORT-MASKED).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SelectFoldedEventsTest {

    /**
     * SELECT-ONE-ENTRY with PRIORITY through exceptfds, and PRI-OOB (select column: "P (+R if normal data
     * precedes)"): a normal byte then an urgent byte make the receiver readable, writable and exceptional,
     * three bits select(2) counts as 3, reported as one entry; after recv(MSG_OOB), P is gone.
     */
    @Test
    void urgentDataIsPriorityInTheSameEntryAsReadAndWrite() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int[] pair = fds.connectedPair(StandardProtocolFamily.INET);
            int sender = pair[0];
            int receiver = pair[1];
            sel.register(receiver, READ | WRITE | PRIORITY, "receiver");
            assertThat(Sockets.send(sender, ByteBuffer.wrap(new byte[] {'a'}), 0)).isEqualTo(1);
            assertThat(Sockets.send(sender, ByteBuffer.wrap(new byte[] {'x'}), Sockets.MSG_OOB)).isEqualTo(1);

            List<Ready> got = List.of();
            long deadline = System.nanoTime() + Expect.PATIENCE.toNanos();
            boolean all = false;
            while (!all && System.nanoTime() < deadline) {
                got = sel.select(Duration.ofMillis(100));
                all = got.stream().anyMatch(r -> r.fd() == receiver && r.events() == (READ | WRITE | PRIORITY));
            }
            assertThat(all).as("receiver reported READ|WRITE|PRIORITY within %s; last result %s",
                    Expect.PATIENCE, got).isTrue();
            assertThat(SelectTesting.entriesOf(got, receiver)).as("one entry though select(2) counted 3 bits")
                    .hasSize(1);
            assertThat(got).hasSize(1);

            // The allocation-free select counts entries, not bits, too.
            List<Integer> seen = new ArrayList<>();
            int n = sel.select(Expect.PATIENCE.toMillis(), TimeUnit.MILLISECONDS, (k, e) -> seen.add(e));
            assertThat(n).isEqualTo(1);
            assertThat(seen).containsExactly(READ | WRITE | PRIORITY);

            // PRI-OOB: the urgent byte comes with MSG_OOB; then the exceptional condition is gone, while
            // the normal byte before the mark still makes it readable.
            ByteBuffer oob = ByteBuffer.allocate(1);
            assertThat(Sockets.recv(receiver, oob, Sockets.MSG_OOB)).isEqualTo(1);
            assertThat(oob.get(0)).isEqualTo((byte) 'x');
            for (int i = 0; i < 2; i++) {
                List<Ready> after = sel.select(Expect.PATIENCE);
                assertThat(after).extracting(Ready::fd).containsExactly(receiver);
                assertThat(after.get(0).events()).as("after recv(MSG_OOB): %s", after)
                        .isEqualTo(READ | WRITE);
            }
            ByteBuffer normal = ByteBuffer.allocate(8);
            assertThat(Sockets.recv(receiver, normal, 0)).isEqualTo(1);
            assertThat(normal.get(0)).isEqualTo((byte) 'a');
            for (int i = 0; i < 2; i++) {
                List<Ready> after = sel.select(Expect.PATIENCE);
                assertThat(after).extracting(Ready::events).containsExactly(WRITE);
            }
        }
    }

    /**
     * UNIX-HUP, select column "R": an AF_UNIX peer's close is HANGUP and READ_HANGUP for poll and epoll;
     * select sees only readable (and writable), so no flag is ever reported (REPORT-MASKED).
     */
    @Test
    void aUnixPeerCloseIsReadAndWriteWithoutFlags() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int[] both = fds.socketPair();
            int[] readOnly = fds.socketPair();
            sel.register(both[0], READ | WRITE, "both");
            sel.register(readOnly[0], READ, "read");
            assertThat(sel.select(Expect.PATIENCE)).extracting(Ready::attachment).containsExactly("both");
            fds.close(both[1]);
            fds.close(readOnly[1]);
            for (int i = 0; i < 3; i++) {
                List<Ready> got = sel.select(Expect.PATIENCE);
                if (got.size() < 2) {
                    got = sel.select(Expect.PATIENCE); // a hang-up is immediate on AF_UNIX; be patient anyway
                }
                assertThat(got).hasSize(2);
                for (Ready r : got) {
                    int expected = r.attachment().equals("both") ? READ | WRITE : READ;
                    assertThat(r.events()).as("%s after the peer closed", r).isEqualTo(expected);
                    assertThat(r.events() & (ERROR | HANGUP | READ_HANGUP)).isZero();
                }
            }
            assertThat(Fds.read(both[0], 8)).as("end of stream").isZero();
        }
    }

    // PIPE-HUP and PIPE-EPIPE, select column: folded into R, and R,W; never H or E.
    @Test
    void pipeHangUpAndBrokenPipeAreFoldedIntoReadAndWrite() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int[] hup = fds.pipe();
            int[] epipe = fds.pipe();
            sel.register(hup[0], READ, "reader");
            sel.register(epipe[1], READ | WRITE, "writer");
            fds.close(hup[1]);
            fds.close(epipe[0]);
            List<Ready> got = sel.select(Expect.PATIENCE);
            assertThat(got).hasSize(2);
            for (Ready r : got) {
                int expected = r.attachment().equals("reader") ? READ : READ | WRITE;
                assertThat(r.events()).as("%s", r).isEqualTo(expected);
                assertThat(r.events() & FLAGS).as("flags of %s", Events.toString(r.events())).isZero();
            }
            sel.modify(epipe[1], WRITE);
            assertThat(Expect.ready(sel, epipe[1], WRITE)).as("masked to the interest").isEqualTo(WRITE);
        }
    }
}
