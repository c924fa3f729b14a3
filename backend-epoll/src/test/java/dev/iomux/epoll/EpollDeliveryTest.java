package dev.iomux.epoll;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.Ready;
import dev.iomux.SelectorKey;
import dev.iomux.internal.Linux;
import dev.iomux.io.Descriptors;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** What an epoll select delivers: stale events, the event array's limit, and the distinct flags. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EpollDeliveryTest {

    // --- REPORT-AFTER-UNREGISTER with the same fd registered again -----------------------------------

    @Test
    @DisplayName("REPORT-AFTER-UNREGISTER: an event fetched for a registration replaced in the batch is dropped")
    void anEventOfAReplacedRegistrationIsNotDeliveredToTheNewKey() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] a = fds.pipe();
            int[] b = fds.pipe();
            Fds.write(a[1], 1);
            Fds.write(b[1], 1);
            sel.register(a[0], READ, "a");
            sel.register(b[0], READ, "b");
            // Both are ready now: one epoll_wait fetches both (the batch the handler runs in).
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactlyInAnyOrder("a", "b");

            Map<String, Integer> deliveries = new TreeMap<>();
            List<SelectorKey> replaced = new ArrayList<>();
            int n = sel.selectNow((key, events) -> {
                deliveries.merge((String) key.attachment(), 1, Integer::sum);
                if (replaced.isEmpty()) {
                    int other = key.fd() == a[0] ? b[0] : a[0];
                    String name = (String) sel.key(other).attachment();
                    replaced.add(sel.unregister(other));
                    // A new registration of the same number, with a new attachment.
                    sel.register(other, READ, name + "-new");
                }
            });
            assertThat(n).isEqualTo(1);
            assertThat(deliveries).as("deliveries per attachment in the batch").hasSize(1)
                    .containsValue(1).doesNotContainKeys("a-new", "b-new");
            String first = deliveries.keySet().iterator().next();
            String second = first.equals("a") ? "b" : "a";
            assertThat(replaced.get(0).attachment()).isEqualTo(second);

            // The next select reports the new registration (its data is still there), once.
            deliveries.clear();
            assertThat(sel.selectNow((key, events) -> deliveries.merge((String) key.attachment(), 1, Integer::sum)))
                    .isEqualTo(2);
            assertThat(deliveries).containsOnlyKeys(first, second + "-new").containsValues(1, 1);
        }
    }

    // --- maxEvents ---------------------------------------------------------------------------------

    @Test
    @DisplayName("maxEvents: open(2) returns at most 2 keys per select; successive selects deliver all 5")
    void aSmallEventArrayDeliversEveryKeyOverSuccessiveSelects() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open(2)) {
            Set<Integer> readEnds = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                int[] p = fds.pipe();
                Fds.write(p[1], 1);
                sel.register(p[0], READ, i);
                readEnds.add(p[0]);
            }
            List<Ready> first = sel.selectNow();
            assertThat(first).hasSize(2);
            Set<Integer> seen = new HashSet<>();
            first.forEach(r -> seen.add(r.fd()));
            for (int round = 0; round < 20 && seen.size() < 5; round++) {
                List<Ready> got = sel.selectNow();
                assertThat(got).as("round %d", round).hasSizeBetween(1, 2);
                got.forEach(r -> seen.add(r.fd()));
            }
            assertThat(seen).as("every ready key is delivered eventually").isEqualTo(readEnds);
        }
    }

    // --- PRI-OOB -----------------------------------------------------------------------------------

    @Test
    @DisplayName("PRI-OOB: an urgent byte is PRIORITY (without READ); once recv(MSG_OOB) took it, nothing is")
    void urgentDataIsPriority() throws Exception {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] pair = fds.connectedPair(StandardProtocolFamily.INET);
            int sender = pair[0];
            int receiver = pair[1];
            sel.register(receiver, PRIORITY | READ);
            Expect.notReady(sel, receiver);
            assertThat(Sockets.send(sender, ByteBuffer.wrap(new byte[] {'!'}), Sockets.MSG_OOB)).isEqualTo(1);
            int events = Expect.ready(sel, receiver, PRIORITY);
            assertThat(events & READ).as("Rule 8: only the urgent byte, no normal data: %s", Events.toString(events))
                    .isZero();

            ByteBuffer oob = ByteBuffer.allocate(1);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (oob.position() == 0) {
                try {
                    Sockets.recv(receiver, oob, Sockets.MSG_OOB);
                } catch (NativeIOException notYet) {
                    assertThat(notYet.errno()).as("recv(MSG_OOB) before the byte arrived").isEqualTo(Linux.EINVAL);
                }
                if (oob.position() == 0) {
                    assertThat(System.nanoTime()).as("the urgent byte arrives within 5 s").isLessThan(deadline);
                    Thread.sleep(5);
                }
            }
            assertThat(oob.get(0)).isEqualTo((byte) '!');
            Expect.notReady(sel, receiver);
        }
    }

    // --- The distinct flags: UNIX-HUP, READ-FIN, READ-ERROR -----------------------------------------

    @Test
    @DisplayName("UNIX-HUP: an AF_UNIX peer's close() is READ|HANGUP|READ_HANGUP at once")
    void unixPeerCloseIsHangUp() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] sp = fds.socketPair();
            sel.register(sp[0], READ);
            Expect.notReady(sel, sp[0]);
            fds.close(sp[1]);
            int events = Expect.ready(sel, sp[0], READ | HANGUP | READ_HANGUP);
            assertThat(events).as(Events.toString(events)).isEqualTo(READ | HANGUP | READ_HANGUP);
            assertThat(Fds.read(sp[0], 10)).as("end of stream").isZero();
        }
    }

    @Test
    @DisplayName("READ-FIN: a TCP peer's shutdown(SHUT_WR) is READ|READ_HANGUP, without HANGUP")
    void tcpFinIsReadHangUpWithoutHangUp() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] pair = fds.connectedPair(StandardProtocolFamily.INET);
            sel.register(pair[1], READ);
            Expect.notReady(sel, pair[1]);
            Sockets.shutdownOutput(pair[0]);
            int events = Expect.ready(sel, pair[1], READ | READ_HANGUP);
            assertThat(events).as(Events.toString(events)).isEqualTo(READ | READ_HANGUP);
            // Level-triggered: the same again, still no HANGUP.
            assertThat(Expect.ready(sel, pair[1], READ | READ_HANGUP)).isEqualTo(READ | READ_HANGUP);
            assertThat(Fds.read(pair[1], 10)).as("end of stream").isZero();
        }
    }

    @Test
    @DisplayName("READ-ERROR: a TCP reset (peer SO_LINGER {1,0} close) is READ with ERROR and HANGUP")
    void tcpResetIsErrorAndHangUp() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] pair = fds.connectedPair(StandardProtocolFamily.INET);
            sel.register(pair[1], READ);
            Expect.notReady(sel, pair[1]);
            Sockets.setLinger(pair[0], true, 0);
            fds.close(pair[0]);
            int events = Expect.ready(sel, pair[1], READ | ERROR | HANGUP);
            // Rule 5: IN|OUT|ERR|HUP|RDHUP, masked to the READ interest, with every flag.
            assertThat(events).as(Events.toString(events)).isEqualTo(READ | ERROR | HANGUP | READ_HANGUP);
            assertThat(events & WRITE).as("masked to the interest: %s", Events.toString(events)).isZero();
            assertThatThrownBy(() -> Descriptors.read(pair[1], ByteBuffer.allocate(10)))
                    .isInstanceOf(NativeIOException.class)
                    .satisfies(e -> assertThat(((NativeIOException) e).errnoName()).isEqualTo("ECONNRESET"));
        }
    }
}
