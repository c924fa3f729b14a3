package dev.iomux.conformance;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import dev.iomux.SelectorProvider;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DynamicNode;

/**
 * The conformance kit's entry point: every rule of the catalog (readiness-rules.md) checked on a backend.
 *
 * <p>A port gets the whole suite with a few lines:
 *
 * <pre>{@code
 * class MyBackendConformanceTest {
 *     @TestFactory
 *     Stream<DynamicNode> readinessRules() {
 *         return Conformance.tests(new MyProvider(), Mechanism.POLL);
 *     }
 * }
 * }</pre>
 *
 * <p>Each rule is one dynamic test, named by its ID and sentence and grouped by the catalog's sections.
 * Nothing is skipped: a mode the backend does not declare is checked to be refused with a clear error,
 * and a rule the backend's mechanism cannot show is checked for what the catalog says it does instead.
 * Every scenario runs on fresh descriptors and selectors, and fails if it leaves a descriptor or a
 * native block behind.
 */
public final class Conformance {
    /**
     * No scenario may take longer; the slowest (a connect waiting for a SYN retransmit, a race) take
     * about 2 s. A long run of the races ({@link Race}'s properties) adds its budget.
     */
    static final long SCENARIO_TIMEOUT_SECONDS = 120;

    private Conformance() {
    }

    /**
     * The suite for a backend named after its mechanism (select, poll or epoll).
     *
     * @param provider the backend
     * @return one dynamic test per rule, grouped by section
     */
    public static Stream<DynamicNode> tests(SelectorProvider provider) {
        return tests(provider, Mechanism.of(provider));
    }

    /**
     * The suite for any backend.
     *
     * @param provider  the backend
     * @param mechanism the kernel interface it waits with, which decides the shapes the catalog says Linux
     *                  reports (see {@link Mechanism})
     * @return one dynamic test per rule, grouped by section
     */
    public static Stream<DynamicNode> tests(SelectorProvider provider, Mechanism mechanism) {
        Map<String, List<DynamicNode>> sections = new LinkedHashMap<>();
        for (Rule rule : RuleCatalog.shipped().rules().values()) {
            sections.computeIfAbsent(rule.section(), s -> new ArrayList<>()).add(
                    dynamicTest(rule.id() + ": " + rule.sentence(), () -> {
                        Outcome o = run(provider, mechanism, rule.id());
                        if (!o.passed()) {
                            throw new AssertionError(rule.id() + " on " + provider.name() + " (observed: "
                                    + o.observed() + "): " + o.failure().getMessage(), o.failure());
                        }
                    }));
        }
        return sections.entrySet().stream()
                .map(e -> dynamicContainer(provider.name() + ": " + e.getKey(), e.getValue().stream()));
    }

    /**
     * Runs one rule's scenario on a backend, on a thread of its own with a generous time bound, and checks
     * that it released every descriptor and native block it took.
     *
     * @param provider  the backend
     * @param mechanism its kernel interface
     * @param ruleId    a rule ID of the catalog
     * @return what happened
     * @throws IllegalArgumentException if the kit has no scenario for {@code ruleId}
     */
    public static Outcome run(SelectorProvider provider, Mechanism mechanism, String ruleId) {
        Scenarios.Entry entry = Scenarios.all().get(ruleId);
        if (entry == null) {
            throw new IllegalArgumentException("the kit has no scenario for rule " + ruleId);
        }
        long start = System.nanoTime();
        Run run = new Run(provider, mechanism);
        Throwable failure = null;
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "iomux-conformance-" + ruleId + "-" + provider.name());
            t.setDaemon(true);
            return t;
        });
        try {
            Map<Integer, String> fdsBefore = LeakCheck.openDescriptors();
            long blocksBefore = NativeBuffer.liveBlocks();
            Future<?> f = thread.submit(() -> {
                try (run) {
                    entry.scenario().check(run);
                }
                return null;
            });
            long timeout = SCENARIO_TIMEOUT_SECONDS + Race.longRunSeconds();
            try {
                f.get(timeout, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                failure = e.getCause();
            } catch (TimeoutException e) {
                f.cancel(true);
                failure = new AssertionError(ruleId + " on " + provider.name() + " did not finish within "
                        + timeout + " s (a hang)");
            }
            if (failure == null) {
                failure = leaks(fdsBefore, blocksBefore);
            }
        } catch (Exception e) {
            failure = e;
        } finally {
            thread.shutdownNow();
        }
        return new Outcome(ruleId, provider.name(), failure == null, run.observed(), failure,
                (System.nanoTime() - start) / 1_000_000);
    }

    private static AssertionError leaks(Map<Integer, String> before, long blocksBefore) throws Exception {
        long deadline = System.nanoTime() + 2_000_000_000L;
        for (;;) {
            Map<Integer, String> leaked = LeakCheck.leaked(before, LeakCheck.openDescriptors());
            long blocks = NativeBuffer.liveBlocks() - blocksBefore;
            if (leaked.isEmpty() && blocks <= 0) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                return new AssertionError("the scenario leaked " + leaked.size() + " descriptor(s) " + leaked
                        + " and " + blocks + " native block(s)");
            }
            Thread.sleep(20);
        }
    }
}
