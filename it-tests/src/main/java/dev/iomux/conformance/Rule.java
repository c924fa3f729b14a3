package dev.iomux.conformance;

import java.util.Map;

/**
 * One rule of the catalog (readiness-rules.md): its ID, the sentence it states, where it comes from, and
 * what Linux was seen to report on each mechanism.
 *
 * @param id       the rule's ID, e.g. {@code READ-FIN}
 * @param section  the heading of the catalog's section, e.g. {@code 1. Readable}
 * @param sentence the rule as the catalog states it
 * @param source   where the rule comes from (seed, man page, "seen")
 * @param seen     the catalog's per-mechanism column ("R, RH", "refuse", ...); empty for API rules
 * @param line     the line of the catalog that holds the rule's row, counted from 1
 */
public record Rule(String id, String section, String sentence, String source, Map<Mechanism, String> seen,
        int line) {
    /**
     * @param m a mechanism, or a port's family held to one of the catalog's columns
     * @return what the catalog says Linux reported there, or "" if the rule has no such column
     */
    public String seenOn(Mechanism m) {
        return seen.getOrDefault(m.heldTo(), "");
    }
}
