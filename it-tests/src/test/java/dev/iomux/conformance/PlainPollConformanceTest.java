package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;

import dev.iomux.epoll.EpollSelectorProvider;
import dev.iomux.poll.PollSelectorProvider;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The kit on a port that declares less than poll does (PORTING.md's example): the whole suite passes,
 * adapted to the declaration.
 */
class PlainPollConformanceTest {
    private final PlainPollProvider port = new PlainPollProvider();

    @TestFactory
    Stream<DynamicNode> readinessRules() {
        return Conformance.tests(port, Mechanism.POLL);
    }

    @Test
    void aModeItDoesNotDeclareIsCheckedAsRefusedNotAsWorking() {
        for (String id : List.of("EPOLL-ONESHOT", "EPOLL-ONESHOT-THREAD")) {
            Outcome port = Conformance.run(this.port, Mechanism.POLL, id);
            assertThat(port.passed()).as(port.verdict()).isTrue();
            assertThat(port.observed()).as(id).startsWith("refuses ONESHOT (not declared)");
            Outcome poll = Conformance.run(new PollSelectorProvider(), Mechanism.POLL, id);
            assertThat(poll.observed()).as("poll declares ONESHOT, so " + id + " is checked working")
                    .doesNotContain("refuses");
        }
    }

    @Test
    void itsLowerDescriptorLimitIsCheckedToo() {
        Outcome o = Conformance.run(port, Mechanism.POLL, "API-MANY-FDS");
        assertThat(o.passed()).as(o.verdict()).isTrue();
        assertThat(o.observed()).contains("refused past maxFd 4095");
    }

    @Test
    void itJoinsTheRandomSequencesBesideTheReference() throws Exception {
        for (long seed = 1; seed <= 50; seed++) {
            RandomSequences.check(seed, 60, List.of(new EpollSelectorProvider(), port));
        }
    }

    @Test
    void aBackendNotNamedAfterItsFamilyHasItInferredFromItsDeclaration() {
        Mechanism.Decision d = Mechanism.decide(port);
        assertThat(d.mechanism()).isSameAs(Mechanism.POLL);
        assertThat(d.how()).startsWith("inferred").contains("ERROR_HANGUP");
    }
}
