package dev.iomux.it.mutants;

import java.util.stream.Stream;

import dev.iomux.conformance.Conformance;
import dev.iomux.conformance.Mechanism;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * The poll port, written on the public SPI alone, passes the whole kit, so that each of its mutants in
 * {@link KitMutationTest} differs from a conforming backend by its planted bug alone. On both JDK passes;
 * the other ports ({@link MorePortsConformanceTest}) run in the first only, to keep the build's time.
 */
class PortConformanceTest {
    @TestFactory
    Stream<DynamicNode> pollPort() {
        return Conformance.tests(new PollPortProvider(), Mechanism.POLL);
    }
}
