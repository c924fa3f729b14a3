package dev.iomux.conformance;

import java.util.Locale;

import dev.iomux.SelectorProvider;

/**
 * The kernel interface a backend waits with. The spec's "seen" columns (readiness-rules.md) are per
 * mechanism, because the shape of what the kernel reports is: select(2) folds errors and hang-ups into
 * readable and writable, poll(2) and epoll(7) report them as flags, and only epoll keys a registration by
 * open file description (CLOSE-DUP) and refuses regular files (FILE-EPOLL-EPERM).
 *
 * <p>Modes (EDGE, ONESHOT, EXCLUSIVE) are not decided by the mechanism but by the capabilities a
 * backend declares: the kit checks a declared mode works and an undeclared one is refused.
 */
public enum Mechanism {
    /** select(2) or pselect(2). */
    SELECT,
    /** poll(2) or ppoll(2). */
    POLL,
    /** epoll(7). */
    EPOLL;

    /**
     * Infers the mechanism from a provider named after it ({@code select}, {@code poll}, {@code epoll}).
     *
     * @param provider a backend provider
     * @return its mechanism
     * @throws IllegalArgumentException if the name is none of those: pass the mechanism explicitly
     */
    public static Mechanism of(SelectorProvider provider) {
        try {
            return valueOf(provider.name().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot tell which kernel mechanism backend '" + provider.name()
                    + "' waits with: call Conformance.tests(provider, Mechanism.SELECT|POLL|EPOLL)", e);
        }
    }

    /** @return the spec's column name for this mechanism: select, poll or epoll */
    public String column() {
        return name().toLowerCase(Locale.ROOT);
    }
}
