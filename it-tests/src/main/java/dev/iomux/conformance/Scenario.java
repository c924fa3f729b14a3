package dev.iomux.conformance;

/**
 * A rule's check: sets up real descriptors through {@link Run}, selects, and throws (an
 * {@link AssertionError}, usually) if the backend does not do what the rule says for what it declares.
 */
@FunctionalInterface
public interface Scenario {
    /**
     * Runs the check.
     *
     * @param run the backend under test, its fixtures and the record of what was observed
     * @throws Exception on failure; the descriptors and selectors of {@code run} are closed afterwards
     */
    void check(Run run) throws Exception;
}
