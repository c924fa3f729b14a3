package dev.iomux.conformance;

import java.util.stream.Stream;

import dev.iomux.uring.UringSingleSelectorProvider;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * Every rule of the catalog on the single-issuer io_uring backend, held to poll's column like uring
 * ({@link Mechanism#URING}). Its selectors take selects from their first selecting thread only, so rules
 * whose scenario selects from a second thread say what it does instead (the ISE that names the owner).
 * Where the kernel lacks DEFER_TASKRUN (before Linux 6.1) or io_uring is blocked, every rule is skipped with
 * the provider's reason.
 */
class UringSingleConformanceTest {
    @TestFactory
    Stream<DynamicNode> readinessRules() {
        return Conformance.tests(new UringSingleSelectorProvider(), Mechanism.URING);
    }
}
