package dev.iomux.conformance;

import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
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

    /** How long the child's select waits, and how long it is kept stopped in the middle. */
    private static final long CHILD_TIMEOUT_MILLIS = 1_500;
    private static final long STOPPED_MILLIS = 300;

    /**
     * SIGSTOP and SIGCONT cannot be aimed at one thread, so a child JVM selects ({@link StopChild}) and
     * this one stops and continues it. signal(7): epoll_wait fails with EINTR after a stop even without a
     * handler, select and poll restart; the caller must see neither.
     */
    static void stopAndContinue(Run run) throws Exception {
        SelectorProvider provider = run.provider();
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), StopChild.class.getName(), provider.getClass().getName(),
                String.valueOf(CHILD_TIMEOUT_MILLIS));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String first = out.readLine();
            assertThat(first).as("the child reports it is selecting (command: %s)", command).isEqualTo("selecting");
            Kit.sleep(200);
            signal("STOP", child.pid());
            Kit.sleep(STOPPED_MILLIS);
            signal("CONT", child.pid());
            String result = out.readLine();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("the child ends").isTrue();
            assertThat(result).as("the child's result line").isNotNull().startsWith("selected ");
            String[] parts = result.split(" ");
            int keys = Integer.parseInt(parts[1]);
            long millis = Long.parseLong(parts[3]);
            run.note("stopped " + STOPPED_MILLIS + " ms in a " + CHILD_TIMEOUT_MILLIS + " ms select: " + keys
                    + " keys after " + millis + " ms");
            assertThat(keys).as("nothing was ready").isZero();
            assertThat(millis).as("did not return early with nothing").isGreaterThanOrEqualTo(CHILD_TIMEOUT_MILLIS);
            assertThat(millis).as("did not overrun its deadline by much")
                    .isLessThan(CHILD_TIMEOUT_MILLIS + STOPPED_MILLIS + 5_000);
            assertThat(child.exitValue()).isZero();
        } finally {
            child.destroyForcibly();
        }
    }

    private static void signal(String name, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(pid)).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -%s %d", name, pid).isTrue();
    }
}
