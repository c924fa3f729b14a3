package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import dev.iomux.testing.SelectorContract;
import org.junit.jupiter.api.Test;

/**
 * The kit and the spec must not drift apart: every rule ID has a scenario, every scenario a rule, and
 * every case of the selector contract is run by a rule's scenario (the kit is its only runner).
 */
class CatalogTest {
    /** The spec, from this module's directory (Maven runs tests there). */
    private static final Path SPEC = Path.of("..", "docs", "readiness-rules.md");

    @Test
    void theShippedCatalogIsTheSpec() throws Exception {
        try (InputStream in = RuleCatalog.class.getResourceAsStream(RuleCatalog.RESOURCE)) {
            assertThat(in).as("the catalog is in the kit's jar").isNotNull();
            assertThat(new String(in.readAllBytes())).isEqualTo(Files.readString(SPEC));
        }
    }

    @Test
    void everyRuleHasAScenarioAndEveryScenarioARule() throws Exception {
        Set<String> spec = new TreeSet<>();
        for (String line : Files.readAllLines(SPEC)) {
            // A rule is a table row whose first cell is an ID.
            if (line.matches("^\\| [A-Z][A-Z0-9-]+ \\|.*") && !line.startsWith("| ID |")) {
                spec.add(line.substring(2, line.indexOf(' ', 2)));
            }
        }
        assertThat(spec).as("rules in the spec").hasSizeGreaterThanOrEqualTo(50);
        assertThat(new TreeSet<>(RuleCatalog.shipped().rules().keySet())).as("rules the catalog parsed")
                .isEqualTo(spec);
        assertThat(new TreeSet<>(Scenarios.all().keySet())).as("rules with a scenario").isEqualTo(spec);
    }

    @Test
    void everyRuleHasItsSentenceAndEveryReadinessRuleItsColumns() {
        for (Rule r : RuleCatalog.shipped().rules().values()) {
            assertThat(r.sentence()).as(r.id()).isNotBlank();
            assertThat(r.section()).as(r.id()).isNotBlank();
            if (!r.id().startsWith("API-")) {
                assertThat(r.source()).as(r.id()).isNotBlank();
                for (Mechanism m : Mechanism.values()) {
                    assertThat(r.seenOn(m)).as("%s on %s", r.id(), m).isNotBlank();
                }
            }
        }
        assertThat(RuleCatalog.shipped().rule("READ-FIN").seenOn(Mechanism.POLL)).isEqualTo("R, RH");
    }

    @Test
    void everyScenarioSaysWhatItUses() {
        Scenarios.all().values().forEach(e -> assertThat(e.uses()).as(e.id()).isNotEmpty());
    }

    @Test
    void everyContractCaseIsRunByAScenario() throws Exception {
        StringBuilder sources = new StringBuilder();
        try (var files = Files.list(Path.of("src", "main", "java", "dev", "iomux", "conformance"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                sources.append(Files.readString(f));
            }
        }
        String scenarios = sources.toString();
        Set<String> notRun = new TreeSet<>();
        for (Method m : SelectorContract.class.getDeclaredMethods()) {
            boolean isCase = m.isAnnotationPresent(Test.class);
            if (isCase && !scenarios.contains("SelectorContract::" + m.getName())) {
                notRun.add(m.getName());
            }
        }
        assertThat(notRun).as("contract cases that no scenario names, so that nothing runs them").isEmpty();
    }
}
