package dev.iomux.poll;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.poll.PollTesting.open;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.SelectorKey;
import dev.iomux.spi.PollBits;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The pollfd array is brought up to date only when registrations change (PollSelector's class comment,
 * the JDK's PollSelectorImpl). The tests read the array through {@link PollInspector}: which entries it
 * holds, their fd (negative while poll is to skip them) and events, whether it was reallocated, and, by
 * the inspector's mark, whether an entry was rewritten since. Rule API-MODIFY (an attachment-only modify
 * makes no system call; here: no rewrite) and API-THREADS (changes take effect no later than the next
 * select).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollRebuildTest {
    private static final int POLLIN = PollBits.POLLIN;
    private static final int POLLOUT = PollBits.POLLOUT;

    @Test
    void aFreshSelectorNeverRebuilds() throws IOException {
        try (PollSelector sel = open()) {
            long array = PollInspector.arrayAddress(sel);
            PollInspector.mark(sel);
            for (int i = 0; i < 100; i++) {
                assertThat(sel.selectNow()).isEmpty();
            }
            assertThat(sel.select(Duration.ofMillis(20))).isEmpty();
            assertThat(PollInspector.used(sel)).as("slots in use: the wake-up slot only").isEqualTo(1);
            assertThat(PollInspector.rewritten(sel)).as("entries rewritten by 101 selects").isEmpty();
            assertThat(PollInspector.arrayAddress(sel)).as("the pollfd array was not reallocated").isEqualTo(array);
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
            assertThat(PollInspector.used(sel)).isEqualTo(4);
            long array = PollInspector.arrayAddress(sel);
            PollInspector.mark(sel);
            for (int i = 0; i < 1000; i++) {
                List<Ready> got = sel.selectNow();
                assertThat(got).as("select %d", i).extracting(Ready::attachment)
                        .containsExactlyInAnyOrder("readable", "writable");
            }
            // A blocking select that only wakes up rebuilds nothing either.
            sel.wakeup();
            assertThat(sel.select(Duration.ofSeconds(5))).hasSize(2);
            assertThat(PollInspector.rewritten(sel)).as("entries rewritten by 1001 selects with unchanged "
                    + "registrations").isEmpty();
            assertThat(PollInspector.arrayAddress(sel)).as("the pollfd array was not reallocated").isEqualTo(array);
            assertThat(PollInspector.used(sel)).isEqualTo(4);
        }
    }

    @Test
    void eachKindOfChangeIsAppliedAtTheNextSelect() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            int[] q = fds.pipe();

            // register: applied at the next select, not at register time
            sel.register(p[1], WRITE, "a");
            assertThat(PollInspector.slotOf(sel, p[1])).as("register only records the change").isEqualTo(-1);
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("a");
            assertThat(PollInspector.pollfdFd(sel, p[1])).as("after register").isEqualTo(p[1]);
            assertThat(PollInspector.pollfdEvents(sel, p[1]) & (POLLIN | POLLOUT)).isEqualTo(POLLOUT);
            assertThat(PollInspector.used(sel)).isEqualTo(2);
            PollInspector.mark(sel);
            sel.selectNow();
            assertThat(PollInspector.rewritten(sel)).as("a second select after register").isEmpty();

            // modify with new events
            sel.modify(p[1], READ);
            assertThat(PollInspector.pollfdEvents(sel, p[1]) & (POLLIN | POLLOUT)).as("before the select")
                    .isEqualTo(POLLOUT);
            assertThat(sel.selectNow()).isEmpty(); // a write end is never readable
            assertThat(PollInspector.pollfdEvents(sel, p[1]) & (POLLIN | POLLOUT)).as("after modify with new events")
                    .isEqualTo(POLLIN);
            assertThat(PollInspector.rewritten(sel)).as("rewritten by the modify").containsExactly(p[1]);

            // attachment-only modify: no rewrite, and the new attachment is what gets reported
            sel.modify(p[1], WRITE);
            sel.selectNow();
            PollInspector.mark(sel);
            SelectorKey renamed = sel.modify(p[1], WRITE, "b");
            assertThat(renamed.attachment()).isEqualTo("b");
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("b");
            assertThat(PollInspector.rewritten(sel)).as("after an attachment-only modify").isEmpty();

            // unregister: the entry goes at the next select
            sel.unregister(p[1]);
            assertThat(sel.selectNow()).isEmpty();
            assertThat(PollInspector.slotOf(sel, p[1])).as("after unregister").isEqualTo(-1);
            assertThat(PollInspector.used(sel)).isEqualTo(1);

            // several changes between two selects: applied together by the next one
            sel.register(p[0], READ, "p0");
            sel.register(p[1], WRITE, "p1");
            sel.register(q[0], READ, "q0");
            sel.register(q[1], WRITE, "q1");
            sel.modify(q[1], READ | WRITE, "q1'");
            sel.unregister(q[0]);
            sel.modify(p[1], WRITE, "p1'"); // attachment only, between the others
            long array = PollInspector.arrayAddress(sel);
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactlyInAnyOrder("p1'", "q1'");
            assertThat(PollInspector.used(sel)).as("after seven changes between two selects").isEqualTo(4);
            assertThat(PollInspector.slotOf(sel, q[0])).isEqualTo(-1);
            assertThat(PollInspector.pollfdEvents(sel, p[0]) & (POLLIN | POLLOUT)).isEqualTo(POLLIN);
            assertThat(PollInspector.pollfdEvents(sel, p[1]) & (POLLIN | POLLOUT)).isEqualTo(POLLOUT);
            assertThat(PollInspector.pollfdEvents(sel, q[1]) & (POLLIN | POLLOUT)).isEqualTo(POLLIN | POLLOUT);
            PollInspector.checkSlots(sel, Set.of());
            PollInspector.mark(sel);
            for (int i = 0; i < 100; i++) {
                sel.selectNow();
            }
            assertThat(PollInspector.rewritten(sel)).isEmpty();
            assertThat(PollInspector.arrayAddress(sel)).as("64 slots: no reallocation").isEqualTo(array);
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
            assertThat(PollInspector.pollfdFd(sel, p[1])).as("disarmed by the select that fired").isEqualTo(~p[1]);
            PollInspector.mark(sel);
            assertThat(sel.selectNow()).as("disarmed").isEmpty();
            for (int i = 0; i < 100; i++) {
                assertThat(sel.selectNow()).isEmpty();
            }
            assertThat(PollInspector.rewritten(sel)).as("entries rewritten while disarmed").isEmpty();
            assertThat(PollInspector.pollfdFd(sel, p[1])).isEqualTo(~p[1]);
            sel.modify(p[1], WRITE | ONESHOT); // same mask, same attachment: still a re-arm
            assertThat(PollInspector.pollfdFd(sel, p[1])).as("re-armed at the next select, not before")
                    .isEqualTo(~p[1]);
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("once");
            assertThat(PollInspector.pollfdFd(sel, p[1])).as("the re-arm before the wait, the disarm after it")
                    .isEqualTo(~p[1]);
            assertThat(PollInspector.rewritten(sel)).containsExactly(p[1]);
        }
    }
}
