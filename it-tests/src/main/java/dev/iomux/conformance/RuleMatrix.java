package dev.iomux.conformance;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;

/**
 * The rule matrix: every rule of the catalog run on every available backend (ours and any port that
 * {@link java.util.ServiceLoader} finds), printed as rule x backend with pass or fail and the events
 * observed, as text or as Markdown (docs/rule-matrix.md is a copy). Errors are one line starting {@code iomux rules:}.
 *
 * <pre>
 * java -cp ... dev.iomux.conformance.RuleMatrix [--backend NAME]... [--rule ID]... [--markdown]
 * </pre>
 */
public final class RuleMatrix {
    /** The usage text. */
    public static final String USAGE = "usage: iomux rules [-b|--backend NAME]... [-r|--rule RULE-ID]... [--markdown]\n"
            + "  Runs every readiness rule of readiness-rules.md on each backend and prints rule x backend.\n"
            + "  -b, --backend NAME  only this backend: select, poll, epoll, uring, uring-single or a port's\n"
            + "                      (repeatable; default: every available one on the class path)\n"
            + "  -r, --rule ID       only this rule (repeatable; default: all)\n"
            + "  --markdown          print a Markdown table (as in docs/rule-matrix.md) instead of text\n"
            + "  A port's family (select, poll or epoll, whose column of the catalog applies) is worked out from\n"
            + "  what it declares; -D" + Mechanism.PROPERTY_PREFIX + "NAME=poll says it. -D"
            + Conformance.TIMEOUT_PROPERTY + "=N\n"
            + "  bounds each scenario (default " + Conformance.DEFAULT_TIMEOUT_SECONDS + " s).\n"
            + "  Exit status: 0 if every rule passed, 1 if any failed, 2 for bad arguments or an error.";

    /** Starts every error message: the command as a user typed it. */
    private static final String PREFIX = "iomux rules: ";

    private RuleMatrix() {
    }

