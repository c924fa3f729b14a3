package dev.iomux.conformance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rules of readiness-rules.md, parsed from the copy shipped in this jar (the build copies the
 * project's docs/readiness-rules.md; there is one source). A rule is a table row whose first cell is an
 * ID; the table's header row says which column is which.
 */
public final class RuleCatalog {
    /** The catalog's resource name, next to this class. */
    public static final String RESOURCE = "readiness-rules.md";

    private static final Pattern ROW = Pattern.compile("^\\| ([A-Z][A-Z0-9-]+) \\|(.*)\\|\\s*$");
    private static final Pattern SECTION = Pattern.compile("^## (.+)$");

    private static volatile RuleCatalog shipped;

    private final Map<String, Rule> rules;

    private RuleCatalog(Map<String, Rule> rules) {
        this.rules = Collections.unmodifiableMap(rules);
    }

    /** @return the catalog shipped with the kit */
    public static RuleCatalog shipped() {
        RuleCatalog c = shipped;
        if (c == null) {
            try (InputStream in = RuleCatalog.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(RESOURCE + " is missing from the kit's jar (next to "
                            + RuleCatalog.class.getName() + "): rebuild it-tests");
                }
                c = parse(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            shipped = c;
        }
        return c;
    }

    /**
     * Parses a catalog in the format of readiness-rules.md.
     *
     * @param in the Markdown text, UTF-8
     * @return the catalog, rules in document order
     * @throws IOException if reading fails
     */
    public static RuleCatalog parse(InputStream in) throws IOException {
        Map<String, Rule> rules = new LinkedHashMap<>();
        String section = "";
        List<String> header = List.of();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        int number = 0;
        for (String line; (line = r.readLine()) != null; ) {
            number++;
            Matcher s = SECTION.matcher(line);
            if (s.matches()) {
                section = s.group(1).trim();
                continue;
            }
            if (line.startsWith("| ID |")) {
                header = cells(line);
                continue;
            }
            Matcher m = ROW.matcher(line);
            if (!m.matches()) {
                continue;
            }
            List<String> cells = cells(line);
            Map<Mechanism, String> seen = new LinkedHashMap<>();
            for (Mechanism mech : Mechanism.values()) {
                int col = header.indexOf(mech.column());
                if (col >= 0 && col < cells.size()) {
                    seen.put(mech, cell(cells, col));
                }
            }
            String id = cells.get(0);
            if (rules.containsKey(id)) {
                throw new IllegalStateException("rule " + id + " appears twice in the catalog");
            }
            rules.put(id, new Rule(id, section, cell(cells, header.indexOf("Rule")),
                    cell(cells, header.indexOf("Source")), Collections.unmodifiableMap(seen), number));
        }
        return new RuleCatalog(rules);
    }

    /** A cell, or "" where a row is shorter than its header (the API rows give no source). */
    private static String cell(List<String> cells, int col) {
        return col >= 0 && col < cells.size() ? cells.get(col) : "";
    }

    private static List<String> cells(String row) {
        String inner = row.strip();
        inner = inner.substring(1, inner.length() - 1);
        return java.util.Arrays.stream(inner.split("\\|", -1)).map(String::strip).toList();
    }

    /** @return every rule, in the catalog's order, by ID */
    public Map<String, Rule> rules() {
        return rules;
    }

    /**
     * @param id a rule ID
     * @return the rule
     * @throws IllegalArgumentException if the catalog has no such rule
     */
    public Rule rule(String id) {
        Rule r = rules.get(id);
        if (r == null) {
            throw new IllegalArgumentException("no rule " + id + " in " + RESOURCE);
        }
        return r;
    }
}
