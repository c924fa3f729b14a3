package dev.iomux.it.mutants;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A kernel that reports reading and writing of one descriptor as two events, as kqueue does with its
 * EVFILT_READ and EVFILT_WRITE filters: the port hands both reports to the base, which delivers the key
 * once with both directions. The whole kit passes on this port too ({@link MorePortsConformanceTest}).
 */
@ExtendWith(LeakCheck.class)
class FilterPortTest {
    @Test
    void twoReportsOfOneDescriptorAreOneEntryWithBothDirections() throws IOException {
        try (Fds fds = new Fds(); PollPort sel = (PollPort) PollPortProvider.filters().open()) {
            int[] sp = fds.socketPair();
            sel.register(sp[0], READ | WRITE, "both");
            Fds.write(sp[1], 1);
            List<Ready> ready = sel.select(Duration.ofSeconds(5));
            assertThat(sel.lastReports).as("the kernel's reports: one per direction").isEqualTo(2);
            assertThat(ready).hasSize(1);
            assertThat(ready.get(0).key().fd()).isEqualTo(sp[0]);
            assertThat(Events.toString(ready.get(0).events())).isEqualTo("READ|WRITE");
        }
    }

    @Test
    void aOneShotKeyReportedTwiceInOneWaitFiresOnceWithBoth() throws IOException {
        try (Fds fds = new Fds(); PollPort sel = (PollPort) PollPortProvider.filters().open()) {
            int[] sp = fds.socketPair();
            sel.register(sp[0], READ | WRITE | ONESHOT);
            Fds.write(sp[1], 1);
            List<Ready> ready = sel.select(Duration.ofSeconds(5));
            assertThat(sel.lastReports).isEqualTo(2);
            assertThat(ready).hasSize(1);
            assertThat(Events.toString(ready.get(0).events())).as("the second report is merged, though the first "
                    + "disarmed the key").isEqualTo("READ|WRITE");
            assertThat(sel.selectNow()).as("disarmed until modify").isEmpty();
            sel.modify(sp[0], READ | ONESHOT);
            assertThat(sel.selectNow()).extracting(r -> Events.toString(r.events())).containsExactly("READ");
        }
    }
}