    /**
     * Runs the matrix and exits with its status.
     *
     * @param args see {@link #USAGE}
     */
    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        System.out.flush();
        System.exit(status);
    }

    /**
     * Runs the matrix on every backend {@link java.util.ServiceLoader} finds: ours, and any port whose jar
     * is on the class path.
     *
     * @param args see {@link #USAGE}
     * @param out  where the matrix goes
     * @param err  where progress and errors go
     * @return 0 if every rule passed on every backend, 1 if any failed, 2 for bad arguments or an error
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(null, args, out, err);
    }

    /**
     * Runs the matrix on the given backends, for instance a port's provider beside ours.
     *
     * @param providers the backends to consider, in column order; null for those ServiceLoader finds
     * @param args      see {@link #USAGE}; {@code --backend} picks among {@code providers}
     * @param out       where the matrix goes
     * @param err       where progress and errors go
     * @return 0 if every rule passed on every backend, 1 if any failed, 2 for bad arguments or an error
     */
    public static int run(List<SelectorProvider> providers, String[] args, PrintStream out, PrintStream err) {
        try {
            return matrix(providers == null ? Selectors.providers() : providers, args, out, err);
        } catch (RuntimeException | LinkageError e) {
            // One line, as for any other error of the command line: the cause in full is a Java matter.
            err.println(PREFIX + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return 2;
        }
    }

    private static int matrix(List<SelectorProvider> all, String[] args, PrintStream out, PrintStream err) {
        List<String> available = all.stream().filter(SelectorProvider::isAvailable).map(SelectorProvider::name)
                .sorted().toList();
        List<String> backends = new ArrayList<>();
        List<String> rules = new ArrayList<>();
        boolean markdown = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--markdown" -> markdown = true;
                case "--backend", "-b", "--rule", "-r" -> {
                    String option = args[i].startsWith("--") ? args[i] : args[i].equals("-b") ? "--backend" : "--rule";
                    if (i + 1 == args.length) {
                        err.println(PREFIX + option + " needs a value\n" + USAGE);
                        return 2;
                    }
                    String value = args[++i];
                    if (option.equals("--backend") && !available.contains(value)) {
                        SelectorProvider known = all.stream().filter(p -> p.name().equals(value)).findFirst()
                                .orElse(null);
                        if (known != null) {
                            // Known but refused here: say why, as Selectors.open(name) does.
                            Throwable cause = known.unavailabilityCause();
                            err.println(PREFIX + "the " + value + " backend is not available here: "
                                    + (cause.getMessage() != null ? cause.getMessage() : cause.toString())
                                    + "; available: " + String.join(", ", available));
                        } else {
                            err.println(PREFIX + "--backend must be one of " + String.join(", ", available)
                                    + " (got '" + value + "')\n" + USAGE);
                        }
                        return 2;
                    }
                    (option.equals("--rule") ? rules : backends).add(value);
                }
                case "-h", "--help" -> {
                    out.println(USAGE);
                    return 0;
                }
                default -> {
                    err.println(PREFIX + "unknown option '" + args[i] + "'\n" + USAGE);
                    return 2;
                }
            }
        }
        Map<String, Rule> catalog = RuleCatalog.shipped().rules();
        for (String id : rules) {
            if (!catalog.containsKey(id)) {
                err.println(PREFIX + "no rule '" + id + "' in " + RuleCatalog.RESOURCE + " (" + catalog.size()
                        + " rules: " + String.join(" ", catalog.keySet()) + ")");
                return 2;
            }
        }
        List<SelectorProvider> providers = all.stream().filter(SelectorProvider::isAvailable)
                .filter(p -> backends.isEmpty() || backends.contains(p.name())).toList();
        Map<String, Mechanism.Decision> families = new LinkedHashMap<>();
        for (SelectorProvider p : providers) {
            families.put(p.name(), Mechanism.decide(p));
        }
        List<String> ids = rules.isEmpty() ? new ArrayList<>(catalog.keySet()) : rules;
        Map<String, Map<String, Outcome>> results = new LinkedHashMap<>();
        for (String id : ids) {
            Map<String, Outcome> row = new LinkedHashMap<>();
            for (SelectorProvider p : providers) {
                Outcome o = Conformance.run(p, families.get(p.name()).mechanism(), id);
                row.put(p.name(), o);
                err.printf("%-24s %-7s %s (%d ms)%n", id, p.name(), o.passed() ? "pass" : "FAIL", o.millis());
            }
            results.put(id, row);
        }
        List<String> names = providers.stream().map(SelectorProvider::name).toList();
        if (markdown) {
            printMarkdown(out, catalog, names, results);
        } else {
            printText(out, catalog, families, results);
        }
        boolean allPassed = results.values().stream().flatMap(r -> r.values().stream()).allMatch(Outcome::passed);
        return allPassed ? 0 : 1;
    }

    private static String environment() {
        return "Linux " + System.getProperty("os.version") + " " + System.getProperty("os.arch") + ", Java "
                + System.getProperty("java.version");
    }

    private static void printText(PrintStream out, Map<String, Rule> catalog, Map<String, Mechanism.Decision> families,
            Map<String, Map<String, Outcome>> results) {
        List<String> names = new ArrayList<>(families.keySet());
        int width = Math.max(7, names.stream().mapToInt(String::length).max().orElse(0));
        String cell = " %-" + width + "s";
        out.printf("iomux rule matrix: %d rules x %s (%s)%n", results.size(), names, environment());
        families.forEach((name, family) -> out.printf("  %s: %s%n", name, family));
        out.println();
        StringBuilder head = new StringBuilder(String.format("%-24s", "RULE"));
        names.forEach(n -> head.append(String.format(cell, n)));
        out.println(head);
        results.forEach((id, row) -> {
            StringBuilder line = new StringBuilder(String.format("%-24s", id));
            row.values().forEach(o -> line.append(String.format(cell, o.passed() ? "pass" : "FAIL")));
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
