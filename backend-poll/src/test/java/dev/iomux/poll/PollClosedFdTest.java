package dev.iomux.poll;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.poll.PollTesting.IDLE_CPU_LIMIT_MILLIS;
import static dev.iomux.poll.PollTesting.open;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rule CLOSED-FD on poll: a registered descriptor closed without unregister comes back from poll(2)
 * as POLLNVAL (poll(2)), which the backend reports as {@code ERROR} on
 * that key, in its registered directions only (REPORT-MASKED), for as long as it stays registered;
 * unregister still works, and afterwards nothing is reported and nothing spins (REPORT-NO-SPIN).
 *
 * <p>The descriptor closed is first moved to a high number ({@link Fds#moveHigh}), which nothing the JVM opens
 * in the meantime takes, so that the number is not reused under the registration.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollClosedFdTest {

    @Test
    void aReadEndClosedBehindTheSelectorsBackIsReportedAsAnErrorUntilUnregistered() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            p[0] = fds.moveHigh(p[0]);
            sel.register(p[0], READ, "closed");
            assertThat(sel.selectNow()).isEmpty();
            PollInspector.mark(sel);

            fds.close(p[0]);
            for (int round = 0; round < 5; round++) {
                List<Ready> got = sel.select(Duration.ofSeconds(5));
                assertThat(got).as("round %d: the closed fd is reported (level)", round).hasSize(1);
                assertThat(got.get(0).attachment()).isEqualTo("closed");
                assertThat(got.get(0).events()).as("round %d: POLLNVAL as ERROR, in the READ interest only", round)
                        .isEqualTo(READ | ERROR);
            }
            assertThat(PollInspector.pollfdFd(sel, p[0])).as("an error within the interest is reported, not parked")
                    .isEqualTo(p[0]);
            assertThat(PollInspector.rewritten(sel)).as("entries rewritten by 5 selects").isEmpty();

            sel.unregister(p[0]);
            assertThat(sel.keys()).isEmpty();
            assertThat(sel.selectNow()).isEmpty();
            Expect.idles(sel, 300, IDLE_CPU_LIMIT_MILLIS);
        }
    }

    @Test
    void aWriteEndClosedBehindTheSelectorsBackIsReportedInItsWriteInterest() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            p[1] = fds.moveHigh(p[1]);
            int[] other = fds.pipe();
            Fds.write(other[1], 1);
            sel.register(p[1], WRITE, "closed");
            sel.register(other[0], READ, "live");
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactlyInAnyOrder("closed", "live");

            fds.close(p[1]);
            for (int round = 0; round < 3; round++) {
                List<Ready> got = sel.select(Duration.ofSeconds(5));
                assertThat(got).extracting(Ready::attachment).containsExactlyInAnyOrder("closed", "live");
                for (Ready r : got) {
                    assertThat(r.events()).as("round %d: %s", round, r)
                            .isEqualTo("closed".equals(r.attachment()) ? WRITE | ERROR : READ);
                }
            }
            sel.unregister(p[1]);
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("live");
            sel.unregister(other[0]);
            Expect.idles(sel, 300, IDLE_CPU_LIMIT_MILLIS);
        }
    }

    @Test
    void aClosedFdWhileSelectIsBlockedIsReportedOnceTheWaitEnds() throws Exception {
        // Rule CLOSED-FD: a close in another thread wakes no poll(2); the closed fd is
        // reported as POLLNVAL by the next poll. Here the wait ends by timeout; a wakeup would do too.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            p[0] = fds.moveHigh(p[0]);
            sel.register(p[0], READ, "closed");
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(100);
                    fds.close(p[0]);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            closer.start();
            List<Ready> got = sel.select(Duration.ofMillis(600));
            closer.join(5_000);
            if (got.isEmpty()) {
                got = sel.select(Duration.ofSeconds(5));
            }
            assertThat(got).hasSize(1);
            assertThat(got.get(0).events()).isEqualTo(READ | ERROR);
            sel.unregister(p[0]);
            assertThat(sel.selectNow()).isEmpty();
        }
    }
}
