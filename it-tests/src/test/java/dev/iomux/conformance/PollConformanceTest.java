package dev.iomux.conformance;

import java.util.stream.Stream;

import dev.iomux.poll.PollSelectorProvider;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/** Every rule of the catalog on the poll backend: what a port writes for its own. */
class PollConformanceTest {
    @TestFactory
    Stream<DynamicNode> readinessRules() {
        return Conformance.tests(new PollSelectorProvider());
    }
}
