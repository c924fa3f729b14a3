package dev.iomux.it.mutants;

import java.util.stream.Stream;

import dev.iomux.conformance.Conformance;
import dev.iomux.conformance.Mechanism;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * The other ports written on the public SPI alone pass the whole kit too: the poll port watching each
 * direction in an entry of its own, as kqueue's filters do, whose two reports of one descriptor the base
 * merges; and the epoll port, which hosts four mutants of {@link KitMutationTest}.
 */
class MorePortsConformanceTest {
    @TestFactory
    Stream<DynamicNode> filterPort() {
        return Conformance.tests(PollPortProvider.filters(), Mechanism.POLL);
    }

    @TestFactory
    Stream<DynamicNode> epollPort() {
        return Conformance.tests(new EpollPortProvider(), Mechanism.EPOLL);
    }
}
