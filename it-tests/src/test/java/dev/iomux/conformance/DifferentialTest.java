package dev.iomux.conformance;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import dev.iomux.SelectorProvider;
import dev.iomux.epoll.EpollSelectorProvider;
import dev.iomux.poll.PollSelectorProvider;
import dev.iomux.select.SelectSelectorProvider;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The three backends side by side: scripted situations, and seeded random sequences checked against a
 * model. Replay a failure with {@code -Diomux.diff.seed=<seed> -Diomux.diff.sequences=1}.
 */
@ExtendWith(LeakCheck.class)
class DifferentialTest {
    private static final List<SelectorProvider> BACKENDS = List.of(new SelectSelectorProvider(),
            new PollSelectorProvider(), new EpollSelectorProvider());

    /** At least 1000 sequences in every run, in 10 groups so that the report stays readable. */
    private static final int SEQUENCES = Integer.getInteger("iomux.diff.sequences", 1000);
    private static final long BASE_SEED = Long.getLong("iomux.diff.seed", 0x10_AD_5E_EDL);
    private static final int STEPS = 60;

    @TestFactory
    Stream<DynamicTest> scriptedSituationsAgreeWhereTheRulesSay() {
        return Differential.scripts().keySet().stream().map(name -> dynamicTest(name, () ->
                System.out.println("differential " + name + ": " + Differential.compare(name, BACKENDS))));
    }

    @TestFactory
    Stream<DynamicTest> randomSequencesMatchTheModelOnEveryBackend() {
        int groups = Math.min(10, SEQUENCES);
        int perGroup = (SEQUENCES + groups - 1) / groups;
        System.out.printf("random sequences: %d x %d steps from base seed %d (-Diomux.diff.seed)%n",
                groups * perGroup, STEPS, BASE_SEED);
        return IntStream.range(0, groups).mapToObj(g -> dynamicTest(
                "sequences " + g * perGroup + ".." + ((g + 1) * perGroup - 1) + " (seeds from " + (BASE_SEED + g * perGroup) + ")",
                () -> {
                    for (int i = 0; i < perGroup; i++) {
                        RandomSequences.check(BASE_SEED + (long) g * perGroup + i, STEPS, BACKENDS);
                    }
                }));
    }
}
