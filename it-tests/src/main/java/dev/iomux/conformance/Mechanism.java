package dev.iomux.conformance;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

import dev.iomux.Capability;
import dev.iomux.NativeIOException;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.testing.Fds;

/**
 * The family of kernel interface a backend waits with. The spec's "seen" columns (readiness-rules.md) are
 * per family, because the shape of what the kernel reports is: select(2) folds errors and hang-ups into
 * readable and writable, poll(2) and epoll(7) report them as flags, and only epoll keys a registration by
 * open file description (CLOSE-DUP) and refuses regular files (FILE-EPOLL-EPERM).
 *
 * <p>The catalog has columns for three families, {@link #SELECT}, {@link #POLL} and {@link #EPOLL}. A
 * port on an interface of another family (kqueue, say) is held to the column of the one it reports like:
 * {@link #family(String, Mechanism)}.
 *
 * <p>How the kit learns a backend's family, first match wins ({@link #of}):
 * <ol>
 * <li>the system property {@code iomux.conformance.mechanism.<backend>}, e.g.
 *     {@code -Diomux.conformance.mechanism.ppoll=poll} or {@code =kqueue:poll} (a family and its column);
 * <li>the provider implementing {@link Declared};
 * <li>the provider named after a family: {@code select}, {@code poll}, {@code epoll}; {@code uring} and its
 *     variants ({@code uring-single}) are {@link #URING};
 * <li>inference from what the provider declares: no {@link Capability#ERROR_HANGUP} is select's fold;
 *     {@link Capability#EDGE} or {@link Capability#EXCLUSIVE} only epoll has; otherwise one real
 *     register of a regular file tells epoll (EPERM, epoll_ctl(2)) from poll (accepted).
 * </ol>
 * {@link Conformance#tests(SelectorProvider, Mechanism)} overrides all of them.
 *
 * <p>Modes (EDGE, ONESHOT, EXCLUSIVE) are not decided by the family but by the capabilities a backend
 * declares: the kit checks a declared mode works and an undeclared one is refused.
 */
public final class Mechanism {
    /** select(2) or pselect(2). */
    public static final Mechanism SELECT = new Mechanism("select", null);
    /** poll(2) or ppoll(2). */
    public static final Mechanism POLL = new Mechanism("poll", null);
    /** epoll(7). */
    public static final Mechanism EPOLL = new Mechanism("epoll", null);

    /**
     * io_uring's IORING_OP_POLL_ADD: the kernel's poll (vfs_poll) of each file, so held to poll's column, but
     * a poll in flight holds its file, so a descriptor closed under it is neither POLLNVAL nor forgotten
     * (CLOSED-FD, CLOSE-DUP: the scenarios say what it reports instead).
     */
    public static final Mechanism URING = new Mechanism("uring", POLL);

    /** The system property that names a backend's family: this prefix and the backend's name. */
    public static final String PROPERTY_PREFIX = "iomux.conformance.mechanism.";

    private static final List<Mechanism> WITH_COLUMNS = List.of(SELECT, POLL, EPOLL);

    private final String name;
    private final Mechanism heldTo; // null for the three with a column of their own

    private Mechanism(String name, Mechanism heldTo) {
        this.name = name;
        this.heldTo = heldTo;
    }

    /**
     * A provider that says which family it stands on; the kit then infers nothing.
     */
    public interface Declared {
        /** @return the family of kernel interface the backend waits with */
        Mechanism mechanism();
    }

    /** @return the three families the catalog has a column for: select, poll, epoll */
    public static List<Mechanism> values() {
        return WITH_COLUMNS;
    }

