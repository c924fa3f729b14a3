package dev.iomux.poll;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static dev.iomux.poll.PollTesting.IDLE_CPU_LIMIT_MILLIS;
import static dev.iomux.poll.PollTesting.open;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * REPORT-NO-SPIN as poll(2) needs it: POLLHUP and POLLERR come back whatever the entry asked for
 * (poll(2): POLLHUP and POLLERR are reported even when events is 0), so a key whose interest does not cover them is
 * parked (its entry gets a negative fd, which poll skips) until modify; a key whose interest covers them
 * keeps being reported, which is the user's signal to act.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollNoSpinTest {

    @Test
    void aWriteKeyOnAPipeWhoseReaderClosedKeepsBeingReportedWithError() throws IOException {
        // PIPE-EPIPE within the WRITE interest: reported on every select (level), never parked.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[1], WRITE, "writer");
            assertThat(sel.selectNow()).hasSize(1);
            fds.close(p[0]);
            PollInspector.mark(sel);
            for (int i = 0; i < 200; i++) {
                List<Ready> got = i % 50 == 0 ? sel.select(Duration.ofSeconds(5)) : sel.selectNow();
                assertThat(got).as("select %d", i).hasSize(1);
                assertThat(Events.toString(got.get(0).events())).as("select %d", i)
                        .isEqualTo(Events.toString(WRITE | ERROR));
            }
            assertThat(PollInspector.pollfdFd(sel, p[1])).as("the key is not parked").isEqualTo(p[1]);
            assertThat(PollInspector.rewritten(sel)).as("entries rewritten by 200 selects").isEmpty();
            assertThat(sel.key(p[1]).isValid()).isTrue();
        }
    }

    @Test
    void aPriorityKeyWhosePeerClosedIsParkedWithoutSpinningUntilModify() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] sp = fds.socketPair();
            sel.register(sp[0], PRIORITY, "idle");
            assertThat(sel.selectNow()).isEmpty();
            assertThat(PollInspector.pollfdFd(sel, sp[0])).as("armed").isEqualTo(sp[0]);

            fds.close(sp[1]); // UNIX-HUP: POLLHUP at once, though the entry asks for POLLPRI only
            assertThat(sel.selectNow()).as("HANGUP outside the PRIORITY interest is not reported").isEmpty();
            assertThat(PollInspector.pollfdFd(sel, sp[0])).as("parked by the select that saw the hang-up")
                    .isEqualTo(~sp[0]);
            PollInspector.mark(sel);
            assertThat(sel.selectNow()).isEmpty();
            Expect.idles(sel, 300, IDLE_CPU_LIMIT_MILLIS);
            for (int i = 0; i < 1000; i++) {
                assertThat(sel.selectNow()).isEmpty();
            }
            assertThat(PollInspector.rewritten(sel)).as("once parked, the entry is left alone").isEmpty();
            assertThat(PollInspector.pollfdFd(sel, sp[0])).isEqualTo(~sp[0]);
            assertThat(sel.key(sp[0]).isValid()).as("parked, still registered").isTrue();

            sel.modify(sp[0], READ);
            int ev = Expect.ready(sel, sp[0], READ | HANGUP);
            assertThat(Events.toString(ev)).isEqualTo(Events.toString(READ | HANGUP | READ_HANGUP));
            assertThat(sel.key(sp[0]).attachment()).isEqualTo("idle");
            assertThat(Fds.read(sp[0], 1)).isZero();
        }
    }

    @Test
    void aParkedKeyStaysParkedWhenOnlyItsAttachmentChanges() throws IOException {
        // API-MODIFY: an attachment-only modify is no change of registration; it does not unpark.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] sp = fds.socketPair();
            sel.register(sp[0], PRIORITY, "a");
            fds.close(sp[1]);
            assertThat(sel.selectNow()).isEmpty();
            sel.modify(sp[0], PRIORITY, "b");
            Expect.idles(sel, 200, IDLE_CPU_LIMIT_MILLIS);
            sel.modify(sp[0], PRIORITY | READ);
            int ev = Expect.ready(sel, sp[0], READ | HANGUP);
            assertThat(ev & Events.INTERESTS).isEqualTo(READ);
            assertThat(sel.key(sp[0]).attachment()).isEqualTo("b");
        }
    }

    @Test
    void aParkedKeyDoesNotHideTheOthers() throws IOException {
        // The parked entry is skipped by poll, not removed: the other slots keep working around it.
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] sp = fds.socketPair();
            int[] p = fds.pipe();
            sel.register(sp[0], PRIORITY, "parked");
            sel.register(p[0], READ, "reader");
            fds.close(sp[1]);
            assertThat(sel.selectNow()).isEmpty();
            Fds.write(p[1], 1);
            assertThat(sel.select(Duration.ofSeconds(5))).extracting(Ready::attachment).containsExactly("reader");
            Fds.drain(p[0]);
            sel.unregister(p[0]); // swap-with-last moves nothing here; the parked key is slot 1
            Expect.idles(sel, 200, IDLE_CPU_LIMIT_MILLIS);
            sel.unregister(sp[0]);
            assertThat(sel.selectNow()).isEmpty();
        }
    }
}
