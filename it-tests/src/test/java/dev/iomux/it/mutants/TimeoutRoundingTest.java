package dev.iomux.it.mutants;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iomux.conformance.Conformance;
import dev.iomux.conformance.Mechanism;
import dev.iomux.conformance.Outcome;
import dev.iomux.epoll.EpollSelectorProvider;
import dev.iomux.poll.PollSelectorProvider;
import dev.iomux.select.SelectSelectorProvider;
import org.junit.jupiter.api.Test;

/**
 * TIMEOUT-POSITIVE on its own, the rule {@link KitMutationTest} runs among all the others: it fails a port
 * that rounds a 50 us timeout up to poll(2)'s millisecond ({@link Mutant#TIMEOUT_IN_MILLISECONDS}), and
 * passes the same port passing it to ppoll(2) whole, and the three backends.
 */
class TimeoutRoundingTest {

    @Test
    void aPortThatRoundsUpToMillisecondsFailsTimeoutPositive() {
        Outcome o = Conformance.run(new PollPortProvider(Mutant.TIMEOUT_IN_MILLISECONDS), Mechanism.POLL,
                "TIMEOUT-POSITIVE");
        assertThat(o.passed()).as("%s", o.observed()).isFalse();
        System.out.println("TIMEOUT_IN_MILLISECONDS caught: " + o.failure().getMessage().replace('\n', ' '));
        assertThat(String.valueOf(o.failure().getMessage())).contains("select(50 us)").contains("not rounded up");
    }

    @Test
    void theCleanPortAndTheBackendsPass() {
        pass(Conformance.run(new PollPortProvider(), Mechanism.POLL, "TIMEOUT-POSITIVE"));
        pass(Conformance.run(new SelectSelectorProvider(), Mechanism.SELECT, "TIMEOUT-POSITIVE"));
        pass(Conformance.run(new PollSelectorProvider(), Mechanism.POLL, "TIMEOUT-POSITIVE"));
        pass(Conformance.run(new EpollSelectorProvider(), Mechanism.EPOLL, "TIMEOUT-POSITIVE"));
    }

    private static void pass(Outcome o) {
        assertThat(o.passed()).as("%s: %s", o.backend(), o.failure()).isTrue();
    }
}
