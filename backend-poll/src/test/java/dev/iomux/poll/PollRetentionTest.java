package dev.iomux.poll;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.poll.PollTesting.open;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the poll selector keeps between selects: nothing of a key once it is unregistered or replaced
 * (rule API-UNREGISTER: after unregister the selector forgets the descriptor, and with it the caller's
 * attachment), and bookkeeping bounded by the registrations, not by the count of changes since the last
 * select. The select and epoll backends apply changes at once and keep nothing; poll defers them to the
 * selecting thread, so this is where a backlog could pile up.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PollRetentionTest {
    private static final int MIB = 1 << 20;
    private static final int KEYS = 64;
    private static final int CYCLES = 1_000_000;
    /** The arrays of a fresh selector take about 1 KiB; a backlog of a million changes takes megabytes. */
    private static final long BOOKKEEPING_BOUND = 16 * 1024;

    @Test
    void attachmentsOfKeysUnregisteredBeforeAnySelectAreNotKept() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[][] pipes = pipes(fds, KEYS);
            List<WeakReference<byte[]>> attachments = registerWithBigAttachments(sel, pipes);
            for (int[] p : pipes) {
                sel.unregister(p[0]);
            }
            assertThat(stillReachable(attachments)).as("1 MiB attachments of %d keys unregistered before any "
                    + "select, still reachable after GC", KEYS).isZero();
            assertStillWorks(sel, pipes[0]);
        }
    }

    @Test
    void attachmentsOfKeysUnregisteredAfterASelectAreNotKept() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[][] pipes = pipes(fds, KEYS);
            List<WeakReference<byte[]>> attachments = registerWithBigAttachments(sel, pipes);
            assertThat(sel.selectNow()).isEmpty(); // every key gets its slot in the pollfd array
            for (int[] p : pipes) {
                sel.unregister(p[0]); // no select after: the slots are still in the array
            }
            assertThat(stillReachable(attachments)).as("1 MiB attachments of %d keys that had a slot, "
                    + "unregistered with no select since, still reachable after GC", KEYS).isZero();
            assertStillWorks(sel, pipes[0]);
        }
    }

    @Test
    void anAttachmentReplacedByModifyIsNotKept() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            List<WeakReference<byte[]>> replaced = new ArrayList<>();
            replaced.add(registerWithBigAttachment(sel, p[0], READ));
            assertThat(sel.selectNow()).isEmpty();
            // Attachment only: the base makes no backend call (API-MODIFY), the old key must still go.
            replaced.add(modifyWithBigAttachment(sel, p[0], READ));
            assertThat(sel.selectNow()).isEmpty();
            // New events, no select after.
            replaced.add(modifyWithBigAttachment(sel, p[0], READ | PRIORITY));
            sel.modify(p[0], READ | ONESHOT, "last");
            assertThat(stillReachable(replaced)).as("replaced 1 MiB attachments still reachable after GC")
                    .isZero();
            Fds.write(p[1], 1);
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("last");
        }
    }

    @Test
    void aMillionChangesWithoutASelectKeepTheBookkeepingBounded() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ, "reader");
            long fresh = PollInspector.bookkeepingBytes(sel);
            long most = fresh;
            long start = System.nanoTime();
            for (int i = 0; i < CYCLES; i++) {
                sel.register(p[1], WRITE, i);
                sel.modify(p[1], WRITE | ONESHOT);
                sel.unregister(p[1]);
                // Every one a real change (a new mask or a re-arm), made CYCLES times to the same key.
                sel.modify(p[0], (i & 1) == 0 ? READ | ONESHOT : READ | PRIORITY);
                if (i % 1000 == 0) {
                    most = Math.max(most, PollInspector.bookkeepingBytes(sel));
                }
            }
            long beforeSelect = PollInspector.bookkeepingBytes(sel);
            most = Math.max(most, beforeSelect);
            assertThat(sel.selectNow()).isEmpty();
            long afterSelect = PollInspector.bookkeepingBytes(sel);
            System.out.printf("PollRetentionTest: %d cycles of register, modify, unregister and a modify of "
                    + "another key, no select, in %d ms; bookkeeping %d bytes fresh, at most %d, %d before "
                    + "the select, %d after%n", CYCLES, (System.nanoTime() - start) / 1_000_000, fresh, most,
                    beforeSelect, afterSelect);
            assertThat(most).as("bytes of bookkeeping during %d x 4 changes without a select", CYCLES)
                    .isLessThanOrEqualTo(BOOKKEEPING_BOUND);
            assertThat(afterSelect).as("bytes of bookkeeping after the select").isLessThanOrEqualTo(BOOKKEEPING_BOUND);
            assertThat(sel.keys()).containsOnlyKeys(p[0]);
            Fds.write(p[1], 1);
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("reader");
        }
    }

    @Test
    void theArraysShrinkBackAfterManyKeysAreUnregistered() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            long fresh = PollInspector.bookkeepingBytes(sel);
            int[][] pipes = pipes(fds, 2000);
            for (int[] p : pipes) {
                sel.register(p[1], WRITE);
            }
            assertThat(sel.selectNow()).hasSize(pipes.length);
            long grown = PollInspector.bookkeepingBytes(sel);
            for (int[] p : pipes) {
                sel.unregister(p[1]);
            }
            assertThat(sel.selectNow()).isEmpty();
            long afterOne = PollInspector.bookkeepingBytes(sel);
            // The lists of changes are sized for the last batch (2,000 unregisters here) until a smaller
            // one comes, so that a steady load of many changes per select does not reallocate them.
            assertStillWorks(sel, pipes[0]);
            long after = PollInspector.bookkeepingBytes(sel);
            System.out.printf("PollRetentionTest: bookkeeping %d bytes fresh, %d with %d keys, %d after "
                    + "unregistering them and one select, %d after two more selects%n", fresh, grown,
                    pipes.length, afterOne, after);
            assertThat(grown).isGreaterThan(fresh);
            assertThat(afterOne).as("bytes of bookkeeping after unregistering all and one select").isLessThan(grown);
            assertThat(after).as("bytes of bookkeeping with nothing registered any more")
                    .isLessThanOrEqualTo(2 * fresh);
        }
    }

    // --- helpers -----------------------------------------------------------------------------------

    private static int[][] pipes(Fds fds, int n) throws IOException {
        int[][] pipes = new int[n][];
        for (int i = 0; i < n; i++) {
            pipes[i] = fds.pipe();
        }
        return pipes;
    }

    /** In a method of its own so that no local variable of the test keeps an attachment alive. */
    private static List<WeakReference<byte[]>> registerWithBigAttachments(PollSelector sel, int[][] pipes)
            throws IOException {
        List<WeakReference<byte[]>> refs = new ArrayList<>();
        for (int[] p : pipes) {
            refs.add(registerWithBigAttachment(sel, p[0], READ));
        }
        return refs;
    }

    private static WeakReference<byte[]> registerWithBigAttachment(PollSelector sel, int fd, int events)
            throws IOException {
        byte[] attachment = new byte[MIB];
        sel.register(fd, events, attachment);
        return new WeakReference<>(attachment);
    }

    private static WeakReference<byte[]> modifyWithBigAttachment(PollSelector sel, int fd, int events)
            throws IOException {
        byte[] attachment = new byte[MIB];
        sel.modify(fd, events, attachment);
        return new WeakReference<>(attachment);
    }

    /** Collects garbage until every referent is gone or 50 rounds have passed; returns how many are left. */
    private static long stillReachable(List<WeakReference<byte[]>> refs) {
        long left = refs.size();
        for (int round = 0; round < 50 && left > 0; round++) {
            System.gc();
            left = refs.stream().filter(r -> r.get() != null).count();
            if (left > 0) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return left;
    }

    /** The selector is still usable: a write end registered now is reported writable, then unregistered. */
    private static void assertStillWorks(PollSelector sel, int[] pipe) throws IOException {
        sel.register(pipe[1], WRITE, "check");
        assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactly("check");
        sel.unregister(pipe[1]);
        assertThat(sel.selectNow()).isEmpty();
    }
}
