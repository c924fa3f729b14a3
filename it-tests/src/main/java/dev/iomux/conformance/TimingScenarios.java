package dev.iomux.conformance;

import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

import dev.iomux.SelectorProvider;
import dev.iomux.testing.SelectorContract;

/** Section 6 of the catalog: timeouts, signals and wake-up. */
final class TimingScenarios {
    private TimingScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("TIMEOUT-BLOCK", uses(Uses.PIPE, Uses.THREADS), run -> run.contract(
                SelectorContract::noTimeoutBlocksUntilAKeyIsReady, SelectorContract::wakeupReturnsABlockedSelect));
        b.rule("TIMEOUT-ZERO", Uses.PIPE, run -> run.contract(
                SelectorContract::zeroAndNegativeTimeoutsReturnAtOnceWithWhatIsReady));
        b.rule("TIMEOUT-POSITIVE", Uses.PIPE, run -> run.contract(
                SelectorContract::aPositiveTimeoutWaitsAtLeastThatLong));
        b.rule("TIMEOUT-EMPTY", Uses.PIPE, run -> run.contract(
                SelectorContract::anEmptySelectorHonoursItsTimeout));
        b.rule("EINTR-RETRY", uses(Uses.PIPE, Uses.SIGNALS), run -> run.contract(
                SelectorContract::aSignalInterruptingTheWaitIsRetriedWithTheTimeLeft));
        b.rule("EINTR-STOP", uses(Uses.PIPE, Uses.SIGNALS), TimingScenarios::stopAndContinue);
        b.rule("WAKEUP", uses(Uses.PIPE, Uses.THREADS), run -> run.contract(
                SelectorContract::wakeupReturnsABlockedSelect,
                SelectorContract::aWakeupBeforeSelectMakesTheNextSelectReturnAtOnceAndManyCoalesce,
                SelectorContract::selectNowConsumesAPendingWakeup));
        b.rule("CLOSE-WAKES", uses(Uses.PIPE, Uses.THREADS), run -> run.contract(
                SelectorContract::closeFromAnotherThreadWakesABlockedSelectWhichFailsAsClosed));
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
                Kit.sleep(STOP_AFTER_MILLIS);
                signal("STOP", child);
                Kit.sleep(STOPPED_MILLIS);
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
