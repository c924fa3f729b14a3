package dev.iomux.conformance;

import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Every rule's scenario, by rule ID. Each section of the catalog has its class of scenarios. */
public final class Scenarios {
    /**
     * A rule's scenario and the descriptors it uses.
     *
     * @param id       the rule's ID
     * @param uses     what it sets up
     * @param scenario the check
     */
    public record Entry(String id, Set<Uses> uses, Scenario scenario) {
    }

    private static final Map<String, Entry> ALL;

    static {
        Builder b = new Builder();
        ReadScenarios.define(b);
        WriteScenarios.define(b);
        PriorityScenarios.define(b);
        FileScenarios.define(b);
        SelectScenarios.define(b);
        TimingScenarios.define(b);
        ReportScenarios.define(b);
        EpollModeScenarios.define(b);
        ApiScenarios.define(b);
        RaceScenarios.define(b);
        ALL = Collections.unmodifiableMap(b.entries);
    }

    private Scenarios() {
    }

    /** @return every scenario by rule ID */
    public static Map<String, Entry> all() {
        return ALL;
    }

    /** Collects scenarios; one per rule ID. */
    static final class Builder {
        private final Map<String, Entry> entries = new LinkedHashMap<>();

        void rule(String id, Set<Uses> uses, Scenario scenario) {
            if (entries.putIfAbsent(id, new Entry(id, uses, scenario)) != null) {
                throw new IllegalStateException("two scenarios for rule " + id);
            }
        }

        void rule(String id, Uses first, Scenario scenario) {
            rule(id, EnumSet.of(first), scenario);
        }
    }

    static Set<Uses> uses(Uses first, Uses... rest) {
        return EnumSet.of(first, rest);
    }
}
