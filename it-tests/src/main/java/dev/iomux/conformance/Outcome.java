package dev.iomux.conformance;

/**
 * What one rule's scenario did on one backend.
 *
 * @param ruleId   the rule
 * @param backend  the backend's name
 * @param passed   whether the backend behaved as the rule says for what it declares
 * @param observed what was seen, in the catalog's notation (e.g. {@code tcp4: R RH}), for the matrix
 * @param failure  why it failed; null if it passed
 * @param millis   how long the scenario took
 */
public record Outcome(String ruleId, String backend, boolean passed, String observed, Throwable failure,
        long millis) {
    /** @return "pass", or "FAIL: " and the first line of the failure */
    public String verdict() {
        if (passed) {
            return "pass";
        }
        String m = String.valueOf(failure.getMessage());
        int nl = m.indexOf('\n');
        return "FAIL: " + failure.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
    }
}
