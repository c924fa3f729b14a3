package dev.iomux.select;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.SelectorKey;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Async;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rule CLOSED-FD on select: a registered descriptor closed without unregister makes select(2) fail with
 * EBADF for every descriptor (select(2): EBADF); the backend finds the closed one,
 * reports it as ERROR on its key, selects the others again, never spins, and unregister still works.
 *
 * <p>The closed descriptor is a duplicate at a high free number (900..1000), so that no open, pipe or
 * socket of this JVM reuses the number while the test watches it closed: they take the lowest free one.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SelectClosedFdTest {

    /** A pipe read end duplicated at a high free number, the original number closed; its write end open. */
    private static int highPipeReadEnd(Fds fds) throws IOException {
        int fd = fds.moveHigh(fds.pipe()[0]);
        assumeTrue(fd <= 1000, "a free descriptor number in 900..1000");
        return fd;
    }

    /** @return whether select(2) is asked about {@code fd}: its bit in any of the three master sets */
    private static boolean watched(SelectSelector sel, int fd) {
        return sel.readMaster.isSet(fd) || sel.writeMaster.isSet(fd) || sel.exceptMaster.isSet(fd);
    }

    // CLOSED-FD: the EBADF does not fail the select; the closed key is ERROR (plus READ, its interest),
    // the ready key comes in the same result, every time until unregister; then nothing, and no spin.
    @Test
    void aClosedFdIsReportedAsErrorBesideTheReadyKeysUntilUnregistered() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int closed = highPipeReadEnd(fds);
            int[] live = fds.pipe();
            sel.register(closed, READ, "closed");
            sel.register(live[0], READ, "live");
            Fds.write(live[1], 1);
            assertThat(sel.select(Expect.PATIENCE)).extracting(Ready::attachment).containsExactly("live");

            fds.close(closed);
            for (int round = 0; round < 3; round++) {
                List<Ready> got = sel.select(Expect.PATIENCE);
                assertThat(got).as("round %d", round).extracting(Ready::attachment)
                        .containsExactlyInAnyOrder("closed", "live");
                for (Ready r : got) {
                    if (r.fd() == closed) {
                        assertThat(r.events()).as("closed fd %d, round %d", closed, round).isEqualTo(READ | ERROR);
                    } else {
                        assertThat(r.events()).isEqualTo(READ);
                    }
                }
            }
            // selectNow and the handler select take the same path.
            assertThat(sel.selectNow()).extracting(Ready::fd).containsExactlyInAnyOrder(closed, live[0]);
            int[] count = new int[1];
            assertThat(sel.selectNow((k, e) -> count[0]++)).isEqualTo(2);

            SelectorKey key = sel.unregister(closed);
            assertThat(key.fd()).isEqualTo(closed);
            assertThat(key.isValid()).isFalse();
            assertThat(sel.select(Expect.PATIENCE)).extracting(Ready::attachment).containsExactly("live");
            Fds.drain(live[0]);

            assertThat(watched(sel, closed)).as("fd %d in the master sets once unregistered", closed).isFalse();
            Expect.idles(sel, 300, 150);
            Fds.write(live[1], 1);
            assertThat(sel.select(Expect.PATIENCE)).extracting(Ready::attachment).containsExactly("live");
        }
    }

    // CLOSED-FD, REPORT-MASKED: ERROR comes with the directions the key registered.
    @Test
    void theErrorComesWithEveryRegisteredDirection() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int a = highPipeReadEnd(fds);
            sel.register(a, READ | WRITE);
            fds.close(a);
            // Nothing else is ready: the closed fd is news enough, the select does not wait out its timeout.
            long start = System.nanoTime();
            assertThat(sel.select(Duration.ofSeconds(10))).extracting(Ready::events)
                    .containsExactly(READ | WRITE | ERROR);
            assertThat(Expect.millisSince(start)).isLessThan(5_000);
            assertThat(Expect.ready(sel, a, ERROR)).isEqualTo(READ | WRITE | ERROR);
            sel.modify(a, WRITE);
            assertThat(Expect.ready(sel, a, ERROR)).isEqualTo(WRITE | ERROR);
            sel.unregister(a);
            Expect.idles(sel, 300, 150);
        }
    }

    // CLOSED-FD with ONESHOT: reported once, then disarmed: no report, no spin, until modify re-arms it.
    @Test
    void aOneShotKeyOnAClosedFdIsReportedOnceThenDisarmed() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int a = highPipeReadEnd(fds);
            sel.register(a, READ | ONESHOT);
            fds.close(a);
            assertThat(sel.select(Expect.PATIENCE)).extracting(Ready::events).containsExactly(READ | ERROR);
            Expect.idles(sel, 300, 150);
            sel.modify(a, READ | ONESHOT);
            assertThat(sel.select(Expect.PATIENCE)).extracting(Ready::events).containsExactly(READ | ERROR);
            sel.unregister(a);
        }
    }

    // CLOSED-FD + REPORT-NO-SPIN: a PRIORITY-only key on a closed fd has no direction to show the error
    // in: it is parked after one EBADF, not reported, and the select does not spin.
    @Test
    void aPriorityOnlyKeyOnAClosedFdIsParkedAndDoesNotSpin() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int a = highPipeReadEnd(fds);
            sel.register(a, PRIORITY, "pri");
            assertThat(sel.selectNow()).isEmpty();
            assertThat(watched(sel, a)).as("armed: in the exceptfds master").isTrue();
            fds.close(a);
            Expect.idles(sel, 300, 150);
            assertThat(watched(sel, a)).as("parked after the EBADF: out of the fd_sets").isFalse();
            Expect.idles(sel, 300, 150);
            assertThat(watched(sel, a)).as("still parked").isFalse();
            assertThat(sel.key(a).isValid()).isTrue();
            // Re-armed with a direction, the error shows.
            sel.modify(a, READ | PRIORITY);
            assertThat(sel.select(Expect.PATIENCE)).extracting(Ready::events).containsExactly(READ | ERROR);
            sel.unregister(a);
            Expect.idles(sel, 300, 150);
        }
    }

    /**
     * CLOSED-FD, close() from another thread: closing a descriptor in
     * another thread does not wake select(2). The blocked select must still return by its timeout (or
     * earlier) without throwing, and unregister must work afterwards.
     */
    @Test
    void closingAWatchedFdInAnotherThreadNeitherHangsNorFailsTheSelect() throws Exception {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int a = highPipeReadEnd(fds);
            sel.register(a, READ, "victim");
            CountDownLatch selecting = new CountDownLatch(1);
            long start = System.nanoTime();
            CompletableFuture<List<Ready>> blocked = Async.supply(() -> {
                selecting.countDown();
                try {
                    return sel.select(Duration.ofSeconds(2));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(selecting.await(5, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(200);
            fds.close(a); // this thread: not the selecting one
            assertThat(Descriptors.isOpen(a)).isFalse();
            List<Ready> got = blocked.get(5, TimeUnit.SECONDS); // throws if the select threw or hung
            long elapsed = Expect.millisSince(start);
            assertThat(elapsed).as("the blocked select returned").isLessThan(5_000);
            System.out.printf("select: fd %d closed in another thread at 200 ms; the blocked select(2 s) "
                    + "returned after %d ms with %s%n", a, elapsed, got);
            List<Ready> next = sel.selectNow();
            System.out.printf("select: the next selectNow reported %s%n", next);
            SelectorKey key = sel.unregister(a);
            assertThat(key.attachment()).isEqualTo("victim");
            assertThat(sel.keys()).isEmpty();
            assertThat(sel.selectNow()).isEmpty();
        }
    }
}
