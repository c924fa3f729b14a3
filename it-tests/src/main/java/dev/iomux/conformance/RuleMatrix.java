package dev.iomux.conformance;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;

/**
 * The rule matrix: every rule of the catalog run on every available backend, printed as rule x backend
 * with pass or fail and the events observed, as text or as Markdown (the README's copy).
 *
 * <pre>
 * java -cp ... dev.iomux.conformance.RuleMatrix [--backend select|poll|epoll]... [--rule ID]... [--markdown]
 * </pre>
 */
public final class RuleMatrix {
    /** The usage text. */
    public static final String USAGE = "usage: iomux rules [--backend select|poll|epoll]... [--rule RULE-ID]... [--markdown]\n"
            + "  Runs every readiness rule of readiness-rules.md on each backend and prints rule x backend.\n"
            + "  --backend NAME  only this backend (repeatable; default: every available one)\n"
            + "  --rule ID       only this rule (repeatable; default: all)\n"
            + "  --markdown      print a Markdown table (as in the README) instead of text\n"
            + "  Exit status: 0 if every rule passed, 1 if any failed, 2 for bad arguments.";

    private RuleMatrix() {
    }

    /**
     * Runs the matrix and exits with its status.
     *
     * @param args see {@link #USAGE}
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the matrix.
     *
     * @param args see {@link #USAGE}
     * @param out  where the matrix goes
     * @param err  where progress and usage go
     * @return 0 if every rule passed on every backend, 1 if any failed, 2 for bad arguments
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> backends = new ArrayList<>();
        List<String> rules = new ArrayList<>();
        boolean markdown = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--markdown" -> markdown = true;
                case "--backend", "--rule" -> {
                    if (i + 1 == args.length) {
                        err.println(args[i] + " needs a value\n" + USAGE);
                        return 2;
                    }
                    String value = args[++i];
                    if (args[i - 1].equals("--backend") && !available().contains(value)) {
                        err.println("--backend must be one of " + String.join(", ", available()) + " (got '"
                                + value + "')\n" + USAGE);
                        return 2;
                    }
                    (args[i - 1].equals("--rule") ? rules : backends).add(value);
                }
                case "-h", "--help" -> {
                    out.println(USAGE);
                    return 0;
                }
                default -> {
                    err.println("unknown option '" + args[i] + "'\n" + USAGE);
                    return 2;
                }
            }
        }
        Map<String, Rule> catalog = RuleCatalog.shipped().rules();
        for (String id : rules) {
            if (!catalog.containsKey(id)) {
                err.println("no rule '" + id + "' in the catalog; rules are: " + String.join(" ", catalog.keySet()));
                return 2;
            }
        }
        List<SelectorProvider> providers = new ArrayList<>();
        try {
            if (backends.isEmpty()) {
                Selectors.providers().stream().filter(SelectorProvider::isAvailable).forEach(providers::add);
            } else {
                for (String b : backends) {
                    SelectorProvider p = Selectors.provider(b);
                    if (!p.isAvailable()) {
                        err.println("backend " + b + " is unavailable here: " + p.unavailabilityCause());
                        return 2;
                    }
                    providers.add(p);
                }
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage() + "\n" + USAGE);
            return 2;
        }
        List<String> ids = rules.isEmpty() ? new ArrayList<>(catalog.keySet()) : rules;
        Map<String, Map<String, Outcome>> results = new LinkedHashMap<>();
        for (String id : ids) {
            Map<String, Outcome> row = new LinkedHashMap<>();
            for (SelectorProvider p : providers) {
                Outcome o = Conformance.run(p, Mechanism.of(p), id);
                row.put(p.name(), o);
                err.printf("%-24s %-7s %s (%d ms)%n", id, p.name(), o.passed() ? "pass" : "FAIL", o.millis());
            }
            results.put(id, row);
        }
        List<String> names = providers.stream().map(SelectorProvider::name).toList();
        if (markdown) {
            printMarkdown(out, catalog, names, results);
        } else {
            printText(out, catalog, names, results);
        }
        boolean allPassed = results.values().stream().flatMap(r -> r.values().stream()).allMatch(Outcome::passed);
        return allPassed ? 0 : 1;
    }

    /** The names of the backends available here, sorted. */
    private static List<String> available() {
        return Selectors.providers().stream().filter(SelectorProvider::isAvailable).map(SelectorProvider::name)
                .sorted().toList();
    }

    private static String environment() {
        return "Linux " + System.getProperty("os.version") + " " + System.getProperty("os.arch") + ", Java "
                + System.getProperty("java.version");
    }

    private static void printText(PrintStream out, Map<String, Rule> catalog, List<String> names,
            Map<String, Map<String, Outcome>> results) {
        out.printf("iomux rule matrix: %d rules x %s (%s)%n%n", results.size(), names, environment());
        StringBuilder head = new StringBuilder(String.format("%-24s", "RULE"));
        names.forEach(n -> head.append(String.format(" %-7s", n)));
        out.println(head);
        results.forEach((id, row) -> {
            StringBuilder line = new StringBuilder(String.format("%-24s", id));
            row.values().forEach(o -> line.append(String.format(" %-7s", o.passed() ? "pass" : "FAIL")));
            out.println(line);
        });
        out.println();
        for (String n : names) {
            long passed = results.values().stream().filter(r -> r.get(n).passed()).count();
            out.printf("%s: %d/%d rules pass%n", n, passed, results.size());
        }
        out.println();
        out.println("What each backend showed (R readable, W writable, P priority, E error, H hang-up, "
                + "RH read hang-up, - nothing):");
        results.forEach((id, row) -> {
            out.println(id + ": " + catalog.get(id).sentence());
            row.forEach((name, o) -> {
                out.println("  " + name + ": " + o.observed());
                if (!o.passed()) {
                    out.println("  " + name + " " + o.verdict());
                }
            });
        });
    }

    private static void printMarkdown(PrintStream out, Map<String, Rule> catalog, List<String> names,
            Map<String, Map<String, Outcome>> results) {
        out.println("Generated by `./iomux rules --markdown` on " + environment() + ". Each cell: pass or FAIL, "
                + "then what was observed (R readable, W writable, P priority, E error, H hang-up, RH read "
                + "hang-up, - nothing).");
        out.println();
        StringBuilder head = new StringBuilder("| Rule |");
        StringBuilder rule = new StringBuilder("|---|");
        names.forEach(n -> {
            head.append(' ').append(n).append(" |");
            rule.append("---|");
        });
        out.println(head);
        out.println(rule);
        results.forEach((id, row) -> {
            StringBuilder line = new StringBuilder("| ").append(id).append(" |");
            row.values().forEach(o -> line.append(' ').append(o.passed() ? "pass" : "**FAIL**").append(": ")
                    .append(cell(o.observed())).append(" |"));
            out.println(line);
        });
    }

    private static String cell(String observed) {
        return observed.replace("|", "\\|").replace("\n", " ");
    }
}
