package dev.iomux.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.Selector;

/**
 * Readiness assertions in mio's style (tests/util: expect_events, expect_no_events): tolerant of
 * spurious readiness and of a slow machine when waiting for something, strict about its absence.
 */
public final class Expect {
    /** How long to wait for readiness that must come: generous, for a loaded 2-core machine. */
    public static final Duration PATIENCE = Duration.ofSeconds(5);
    /** How long absence is watched for. */
    public static final Duration SHORT = Duration.ofMillis(80);

    private Expect() {
    }

    /**
     * Selects until {@code fd} is reported with at least {@code events}, and returns what was reported.
     * Fails after {@link #PATIENCE}.
     */
    public static int ready(Selector s, int fd, int events) throws IOException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        int seen = 0;
        while (System.nanoTime() < deadline) {
            for (Ready r : s.select(Duration.ofMillis(100))) {
                if (r.fd() == fd) {
                    seen = r.events();
                    if ((seen & events) == events) {
                        return seen;
                    }
                }
            }
        }
        throw new AssertionError("fd " + fd + " was not reported with " + Events.toString(events) + " within "
                + PATIENCE + " on " + s.backend() + " (last seen: " + Events.toString(seen) + ")");
    }

    /** Checks that {@code fd} is not reported during {@link #SHORT}, twice (level-triggered rules). */
    public static void notReady(Selector s, int fd) throws IOException {
        for (int round = 0; round < 2; round++) {
            List<Ready> got = s.select(SHORT);
            assertThat(got).as("%s: fd %d must not be reported", s.backend(), fd)
                    .noneMatch(r -> r.fd() == fd);
        }
    }

    /** Checks that nothing at all is reported during {@link #SHORT}. */
    public static void nothing(Selector s) throws IOException {
        assertThat(s.select(SHORT)).as("%s: nothing may be ready", s.backend()).isEmpty();
    }

    /** @return milliseconds since {@code startNanos} */
    public static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