    /**
     * A family the catalog has no column for, held to the column of the one it reports like: a kqueue
     * port reports errors and hang-ups as flags and accepts regular files, so it is held to poll's.
     *
     * @param name   the family's name, e.g. "kqueue"
     * @param heldTo {@link #SELECT}, {@link #POLL} or {@link #EPOLL}
     * @return the family
     * @throws IllegalArgumentException if {@code name} is blank or {@code heldTo} is not one of the three
     */
    public static Mechanism family(String name, Mechanism heldTo) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(heldTo, "heldTo");
        if (name.isBlank() || heldTo.heldTo != null) {
            throw new IllegalArgumentException("a family needs a name and one of select, poll or epoll to be held "
                    + "to, got '" + name + "' held to " + heldTo);
        }
        String n = name.strip().toLowerCase(Locale.ROOT);
        for (Mechanism m : WITH_COLUMNS) {
            if (m.name.equals(n)) {
                return m;
            }
        }
        return new Mechanism(n, heldTo);
    }

    /**
     * The family of a backend, decided as the class comment says.
     *
     * @param provider a backend provider
     * @return its family
     * @throws IllegalArgumentException if the system property names no family
     */
    public static Mechanism of(SelectorProvider provider) {
        return decide(provider).mechanism();
    }

    /** @return the family's name: select, poll, epoll, or a port's family such as kqueue */
    public String name() {
        return name;
    }

    /** @return the family whose catalog column applies: this one, or the one it is held to */
    public Mechanism heldTo() {
        return heldTo == null ? this : heldTo;
    }

    /** @return the spec's column name that applies: select, poll or epoll */
    public String column() {
        return heldTo().name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Mechanism m && m.name.equals(name) && m.heldTo() == heldTo();
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return heldTo == null ? name : name + " (held to the " + heldTo.name + " column)";
    }

    /**
     * A backend's family and how the kit came to it, for the matrix and the suite's names.
     *
     * @param mechanism the family
     * @param how       e.g. "named after it", "inferred: declares no ERROR_HANGUP"
     */
    record Decision(Mechanism mechanism, String how) {
        @Override
        public String toString() {
            return mechanism + " (" + how + ")";
        }
    }

    static Decision decide(SelectorProvider provider) {
        String property = PROPERTY_PREFIX + provider.name();
        String value = System.getProperty(property);
        if (value != null && !value.isBlank()) {
            return new Decision(parse(property, value), "-D" + property);
        }
        if (provider instanceof Declared d) {
            return new Decision(Objects.requireNonNull(d.mechanism(), provider.name() + ": mechanism()"),
                    "declared by its provider");
        }
        for (Mechanism m : WITH_COLUMNS) {
            if (m.name.equals(provider.name().toLowerCase(Locale.ROOT))) {
                return new Decision(m, "named after it");
            }
        }
        String name = provider.name().toLowerCase(Locale.ROOT);
        if (URING.name.equals(name)) {
            return new Decision(URING, "named after it");
        }
        if (name.startsWith(URING.name + "-")) {
            // "uring-single": the same polls on a ring with other setup flags
            return new Decision(URING, "named after it (a variant of uring)");
        }
        return infer(provider);
    }

    private static Mechanism parse(String property, String value) {
        String[] parts = value.strip().toLowerCase(Locale.ROOT).split(":", -1);
        Mechanism column = parts.length <= 2 ? column(parts[parts.length - 1]) : null;
        if (column == null || parts[0].isBlank()) {
            throw new IllegalArgumentException("-D" + property + "=" + value + " names no family: give select, poll "
                    + "or epoll, or FAMILY:COLUMN for a family the catalog has no column for (e.g. kqueue:poll)");
        }
        return parts.length == 1 ? column : family(parts[0], column);
    }

    private static Mechanism column(String name) {
        return WITH_COLUMNS.stream().filter(m -> m.name.equals(name.strip())).findFirst().orElse(null);
    }

    /** Infers the family from what the backend declares, and where that is not enough, from one register. */
    private static Decision infer(SelectorProvider provider) {
        if (!provider.capabilities().supports(Capability.ERROR_HANGUP)) {
            return new Decision(SELECT, "inferred: it declares no ERROR_HANGUP, so errors and hang-ups fold into "
                    + "readable and writable as select(2) reports them");
        }
        if (provider.capabilities().supports(Capability.EDGE) || provider.capabilities().supports(Capability.EXCLUSIVE)) {
            return new Decision(EPOLL, "inferred: it declares EDGE or EXCLUSIVE, which only epoll(7) has");
        }
        if (!provider.isAvailable()) {
            return new Decision(POLL, "inferred, not probed (unavailable here): it declares ERROR_HANGUP and no EDGE");
        }
        // epoll_ctl(2) refuses a regular file with EPERM; select(2) and poll(2) report it always ready.
        try (Fds fds = new Fds(); Selector sel = provider.open()) {
            int file = fds.regularFile();
            try {
                sel.register(file, dev.iomux.Events.READ);
                return new Decision(POLL, "inferred: it declares ERROR_HANGUP, no EDGE, and accepts a regular file "
                        + "as poll(2) does");
            } catch (NativeIOException e) {
                if ("EPERM".equals(e.errnoName())) {
                    return new Decision(EPOLL, "inferred: it refuses a regular file with EPERM as epoll_ctl(2) does");
                }
                return new Decision(POLL, "inferred: it declares ERROR_HANGUP and no EDGE (a regular file was refused "
                        + "with " + e.errnoName() + ", not epoll's EPERM)");
            }
        } catch (Exception | LinkageError e) {
            return new Decision(POLL, "inferred, not probed (" + e + "): it declares ERROR_HANGUP and no EDGE");
        }
    }
}
