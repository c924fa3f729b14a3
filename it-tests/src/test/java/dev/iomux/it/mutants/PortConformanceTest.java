package dev.iomux.it.mutants;

import java.util.stream.Stream;

import dev.iomux.conformance.Conformance;
import dev.iomux.conformance.Mechanism;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * The clean poll port passes the whole kit, so that each of its mutants in {@link KitMutationTest} differs
 * from a conforming backend by its planted bug alone. The epoll port, which hosts four mutants, passes
 * the whole kit too ({@code Conformance.tests(new EpollPortProvider(), Mechanism.EPOLL)}); to keep the
 * build's time, {@link KitMutationTest} checks it only on the rules that catch its mutants.
 */
class PortConformanceTest {
    @TestFactory
    Stream<DynamicNode> pollPort() {
        return Conformance.tests(new PollPortProvider(), Mechanism.POLL);
    }
}
