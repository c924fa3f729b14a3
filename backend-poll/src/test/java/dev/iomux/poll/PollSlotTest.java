package dev.iomux.poll;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.poll.PollTesting.open;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.SelectorKey;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Each key's slot in the pollfd array and removal by swap-with-last (PollSelector, as the JDK's
 * PollSelectorImpl), past the initial 64 slots: checked against a model of what must be reported.
 * Rules API-SELECT-RESULT (each ready key once, within its interest), REPORT-MASKED, EPOLL-LT (level:
 * reported while data is queued), EPOLL-ONESHOT (emulated: once per arming), API-UNREGISTER and
 * API-MODIFY.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PollSlotTest {
    /** Replay a failure with {@code -Diomux.poll.seed=<master seed from the message>}. */
    private static final String SEED_PROPERTY = "iomux.poll.seed";
    private static final int PIPES = 40;
    private static final int SEQUENCES = 200;
    private static final int STEPS = 50;
    private static final int INITIAL_SLOTS = 64; // PollSelector's initial capacity, wake-up slot included

    @Test
    void threeHundredReadEndsPastTheInitialCapacityReportAllAndOnlyTheReadyOnes() throws IOException {
        int n = 300;
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[][] pipes = new int[n][];
            Map<Integer, Integer> indexOfFd = new HashMap<>();
            for (int i = 0; i < n; i++) {
                pipes[i] = fds.pipe();
                sel.register(pipes[i][0], READ, i);
                indexOfFd.put(pipes[i][0], i);
            }
            Set<Integer> expected = new HashSet<>();
            for (int i = 0; i < n; i += 7) {
                Fds.write(pipes[i][1], 1);
                expected.add(i);
            }
            assertThat(reportedIndexes(sel.select(Duration.ofSeconds(5)), indexOfFd))
                    .as("every 7th of %d read ends has data", n).isEqualTo(expected);
            assertThat(reportedIndexes(sel.selectNow(), indexOfFd)).as("level-triggered: again").isEqualTo(expected);

            // Remove every 3rd: swap-with-last moves entries from the end into the holes.
            for (int i = 0; i < n; i += 3) {
                sel.unregister(pipes[i][0]);
                expected.remove(i);
            }
            assertThat(reportedIndexes(sel.selectNow(), indexOfFd)).as("after unregistering every 3rd")
                    .isEqualTo(expected);

            // New data elsewhere, and a moved key's data drained.
            for (int i = 0; i < n; i += 5) {
                if (i % 3 != 0) {
                    Fds.write(pipes[i][1], 1);
                    expected.add(i);
                }
            }
            int moved = 287; // a multiple of 7, not of 3 or 5, near the end: moved by the removals
            assertThat(Fds.drain(pipes[moved][0])).isEqualTo(1);
            expected.remove(moved);
            assertThat(reportedIndexes(sel.selectNow(), indexOfFd)).as("after writing every 5th still registered")
                    .isEqualTo(expected);
            assertThat(sel.keys()).hasSize(n - (n + 2) / 3);
        }
    }

    /**
     * Unregister and register again from another thread while the selecting thread is in poll(2) or just
     * out of it: the old slot becomes a hole at once, and what poll reported for it must not be taken for
     * the new registration of the same descriptor number (implCollect asserts that a slot's key owns the
     * slot; surefire runs with assertions on). Rule API-THREADS, REPORT-AFTER-UNREGISTER.
     */
    @Test
    void unregisterAndRegisterAgainWhileAnotherThreadSelects() throws Exception {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            int[] q = fds.pipe();
            Fds.write(p[1], 1); // p[0] stays readable: every poll returns at once with it
            sel.register(q[0], READ, "idle");
            sel.register(p[0], READ, -1);
            sel.register(q[1], WRITE, "q");
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long[] selects = new long[1];
            Thread selecting = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        for (Ready r : sel.select(Duration.ofMillis(100))) {
                            if (r.fd() == p[0]) {
                                assertThat(r.events()).isEqualTo(READ);
                                assertThat(r.attachment()).isInstanceOf(Integer.class);
                            } else {
                                assertThat(r.fd()).isEqualTo(q[1]);
                                assertThat(r.events()).isEqualTo(WRITE);
                            }
                        }
                        selects[0]++;
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "poll-slot-selecting");
            selecting.start();
            int rounds = 0;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (System.nanoTime() < end && failure.get() == null) {
                sel.unregister(p[0]);
                sel.register(p[0], READ, rounds);
                if (rounds % 3 == 0) { // moves p[0]'s slot by swap-with-last now and then
                    sel.unregister(q[0]);
                    sel.register(q[0], READ, "idle");
                }
                rounds++;
            }
            stop.set(true);
            sel.wakeup();
            selecting.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(selecting.isAlive()).as("selecting thread stopped").isFalse();
            if (failure.get() != null) {
                fail("selecting thread failed after " + rounds + " rounds, " + selects[0] + " selects",
                        failure.get());
            }
            System.out.printf("PollSlotTest: %d unregister and register rounds against %d selects%n", rounds,
                    selects[0]);
            assertThat(sel.selectNow()).extracting(Ready::attachment).containsExactlyInAnyOrder(rounds - 1, "q");
            PollInspector.checkSlots(sel, Set.of());
        }
    }

    private static Set<Integer> reportedIndexes(List<Ready> got, Map<Integer, Integer> indexOfFd) {
        Set<Integer> out = new HashSet<>();
        for (Ready r : got) {
            assertThat(r.events()).as("fd %d", r.fd()).isEqualTo(READ);
            assertThat(r.attachment()).isEqualTo(indexOfFd.get(r.fd()));
            assertThat(out.add((Integer) r.attachment())).as("fd %d reported twice in one select", r.fd()).isTrue();
        }
        return out;
    }

    // --- The property test -----------------------------------------------------------------------

    /** What the test believes about one registrable end of a pipe. */
    private static final class End {
        final int fd;
        final boolean readEnd;
        int events;          // 0: not registered
        boolean armed;
        Object attachment;

        End(int fd, boolean readEnd) {
            this.fd = fd;
            this.readEnd = readEnd;
        }

        @Override
        public String toString() {
            return (readEnd ? "r" : "w") + fd + "[" + Events.toString(events) + (armed ? "" : ",disarmed") + "]";
        }
    }

    /** One sequence's state: the model, the selector and a trail of recent operations for messages. */
    private static final class Run {
        final long master;
        final int sequence;
        final long seed;
        final SplittableRandom rnd;
        final PollSelector sel;
        final int[][] pipes;
        final End[] ends;                  // 2 per pipe: read end, write end
        final int[] queued;                // unread bytes per pipe
        final Deque<String> trail = new ArrayDeque<>();
        final boolean bursts;
        int step;
        int names;

        Run(long master, int sequence, long seed, PollSelector sel, int[][] pipes, boolean bursts) {
            this.bursts = bursts;
            this.master = master;
            this.sequence = sequence;
            this.seed = seed;
            this.rnd = new SplittableRandom(seed);
            this.sel = sel;
            this.pipes = pipes;
            this.ends = new End[pipes.length * 2];
            this.queued = new int[pipes.length];
            for (int i = 0; i < pipes.length; i++) {
                ends[2 * i] = new End(pipes[i][0], true);
                ends[2 * i + 1] = new End(pipes[i][1], false);
            }
        }

        String where() {
            return String.format("master seed %d (-D%s=%d), sequence %d (seed %d), step %d; last operations: %s",
                    master, SEED_PROPERTY, master, sequence, seed, step, trail);
        }

        void log(String op) {
            trail.addLast(op);
            if (trail.size() > 12) {
                trail.removeFirst();
            }
        }

        int registered() {
            int n = 0;
            for (End e : ends) {
                n += e.events != 0 ? 1 : 0;
            }
            return n;
        }

        int randomMode(End e) {
            int direction = e.readEnd ? READ : WRITE;
            return rnd.nextBoolean() ? direction : direction | ONESHOT;
        }

        void register(End e) throws IOException {
            int events = randomMode(e);
            Object att = (e.readEnd ? "r" : "w") + e.fd + "#" + names++;
            SelectorKey key = sel.register(e.fd, events, att);
            assertThat(key.events()).isEqualTo(events);
            e.events = events;
            e.armed = true;
            e.attachment = att;
            log("register " + e);
        }

        void modify(End e) throws IOException {
            int events = randomMode(e);
            Object att = rnd.nextBoolean() ? e.attachment : (e.readEnd ? "r" : "w") + e.fd + "#" + names++;
            sel.modify(e.fd, events, att);
            e.events = events;
            e.armed = true; // a new mask or a ONESHOT mask re-arms; an unchanged plain mask was never disarmed
            e.attachment = att;
            log("modify " + e);
        }

        void unregister(End e) {
            log("unregister " + e);
            SelectorKey key = sel.unregister(e.fd);
            assertThat(key.attachment()).as(where()).isEqualTo(e.attachment);
            e.events = 0;
            e.attachment = null;
        }

        /**
         * Several unregisters in one interval, some ends registered again at once: holes anywhere in the
         * array, the last slots included, and descriptor numbers back in the table before their old slots
         * are removed.
         */
        void burst() throws IOException {
            int n = 1 + rnd.nextInt(12);
            log("burst of " + n);
            for (int k = 0; k < n; k++) {
                End e = ends[rnd.nextInt(ends.length)];
                if (e.events != 0) {
                    unregister(e);
                    if (rnd.nextInt(3) == 0) {
                        register(e);
                    }
                }
            }
        }

        void randomOperation() throws IOException {
            if (bursts && rnd.nextInt(8) == 0) {
                burst();
                return;
            }
            int pipe = rnd.nextInt(pipes.length);
            End e = ends[2 * pipe + rnd.nextInt(2)];
            int r = rnd.nextInt(100);
            if (r < 25) {
                if (e.events == 0) {
                    register(e);
                } else {
                    modify(e);
                }
            } else if (r < 40) {
                if (e.events != 0) {
                    unregister(e);
                } else {
                    register(e);
                }
            } else if (r < 55) {
                if (e.events != 0) {
                    modify(e);
                } else {
                    register(e);
                }
            } else if (r < 80) {
                Fds.write(pipes[pipe][1], 1);
                queued[pipe]++;
                log("write 1 to pipe " + pipe + " (" + queued[pipe] + " queued)");
            } else if (r < 90) {
                long n = Fds.drain(pipes[pipe][0]);
                assertThat(n).as(where()).isEqualTo(queued[pipe]);
                queued[pipe] = 0;
                log("drain pipe " + pipe);
            } else {
                int n = Fds.read(pipes[pipe][0], 1);
                assertThat(n).as(where()).isEqualTo(queued[pipe] > 0 ? 1 : dev.iomux.io.Descriptors.WOULD_BLOCK);
                queued[pipe] -= Math.max(n, 0);
                log("read 1 from pipe " + pipe + " (" + queued[pipe] + " left)");
            }
        }

        /** selectNow, compared with the model; fired ONESHOT keys are disarmed in the model. */
        void check() throws IOException {
            List<Ready> got = sel.selectNow();
            Map<Integer, Ready> byFd = new HashMap<>();
            for (Ready r : got) {
                if (byFd.put(r.fd(), r) != null) {
                    fail("fd %d reported twice in one select: %s; %s", r.fd(), got, where());
                }
            }
            int expectedCount = 0;
            for (int i = 0; i < ends.length; i++) {
                End e = ends[i];
                boolean ready = e.readEnd ? queued[i / 2] > 0 : true; // a write end of a near-empty pipe
                boolean expected = e.events != 0 && e.armed && ready;
                Ready r = byFd.get(e.fd);
                if (expected) {
                    expectedCount++;
                    if (r == null) {
                        fail("%s must be reported (%s queued) but was not; reported: %s; %s", e,
                                e.readEnd ? queued[i / 2] : "-", got, where());
                    }
                    assertThat(r.events()).as("events of %s; %s", e, where()).isEqualTo(e.readEnd ? READ : WRITE);
                    assertThat(r.attachment()).as("attachment of %s; %s", e, where()).isEqualTo(e.attachment);
                    assertThat(r.key()).as("the current key of %s; %s", e, where()).isSameAs(sel.key(e.fd));
                    if ((e.events & ONESHOT) != 0) {
                        e.armed = false;
                    }
                } else if (r != null) {
                    fail("%s must not be reported (%s queued) but was: %s; %s", e,
                            e.readEnd ? queued[i / 2] : "-", r, where());
                }
            }
            assertThat(got).as("reported keys; %s", where()).hasSize(expectedCount);
            assertThat(sel.keys()).as("registrations; %s", where()).hasSize(registered());
            // The model says which keys are disarmed (fired ONESHOT, once the reports above are counted):
            // their entries must have a negative fd, the others the key's own.
            Set<Integer> disarmed = new HashSet<>();
            for (End e : ends) {
                if (e.events != 0 && !e.armed) {
                    disarmed.add(e.fd);
                }
            }
            try {
                PollInspector.checkSlots(sel, disarmed);
            } catch (AssertionError e) {
                fail("slots after the select: %s; %s", e.getMessage(), where());
            }
        }
    }

    @Test
    void randomRegistrationsWritesAndDrainsAgreeWithAModel() throws IOException {
        runSequences("PollSlotTest", SEQUENCES, 3, false);
    }

    /**
     * Many changes between two selects (up to 30 operations, bursts of unregisters among them): several
     * holes removed by one prepare step, at the end of the array and before it, in any order, and
     * descriptors unregistered and registered again while their old slots wait for removal.
     */
    @Test
    void manyChangesBetweenSelectsIncludingBurstsOfUnregistersAgreeWithAModel() throws IOException {
        runSequences("PollSlotTest bursts", SEQUENCES / 8, 30, true);
    }

    private static void runSequences(String name, int sequences, int maxOpsBetweenSelects, boolean bursts)
            throws IOException {
        long master = Long.getLong(SEED_PROPERTY, System.nanoTime());
        System.out.printf("%s master seed %d (replay: -D%s=%d)%n", name, master, SEED_PROPERTY, master);
        SplittableRandom seeds = new SplittableRandom(master);
        int mostRegistered = 0;
        long start = System.nanoTime();
        try (Fds fds = new Fds()) {
            int[][] pipes = new int[PIPES][];
            for (int i = 0; i < PIPES; i++) {
                pipes[i] = fds.pipe();
            }
            for (int sequence = 0; sequence < sequences; sequence++) {
                long seed = seeds.nextLong();
                for (int[] p : pipes) {
                    Fds.drain(p[0]);
                }
                try (PollSelector sel = open()) {
                    Run run = new Run(master, sequence, seed, sel, pipes, bursts);
                    // Start from a random density of registrations: up to all 80 ends, past the 63 free
                    // slots of the initial array, so that the first select of such a sequence grows it. The
                    // first sequence starts with all of them, so that every run grows it at least once
                    // (random densities alone stayed at 63 for master seed 47536134013660).
                    double density = sequence == 0 ? 1 : run.rnd.nextDouble();
                    for (int i = 0; i < PIPES; i++) {
                        for (int end = 0; end < 2; end++) {
                            if (run.rnd.nextDouble() < density) {
                                run.register(run.ends[2 * i + end]);
                            }
                        }
                        if (run.rnd.nextInt(3) == 0) {
                            Fds.write(pipes[i][1], 1);
                            run.queued[i]++;
                        }
                    }
                    run.trail.clear();
                    run.log("initial state: " + run.registered() + " registered");
                    mostRegistered = Math.max(mostRegistered, run.registered());
                    run.check();
                    for (run.step = 1; run.step <= STEPS; run.step++) {
                        int ops = 1 + run.rnd.nextInt(maxOpsBetweenSelects); // several changes between two selects
                        for (int op = 0; op < ops; op++) {
                            run.randomOperation();
                        }
                        mostRegistered = Math.max(mostRegistered, run.registered());
                        run.check();
                    }
                }
            }
        }
        System.out.printf("%s: %d sequences of %d steps in %d ms, at most %d keys registered%n",
                name, sequences, STEPS, (System.nanoTime() - start) / 1_000_000, mostRegistered);
        assertThat(mostRegistered).as("some sequence grew past the initial %d slots (master seed %d)",
                INITIAL_SLOTS, master).isGreaterThanOrEqualTo(INITIAL_SLOTS);
    }
}
