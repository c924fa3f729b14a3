package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.poll.PollSelectorProvider;
import dev.iomux.testing.Async;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What a porter reads: the tests' names in a report, and the message of a rule that fails. */
@ExtendWith(LeakCheck.class)
class ConformanceReportingTest {
    /**
     * Surefire names a dynamic test by its display name only if the test has a source of its own (without
     * one it reports the factory's index path, {@code readinessRules()[4][3]}): each rule's test points at
     * its row of the catalog shipped in the kit.
     */
    @Test
    void everyRuleIsATestNamedByItsIdAndSentenceWhoseSourceIsItsRowOfTheCatalog() throws Exception {
        List<String> catalog;
        try (InputStream in = RuleCatalog.class.getResourceAsStream(RuleCatalog.RESOURCE)) {
            catalog = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList();
        }
        List<DynamicTest> tests = flatten(Conformance.tests(new PollSelectorProvider())).toList();
        assertThat(tests).hasSize(RuleCatalog.shipped().rules().size());
        for (DynamicTest t : tests) {
            String name = t.getDisplayName();
            assertThat(name).as("display name").matches("[A-Z][A-Z0-9-]+: \\S.*").hasSizeLessThanOrEqualTo(130);
            String id = name.substring(0, name.indexOf(':'));
            URI uri = t.getTestSourceUri().orElse(null);
            assertThat(uri).as("%s has a test source (surefire reports its display name only then)", id).isNotNull();
            assertThat(uri.getScheme()).as(id).isEqualTo("classpath");
            assertThat(uri.getPath()).as(id).isEqualTo("/dev/iomux/conformance/" + RuleCatalog.RESOURCE);
            int line = Integer.parseInt(uri.getQuery().replace("line=", ""));
            assertThat(catalog.get(line - 1)).as("line %d of the catalog", line).startsWith("| " + id + " |");
        }
    }

    /** Before: "WAKEUP on nowake (observed: ): null", the message of a bare TimeoutException. */
    @Test
    void aFailingContractCaseNamesTheRuleTheCaseWhatWasExpectedAndWhatWasObserved() throws Exception {
        DynamicTest wakeup = flatten(Conformance.tests(new NoWakeupProvider(), Mechanism.POLL))
                .filter(t -> t.getDisplayName().startsWith("WAKEUP:")).findFirst().orElseThrow();
        AssertionError e = catchThrowableOfType(() -> wakeup.getExecutable().execute(), AssertionError.class);
        assertThat(e).as("WAKEUP fails on a backend whose wakeup() does nothing").isNotNull();
        String m = e.getMessage();
        System.out.println("the porter reads:\n" + m);
        assertThat(m).startsWith("WAKEUP on nowake: contract case wakeupReturnsABlockedSelect")
                .contains("expected ").contains("observed")
                .doesNotContain("(observed: )").doesNotEndWith("null");
    }

    /**
     * A scenario that never ends (a select nobody wakes, which the scenario waits for) fails after the
     * bound with the stacks of the scenario's thread and of the thread it left in the kernel. Before: 120 s
     * per scenario and a message without a stack ("did not finish within 120 s (a hang)").
     */
    @Test
    void aHangFailsAfterTheBoundWithTheStacksOfTheScenariosThreads() throws Exception {
        Scenario hang = run -> {
            Selector sel = run.open();
            int[] p = run.fds().pipe();
            sel.register(p[0], Events.READ);
            CompletableFuture<List<Ready>> blocked = Async.selectBlocked(sel); // in poll(2), nothing will come
            blocked.get(); // until the kit gives up and interrupts this thread
        };
        long start = System.nanoTime();
        Outcome o = Conformance.run(new PollSelectorProvider(), Mechanism.POLL, "TIMEOUT-BLOCK", hang, 2);
        long millis = (System.nanoTime() - start) / 1_000_000;
        String m = String.valueOf(o.failure() == null ? null : o.failure().getMessage());
        System.out.println("a hang after " + millis + " ms reads:\n" + m);
        assertThat(o.passed()).isFalse();
        assertThat(millis).as("ms until the hang was reported (bound: 2 s)").isBetween(2_000L, 10_000L);
        assertThat(m).startsWith("TIMEOUT-BLOCK on poll did not finish within 2 s")
                .contains("-D" + Conformance.TIMEOUT_PROPERTY)
                .contains("\"iomux-conformance-TIMEOUT-BLOCK-poll\"")
                .contains("ConformanceReportingTest.lambda$aHangFailsAfterTheBound")
                .contains("\"iomux-test-async\"").contains("dev.iomux.poll.PollSelector.implSelect");
        // The interrupted scenario closes its selector and pipe, which ends the select it left behind.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("iomux-conformance-"))
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    @Test
    void theBoundIsTwentySecondsUnlessThePropertySaysOtherwise() {
        assertThat(System.getProperty(Conformance.TIMEOUT_PROPERTY)).as("set for this JVM").isNull();
        assertThat(Conformance.timeoutSeconds()).isEqualTo(20);
        try {
            System.setProperty(Conformance.TIMEOUT_PROPERTY, "90");
            assertThat(Conformance.timeoutSeconds()).isEqualTo(90);
            System.setProperty(Conformance.TIMEOUT_PROPERTY, "soon");
            org.assertj.core.api.Assertions.assertThatThrownBy(Conformance::timeoutSeconds)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Conformance.TIMEOUT_PROPERTY)
                    .hasMessageContaining("soon");
        } finally {
            System.clearProperty(Conformance.TIMEOUT_PROPERTY);
        }
    }

    static Stream<DynamicTest> flatten(Stream<? extends DynamicNode> nodes) {
        return nodes.flatMap(n -> n instanceof DynamicContainer c ? flatten(c.getChildren())
                : Stream.of((DynamicTest) n)).collect(Collectors.toList()).stream();
    }
}
