package dev.iomux.poll;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.poll.PollTesting.open;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.SelectorKey;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The pollfd array is brought up to date only when registrations change (PollSelector's class comment,
 * the JDK's PollSelectorImpl): {@link PollSelector#syncs} counts the selects whose prepare step had
 * changes to apply. Rule API-MODIFY (an attachment-only modify makes no system call; here: no rebuild)
 * and API-THREADS (changes take effect no later than the next select).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollRebuildTest {

    @Test
    void aFreshSelectorNeverRebuilds() throws IOException {
        try (PollSelector sel = open()) {
            assertThat(sel.syncs).isZero();
            for (int i = 0; i < 100; i++) {
                assertThat(sel.selectNow()).isEmpty();
            }
            assertThat(sel.select(Duration.ofMillis(20))).isEmpty();
            assertThat(sel.syncs).as("the wake-up slot is set up by the constructor, not by a sync").isZero();
        }
    }

    @Test
    void nothingIsRebuiltAcrossAThousandSelectsWithoutChanges() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            int[] q = fds.pipe();
            int[] idle = fds.pipe();
            Fds.write(p[1], 1); // p[0] stays readable: level-triggered, reported on every select
            sel.register(p[0], READ, "readable");
            sel.register(q[1], WRITE, "writable");
            sel.register(idle[0], READ, "idle");
            assertThat(sel.selectNow()).hasSize(2);
            long synced = sel.syncs;
            assertThat(synced).isEqualTo(1);
            for (int i = 0; i < 1000; i++) {
                List<Ready> got = sel.selectNow();
                assertThat(got).as("select %d", i).extracting(Ready::attachment)
                        .containsExactlyInAnyOrder("readable", "writable");
            }
            // A blocking select that only wakes up rebuilds nothing either.
            sel.wakeup();
            assertThat(sel.select(Duration.ofSeconds(5))).hasSize(2);
            assertThat(sel.syncs).as("syncs after 1000 selects with unchanged registrations").isEqualTo(synced);
        }
    }

    @Test
    void eachKindOfChangeCountsOnceAtTheNextSelect() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            int[] q = fds.pipe();
            long s = sel.syncs;

            // register: +1, applied at the next select, not at register time
            sel.register(p[1], WRITE, "a");
            assertThat(sel.syncs).as("register only records the change").isEqualTo(s);
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("a");
            assertThat(sel.syncs).as("after register").isEqualTo(s + 1);
            sel.selectNow();
            assertThat(sel.syncs).as("a second select after register").isEqualTo(s + 1);

            // modify with new events: +1
            sel.modify(p[1], READ);
            assertThat(sel.syncs).isEqualTo(s + 1);
            assertThat(sel.selectNow()).isEmpty(); // a write end is never readable
            assertThat(sel.syncs).as("after modify with new events").isEqualTo(s + 2);

            // attachment-only modify: +0, and the new attachment is what gets reported
            sel.modify(p[1], WRITE);
            sel.selectNow();
            assertThat(sel.syncs).isEqualTo(s + 3);
            SelectorKey renamed = sel.modify(p[1], WRITE, "b");
            assertThat(renamed.attachment()).isEqualTo("b");
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("b");
            assertThat(sel.syncs).as("after an attachment-only modify").isEqualTo(s + 3);

            // unregister: +1
            sel.unregister(p[1]);
            assertThat(sel.selectNow()).isEmpty();
            assertThat(sel.syncs).as("after unregister").isEqualTo(s + 4);

            // several changes between two selects: +1 in total
            sel.register(p[0], READ, "p0");
            sel.register(p[1], WRITE, "p1");
            sel.register(q[0], READ, "q0");
            sel.register(q[1], WRITE, "q1");
            sel.modify(q[1], READ | WRITE, "q1'");
            sel.unregister(q[0]);
            sel.modify(p[1], WRITE, "p1'"); // attachment only, between the others
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactlyInAnyOrder("p1'", "q1'");
            assertThat(sel.syncs).as("after seven changes between two selects").isEqualTo(s + 5);
            for (int i = 0; i < 100; i++) {
                sel.selectNow();
            }
            assertThat(sel.syncs).isEqualTo(s + 5);
        }
    }

    @Test
    void aOneShotKeyRebuildsWhenItFiresAndWhenItIsRearmed() throws IOException {
        // EPOLL-ONESHOT, emulated: the fired key's entry gets a negative fd at the end of the select that
        // fired (under the lock it already holds); every modify of a ONESHOT key re-arms it, also with an
        // unchanged mask (API-MODIFY).
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[1], WRITE | ONESHOT, "once");
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("once");
            long s = sel.syncs;
            assertThat(sel.selectNow()).as("disarmed").isEmpty();
            assertThat(sel.syncs).as("the disarm was applied by the select that fired").isEqualTo(s);
            for (int i = 0; i < 100; i++) {
                assertThat(sel.selectNow()).isEmpty();
            }
            assertThat(sel.syncs).isEqualTo(s);
            sel.modify(p[1], WRITE | ONESHOT); // same mask, same attachment: still a re-arm
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("once");
            assertThat(sel.syncs).as("the re-arm before the wait, the disarm after it").isEqualTo(s + 2);
        }
    }
}
