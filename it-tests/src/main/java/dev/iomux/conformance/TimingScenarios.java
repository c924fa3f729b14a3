package dev.iomux.conformance;

import static dev.iomux.Events.READ;
import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.testing.Async;
import dev.iomux.testing.Fds;
import dev.iomux.testing.SelectorContract;
import dev.iomux.testing.Signals;

/** Section 6 of the catalog: timeouts, signals and wake-up. */
final class TimingScenarios {
    private TimingScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("TIMEOUT-BLOCK", uses(Uses.PIPE, Uses.THREADS), TimingScenarios::block);
        b.rule("TIMEOUT-ZERO", Uses.PIPE, run -> run.contract(
                SelectorContract::zeroAndNegativeTimeoutsReturnAtOnceWithWhatIsReady));
        b.rule("TIMEOUT-POSITIVE", Uses.PIPE, TimingScenarios::positive);
        b.rule("TIMEOUT-EMPTY", Uses.PIPE, run -> run.contract(
                SelectorContract::anEmptySelectorHonoursItsTimeout));
        b.rule("EINTR-RETRY", uses(Uses.PIPE, Uses.SIGNALS), TimingScenarios::signalled);
        b.rule("EINTR-STOP", uses(Uses.PIPE, Uses.SIGNALS), TimingScenarios::stopAndContinue);
        b.rule("WAKEUP", uses(Uses.PIPE, Uses.THREADS), run -> run.contract(
                SelectorContract::wakeupReturnsABlockedSelect,
                SelectorContract::aWakeupBeforeSelectMakesTheNextSelectReturnAtOnceAndManyCoalesce,
                SelectorContract::selectNowConsumesAPendingWakeup));
        b.rule("CLOSE-WAKES", uses(Uses.PIPE, Uses.THREADS), run -> run.contract(
                SelectorContract::closeFromAnotherThreadWakesABlockedSelectWhichFailsAsClosed));
    }

    /** How long after a select without timeout began its key is made ready. */
    private static final long BLOCK_MILLIS = 200;

    /**
     * With no timeout, the wait sleeps until the key is ready or wakeup() is called (the contract's case):
     * {@link Waits#ROUNDS} selects without a
     * timeout, each woken by a write {@link #BLOCK_MILLIS} ms later, report the key, and the selecting
     * thread is hardly ever runnable meanwhile ({@link Waits}). A wait without timeout passed to the kernel
     * as a zero timeout returns the same key at the same moment, after a busy loop.
     */
    static void block(Run run) throws Exception {
        run.contract(SelectorContract::wakeupReturnsABlockedSelect);
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        sel.register(p[0], READ);
        Waits.warmUp(sel);
        Waits.Costs costs = new Waits.Costs();
        for (int round = 0; round < Waits.ROUNDS; round++) {
            CompletableFuture<Void> writer = Async.run(() -> {
                Fds.sleep(BLOCK_MILLIS);
                try {
                    Fds.write(p[1], 1);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Waits.Waited w = Waits.selectForever(sel);
            writer.get(10, TimeUnit.SECONDS);
            assertThat(w.got()).as("%s: round %d: a select without timeout returns the key made ready",
                    run.backend(), round).extracting(Ready::fd).containsExactly(p[0]);
            assertThat(w.millis()).as("%s: round %d: it waited for the write", run.backend(), round)
                    .isGreaterThanOrEqualTo(BLOCK_MILLIS / 2);
            assertThat(Fds.read(p[0], 16)).isEqualTo(1);
            costs.add(w);
        }
        run.note(Waits.ROUNDS + " selects without timeout, a write " + BLOCK_MILLIS
                + " ms later: R (" + costs + ")");
        costs.checkRunnable(run, "a select without timeout woken after " + BLOCK_MILLIS + " ms",
                Waits.runnableBudgetNanos(1, Duration.ofMillis(BLOCK_MILLIS).toNanos()));
    }

    /** The positive timeout {@link #positive} checks the deadline of. */
    private static final long TIMED_MILLIS = 300;
    /** A timeout below a millisecond, which a call taking milliseconds must round up, and how many selects of it. */
    private static final Duration SUB_MILLISECOND = Duration.ofNanos(900_000);
    private static final int SUB_MILLISECOND_SELECTS = 100;

    /** A timeout far below a millisecond, which a call taking a timespec honours, and how many selects of it. */
    private static final Duration MICROSECONDS = Duration.ofNanos(50_000);
    private static final int MICROSECOND_SELECTS = 200;
    /**
     * What each select of 50 us may take besides waiting for a CPU, the median of {@link Waits#ROUNDS}
     * batches: ten times its timeout, room for the timer's wake-up latency (80 to 90 us each in all on a
     * loaded 2-core VM, as from C), and half the millisecond a call that takes milliseconds (epoll_wait,
     * poll) rounds 50 us up to.
     */
    private static final long MICROSECOND_BUDGET_NANOS = 500_000;

    /**
     * A positive timeout with nothing ready: the contract's case (never early, sub-millisecond values
     * included); then {@link Waits#ROUNDS} batches of {@link #SUB_MILLISECOND_SELECTS} selects of 900 us,
     * which must sleep (900 us rounded down to milliseconds is a zero timeout, and the select busy-loops to
     * its deadline); then {@link Waits#ROUNDS} batches of {@link #MICROSECOND_SELECTS} selects of 50 us,
     * which must wait at least 50 us each and, the median batch, less than
     * {@link #MICROSECOND_BUDGET_NANOS} each besides the time the thread waited for a CPU (which a loaded
     * machine adds after each wake-up): the timeout reaches the kernel in nanoseconds, not rounded up to a
     * millisecond, which is slept however loaded the machine; then {@link Waits#ROUNDS} selects of {@link #TIMED_MILLIS} ms, which must sleep and
     * return within {@link Waits#LATE_MILLIS} of their timeout (medians).
     */
    static void positive(Run run) throws Exception {
        run.contract(SelectorContract::aPositiveTimeoutWaitsAtLeastThatLong);
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        sel.register(p[0], READ);
        Waits.warmUp(sel);
        Waits.Costs batches = emptyBatches(run, sel, SUB_MILLISECOND, SUB_MILLISECOND_SELECTS, "900 us");
        long batch = SUB_MILLISECOND.toNanos() * SUB_MILLISECOND_SELECTS;
        assertThat(batches.medianNanos()).as("%s: %d selects of 900 us wait at least %s", run.backend(),
                SUB_MILLISECOND_SELECTS, Waits.ms(batch)).isGreaterThanOrEqualTo(batch);
        Waits.Costs micro = emptyBatches(run, sel, MICROSECONDS, MICROSECOND_SELECTS, "50 us");
        long microBatch = MICROSECONDS.toNanos() * MICROSECOND_SELECTS;
        assertThat(micro.medianNanos()).as("%s: %d selects of 50 us wait at least %s", run.backend(),
                MICROSECOND_SELECTS, Waits.ms(microBatch)).isGreaterThanOrEqualTo(microBatch);
        assertThat(micro.medianNanosBesidesRunDelay() / MICROSECOND_SELECTS).as("%s: a select(50 us) with nothing "
                + "ready takes less than %d us besides waiting for a CPU (the median of %d batches of %d: %s): the "
                + "timeout reaches the kernel in "
                + "nanoseconds (pselect, ppoll, epoll_pwait2), not rounded up to a millisecond", run.backend(),
                MICROSECOND_BUDGET_NANOS / 1_000, Waits.ROUNDS, MICROSECOND_SELECTS, micro)
                .isLessThan(MICROSECOND_BUDGET_NANOS);
        Waits.Costs timed = new Waits.Costs();
        for (int round = 0; round < Waits.ROUNDS; round++) {
            Waits.Waited w = Waits.select(sel, Duration.ofMillis(TIMED_MILLIS));
            assertThat(w.got()).as("%s: round %d: nothing was ready", run.backend(), round).isEmpty();
            assertThat(w.millis()).as("%s: round %d: select(%d ms) waits at least its timeout", run.backend(), round,
                    TIMED_MILLIS).isGreaterThanOrEqualTo(TIMED_MILLIS);
            timed.add(w);
        }
        run.note(Waits.ROUNDS + " x " + SUB_MILLISECOND_SELECTS
                + " selects of 900 us: " + batches + "; " + Waits.ROUNDS + " x " + MICROSECOND_SELECTS
                + " selects of 50 us: " + micro + "; " + Waits.ROUNDS + " selects of " + TIMED_MILLIS + " ms: - ("
                + timed + ")");
        batches.checkCpu(run, SUB_MILLISECOND_SELECTS + " selects of 900 us (rounded up, never down to a zero "
                + "timeout)", Waits.cpuBudgetNanos(SUB_MILLISECOND_SELECTS, batch));
        timed.checkRunnable(run, "a select of " + TIMED_MILLIS + " ms", Waits.runnableBudgetNanos(1,
                Duration.ofMillis(TIMED_MILLIS).toNanos()));
        assertThat(timed.medianNanos() / 1_000_000).as("%s: select(%d ms) with nothing ready and no signal returns "
                + "within %d ms of its timeout (median of %s)", run.backend(), TIMED_MILLIS, Waits.LATE_MILLIS, timed)
                .isLessThan(TIMED_MILLIS + Waits.LATE_MILLIS);
        longTimeout(run, sel);
    }

    /**
     * {@link Waits#ROUNDS} batches of {@code count} selects of {@code timeout}, each checked to have found
     * nothing ready.
     */
    private static Waits.Costs emptyBatches(Run run, Selector sel, Duration timeout, int count, String label)
            throws Exception {
        Waits.Costs batches = new Waits.Costs();
        for (int round = 0; round < Waits.ROUNDS; round++) {
            Waits.Waited w = Waits.measure(() -> {
                for (int i = 0; i < count; i++) {
                    List<Ready> got = sel.select(timeout);
                    if (!got.isEmpty()) {
                        return got;
                    }
                }
                return List.of();
            });
            assertThat(w.got()).as("%s: select(%s) with nothing ready", run.backend(), label).isEmpty();
            batches.add(w);
        }
        return batches;
    }

    /**
     * Just over 2^31 nanoseconds: a backend that narrows the nanoseconds to an int before dividing (or a
     * timespec or timeval built wrongly) turns it into a negative timeout, which the kernel reads as none.
     */
    private static final long LONG_MILLIS = 2_150;

    /**
     * One select of {@link #LONG_MILLIS} with nothing ready returns at its timeout, not never. It runs in
     * the scenario's thread, like every select of it (a selector may take selects from its first selecting
     * thread only: uring-single); another thread wakes it up if it has not returned in time.
     */
    private static void longTimeout(Run run, Selector sel) throws Exception {
        CountDownLatch returned = new CountDownLatch(1);
        CompletableFuture<Boolean> watchdog = Async.supply(() -> {
            try {
                if (returned.await(LONG_MILLIS + 3_000, TimeUnit.MILLISECONDS)) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sel.wakeup();
            return true;
        });
        Waits.Waited w;
        try {
            w = Waits.select(sel, Duration.ofMillis(LONG_MILLIS));
        } finally {
            returned.countDown();
        }
        if (watchdog.get(10, TimeUnit.SECONDS)) {
            throw new AssertionError(run.backend() + ": select(" + LONG_MILLIS + " ms) with nothing ready had not "
                    + "returned " + (LONG_MILLIS + 3_000) + " ms later (a timeout over 2^31 ns lost: nanoseconds "
                    + "narrowed to an int?)");
        }
        run.note("a select of " + LONG_MILLIS + " ms returned after " + w.millis() + " ms");
        assertThat(w.got()).as("%s: select(%d ms): nothing was ready", run.backend(), LONG_MILLIS).isEmpty();
        assertThat(w.millis()).as("%s: select(%d ms) waits its timeout and not much more", run.backend(), LONG_MILLIS)
                .isGreaterThanOrEqualTo(LONG_MILLIS).isLessThan(LONG_MILLIS + 1_000);
    }

    /** The timeout of {@link #signalled}'s selects. */
    private static final long SIGNALLED_MILLIS = 500;
    /** How often, and how many times, a signal interrupts each of them. */
    private static final long SIGNAL_EVERY_MILLIS = 25;
    private static final int SIGNALS = 12;
    /**
     * How late a signalled select may return past its deadline (the median of {@link Waits#ROUNDS}): more
     * than {@link Waits#LATE_MILLIS}, for the signals' handling, but less than the
     * {@code SIGNALS * SIGNAL_EVERY_MILLIS} ms a retry with the whole timeout again adds.
     */
    private static final long SIGNALLED_LATE_MILLIS = 150;

    /**
     * A signal with a handler makes select, poll and epoll_wait fail with EINTR whatever SA_RESTART says
     * (signal(7): never restarted). {@link Waits#ROUNDS} selects of {@link #SIGNALLED_MILLIS} ms, each
     * interrupted by a SIGWINCH every {@link #SIGNAL_EVERY_MILLIS} ms for the first
     * {@code SIGNALS * SIGNAL_EVERY_MILLIS} ms, aimed at the selecting thread with pthread_kill: each
     * returns no keys, not before its timeout, and (the median) not later than
     * {@link #SIGNALLED_LATE_MILLIS} past it, so a retry takes the time left to the deadline, not the
     * whole timeout again (Netty #16244 hung for minutes). The retries sleep too: the median time the
     * selecting thread was runnable is within the budget of one select per signal ({@link Waits}). The
     * selects run in the scenario's thread and the signals come from another (a selector may take selects
     * from its first selecting thread only: uring-single).
     */
    static void signalled(Run run) throws Exception {
        Signals.installWinchHandler();
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        sel.register(p[0], READ);
        Waits.warmUp(sel);
        int before = Signals.handled();
        Waits.Costs costs = new Waits.Costs();
        long self = Signals.self(); // the selects run in the scenario's thread, the signals come from another
        for (int round = 0; round < Waits.ROUNDS; round++) {
            AtomicBoolean returned = new AtomicBoolean();
            CompletableFuture<Void> signaller = Async.run(() -> {
                for (int i = 0; i < SIGNALS && !returned.get(); i++) {
                    Fds.sleep(SIGNAL_EVERY_MILLIS);
                    if (!returned.get()) {
                        Signals.interrupt(self);
                    }
                }
            });
            Waits.Waited w;
            try {
                w = Waits.select(sel, Duration.ofMillis(SIGNALLED_MILLIS));
            } finally {
                returned.set(true);
            }
            signaller.get(10, TimeUnit.SECONDS);
            assertThat(w.got()).as("%s: round %d: nothing was ready", run.backend(), round).isEmpty();
            assertThat(w.millis()).as("%s: round %d: a signalled select(%d ms) does not return early with nothing",
                    run.backend(), round, SIGNALLED_MILLIS).isGreaterThanOrEqualTo(SIGNALLED_MILLIS);
            costs.add(w);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (Signals.handled() == before && System.nanoTime() < deadline) {
            Fds.sleep(10);
        }
        assertThat(Signals.handled()).as("the signals were delivered").isGreaterThan(before);
        run.note(Waits.ROUNDS + " selects of " + SIGNALLED_MILLIS + " ms, a signal every " + SIGNAL_EVERY_MILLIS
                + " ms for " + SIGNALS * SIGNAL_EVERY_MILLIS + " ms: - (" + costs + ")");
        assertThat(costs.medianNanos() / 1_000_000).as("%s: a select(%d ms) interrupted by signals for its first %d ms "
                + "retries with the time left to its deadline: it returns within %d ms of it (median of %s); a "
                + "retry with the whole timeout again returns late by the time waited before the last signal, about "
                + "%d ms", run.backend(), SIGNALLED_MILLIS, SIGNALS * SIGNAL_EVERY_MILLIS, SIGNALLED_LATE_MILLIS, costs,
                SIGNALS * SIGNAL_EVERY_MILLIS)
                .isLessThan(SIGNALLED_MILLIS + SIGNALLED_LATE_MILLIS);
        costs.checkRunnable(run, "a select of " + SIGNALLED_MILLIS + " ms interrupted " + SIGNALS + " times",
                Waits.runnableBudgetNanos(1 + SIGNALS, Duration.ofMillis(SIGNALLED_MILLIS).toNanos()));
    }

    /** How long each of the child's selects waits. */
    private static final long CHILD_TIMEOUT_MILLIS = 1_000;
    /** How long after the child says it is selecting the stop comes, and how long it lasts. */
    private static final long STOP_AFTER_MILLIS = 400;
    private static final long STOPPED_MILLIS = 400;
    /** Selects stopped and continued; the median is checked, so one disturbed by a loaded machine does not decide. */
    private static final int ROUNDS = 3;
    /**
     * How late a select may return past what its mechanism allows. Less than the stop and than the time
     * before it, so that a deadline moved by either (a retry with the time left when the stop began, or
     * with the whole timeout again) is told from a kept one.
     */
    private static final long SLACK_MILLIS = 200;

    /**
     * SIGSTOP and SIGCONT cannot be aimed at one thread, so a child JVM selects ({@link StopChild}) and
     * this one stops and continues it, {@link #ROUNDS} times. With no handler, epoll_wait fails with EINTR
     * (signal(7)), which the backend retries with the time left to its deadline: it must return at the
     * deadline (or at the continue, if that came later). poll(2) restarts itself and keeps its deadline,
     * but select(2), pselect(2) and ppoll(2) restart themselves with the time left when the stop began
     * (fs/select.c, poll_select_finish), so a backend on those may return late by the time stopped, which
     * it cannot see. Either way the caller gets no keys, and never before its timeout. When the stop
     * landed is measured by the child's clock ({@link StopChild}), not by this one's.
     */
    static void stopAndContinue(Run run) throws Exception {
        SelectorProvider provider = run.provider();
        // Only epoll_wait is sure to fail with EINTR; select and poll may be restarted by the kernel.
        boolean kernelRestarts = run.mechanism() != Mechanism.EPOLL;
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), StopChild.class.getName(), provider.getClass().getName(),
                String.valueOf(CHILD_TIMEOUT_MILLIS), String.valueOf(ROUNDS));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8));
                Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
            long[] late = new long[ROUNDS];
            StringJoiner seen = new StringJoiner(", ");
            for (int round = 0; round < ROUNDS; round++) {
                assertThat(out.readLine()).as("the child reports it is selecting (command: %s)", command)
                        .isEqualTo("selecting");
                Fds.sleep(STOP_AFTER_MILLIS);
                signal("STOP", child);
                Fds.sleep(STOPPED_MILLIS);
                signal("CONT", child);
                String result = out.readLine();
                assertThat(result).as("the child's result line").isNotNull().startsWith("selected ");
                // selected <keys> in <ms> ms, paused <from> to <to> ms
                String[] parts = result.split(" ");
                int keys = Integer.parseInt(parts[1]);
                long millis = Long.parseLong(parts[3]);
                long from = Long.parseLong(parts[6]);
                long to = Long.parseLong(parts[8]);
                seen.add(millis + " ms (stopped " + from + "-" + to + ")");
                assertThat(keys).as("round %d: nothing was ready", round).isZero();
                assertThat(millis).as("round %d: a %d ms select stopped from %d to %d ms must not return early "
                        + "with nothing", round, CHILD_TIMEOUT_MILLIS, from, to)
                        .isGreaterThanOrEqualTo(CHILD_TIMEOUT_MILLIS);
                long expected = CHILD_TIMEOUT_MILLIS; // a stop that missed the wait (a late one) changes nothing
                if (to - from >= STOPPED_MILLIS / 2 && from < CHILD_TIMEOUT_MILLIS) {
                    expected = kernelRestarts
                            ? CHILD_TIMEOUT_MILLIS + (to - from)           // the time left, from the continue on
                            : Math.max(CHILD_TIMEOUT_MILLIS, to);          // the deadline, or the continue
                }
                late[round] = millis - expected;
                in.write("next\n");
                in.flush();
            }
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("the child ends").isTrue();
            assertThat(child.exitValue()).isZero();
            run.note(ROUNDS + " selects of " + CHILD_TIMEOUT_MILLIS + " ms, each stopped " + STOPPED_MILLIS
                    + " ms after " + STOP_AFTER_MILLIS + " ms: 0 keys after " + seen);
            Arrays.sort(late);
            long median = late[ROUNDS / 2];
            if (kernelRestarts) {
                assertThat(median).as("%s (%s): median ms past the deadline plus the time stopped (a restarted "
                        + "select or ppoll returns that late, poll(2) keeps its deadline); the selects returned "
                        + "after %s", run.backend(), run.mechanism().column(), seen).isLessThan(SLACK_MILLIS);
            } else {
                assertThat(median).as("%s: epoll_wait fails with EINTR after the stop, and the retry must wait "
                        + "only for the time left to the deadline; median ms past the deadline (or the continue, "
                        + "if later); the selects returned after %s", run.backend(), seen).isLessThan(SLACK_MILLIS);
            }
        } finally {
            child.destroyForcibly();
        }
    }

    private static void signal(String name, Process child) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(child.pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0)
                .as("kill -%s %d (the child is %s)", name, child.pid(),
                        child.isAlive() ? "alive" : "gone, exit status " + child.exitValue())
                .isTrue();
    }
}
