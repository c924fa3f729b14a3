package dev.iomux.it.mutants;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.iomux.SelectorProvider;
import dev.iomux.conformance.Conformance;
import dev.iomux.conformance.Outcome;
import dev.iomux.conformance.Scenarios;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Mutation testing of the conformance kit: every {@link Mutant} (one bug planted in {@link PollPort} or
 * {@link EpollPort}, whose clean versions pass the whole kit, {@link PortConformanceTest} and {@link MorePortsConformanceTest}) must fail at
 * least one rule. Each mutant first
 * runs the rules it names, then, if none failed, every other rule of the kit, so a mutant only survives
 * when no rule at all catches it. Prints one line per mutant with the rule that caught it, and the score
 * line {@code kit mutation score: caught/total}.
 *
 * <p>A hang cannot stall the build: the kit runs every scenario on a thread of its own and reports one
 * that has not finished after {@code Conformance.DEFAULT_TIMEOUT_SECONDS} (20 s, property
 * {@code Conformance.TIMEOUT_PROPERTY}) as a failure of its rule, leaving the thread behind. No mutant here hangs: a lost wake-up is planted so that a close still
 * wakes the select, or the kit's tear-down would wait for the kernel forever.
 */
class KitMutationTest {
    /**
     * EXPECTED SURVIVORS: the mutants no rule of the kit catches today, and why. Each is checked to survive
     * every rule, so that this set cannot go stale: once a rule catches one, its test fails until it is
     * taken out of here. Most are bugs of cost, not of what is reported; empty the set as the kit learns to
     * measure them. The goal is an empty set.
     */
    static final Map<Mutant, String> EXPECTED_SURVIVORS = new EnumMap<>(Mutant.class);

    /** Rules no mutant is run on: EINTR-STOP's child JVM builds the provider by its class name, clean. */
    private static final List<String> NOT_FOR_MUTANTS = List.of("EINTR-STOP");


    private static final Map<Mutant, Hunt> HUNTS = new EnumMap<>(Mutant.class);
    private static long startNanos;

    /** What running a mutant through the kit found: the failing outcome, or none. */
    record Hunt(Mutant mutant, Outcome caughtBy, int rulesRun, long millis) {
        boolean caught() {
            return caughtBy != null;
        }

        String line() {
            if (!caught()) {
                return String.format("mutant %-27s survived all %d rules (%d ms)%s", mutant, rulesRun, millis,
                        EXPECTED_SURVIVORS.containsKey(mutant) ? "; expected: " + EXPECTED_SURVIVORS.get(mutant)
                                : "");
            }
            return String.format("mutant %-27s caught by %-22s after %2d rule(s), %6d ms: %s", mutant,
                    caughtBy.ruleId(), rulesRun, millis, oneLine(caughtBy.verdict()));
        }
    }

    @TestFactory
    Stream<DynamicTest> everyMutantIsCaughtByARule() {
        startNanos = System.nanoTime();
        return Arrays.stream(Mutant.values()).map(m -> dynamicTest(m + ": " + m.bug, () -> {
            Hunt hunt = hunt(m);
            synchronized (HUNTS) {
                HUNTS.put(m, hunt);
            }
            System.out.println(hunt.line());
            if (EXPECTED_SURVIVORS.containsKey(m)) {
                assertThat(hunt.caught()).as("%s is listed in EXPECTED_SURVIVORS but %s: remove it from the set",
                        m, hunt.line()).isFalse();
            } else {
                assertThat(hunt.caught()).as("the kit did not catch %s (%s): %s", m, m.bug, hunt.line()).isTrue();
            }
        }));
    }

    /** Runs a mutant's own rules (as often as it asks), then every other rule, until one fails. */
    static Hunt hunt(Mutant m) {
        long start = System.nanoTime();
        SelectorProvider provider = m.provider();
        int runs = 0;
        for (int attempt = 0; attempt < m.attempts; attempt++) {
            for (String rule : m.rules) {
                Outcome o = Conformance.run(provider, m.port.mechanism, rule);
                runs++;
                if (!o.passed()) {
                    return new Hunt(m, o, runs, millisSince(start));
                }
            }
        }
        for (String rule : Scenarios.all().keySet()) {
            if (m.rules.contains(rule) || NOT_FOR_MUTANTS.contains(rule)) {
                continue;
            }
            Outcome o = Conformance.run(provider, m.port.mechanism, rule);
            runs++;
            if (!o.passed()) {
                return new Hunt(m, o, runs, millisSince(start));
            }
        }
        return new Hunt(m, null, runs, millisSince(start));
    }

    @AfterAll
    static void printScore() {
        List<Hunt> hunts;
        synchronized (HUNTS) {
            hunts = new ArrayList<>(HUNTS.values());
        }
        if (hunts.isEmpty()) {
            return;
        }
        long caught = hunts.stream().filter(Hunt::caught).count();
        String survivors = hunts.stream().filter(h -> !h.caught()).map(h -> h.mutant().name())
                .collect(Collectors.joining(", "));
        System.out.println("kit mutation score: " + caught + "/" + hunts.size()
                + (survivors.isEmpty() ? "" : " (survivors: " + survivors + ")")
                + " in " + millisSince(startNanos) / 1000 + " s");
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static String oneLine(String s) {
        return s.length() > 160 ? s.substring(0, 160) + "..." : s;
    }
}
