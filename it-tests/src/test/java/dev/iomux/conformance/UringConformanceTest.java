package dev.iomux.conformance;

import java.util.stream.Stream;

import dev.iomux.uring.UringSelectorProvider;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * Every rule of the catalog on the io_uring backend, held to poll's column ({@link Mechanism#URING}). Where
 * io_uring is disabled or blocked, the kit skips every rule with the provider's reason.
 */
class UringConformanceTest {
    @TestFactory
    Stream<DynamicNode> readinessRules() {
        return Conformance.tests(new UringSelectorProvider(), Mechanism.URING);
    }
}
