package dev.iomux.conformance;

import java.util.stream.Stream;

import dev.iomux.epoll.EpollSelectorProvider;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/** Every rule of the catalog on the epoll backend: what a port writes for its own. */
class EpollConformanceTest {
    @TestFactory
    Stream<DynamicNode> readinessRules() {
        return Conformance.tests(new EpollSelectorProvider());
    }
}
