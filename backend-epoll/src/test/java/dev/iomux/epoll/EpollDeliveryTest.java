package dev.iomux.epoll;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.SelectorKey;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** What an epoll select delivers: stale events and the event array's limit (the flags are the kit's rules). */
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
}
