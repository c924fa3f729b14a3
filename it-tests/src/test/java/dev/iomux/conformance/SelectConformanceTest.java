package dev.iomux.conformance;

import java.util.stream.Stream;

import dev.iomux.select.SelectSelectorProvider;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/** Every rule of the catalog on the select backend: what a port writes for its own. */
class SelectConformanceTest {
    @TestFactory
    Stream<DynamicNode> readinessRules() {
        return Conformance.tests(new SelectSelectorProvider());
    }
}
