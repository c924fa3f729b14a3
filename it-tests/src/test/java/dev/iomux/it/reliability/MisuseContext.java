package dev.iomux.it.reliability;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;

/** What a misuse case works with: a fresh selector of one backend, real descriptors, clean-ups. */
final class MisuseContext implements AutoCloseable {
    final String backend;
    final Selector sel;
    final Fds fds = new Fds();
    /** Stands for "no descriptor" in {@link #fd}: -1 is a descriptor some cases try. */
    static final int NO_FD = Integer.MIN_VALUE;
    /** The descriptor the misuse is about, for the check that the message names it. */
    int fd = NO_FD;
    /** The selector's own descriptors (its wake-up pipe, epoll's instance), number to target. */
    private final Map<Integer, String> own;
    private final List<Check> afterwards = new ArrayList<>();
    private final List<Check> cleanups = new ArrayList<>();

    /** Something to run after the wrong call: a check of the state it left, or a clean-up. */
    @FunctionalInterface
    interface Check {
        void run() throws Exception;
    }

    MisuseContext(String backend) throws IOException {
        this.backend = backend;
        if (Misuse.ANY.contains(backend)) {
            this.sel = null;
            this.own = Map.of();
        } else {
            Map<Integer, String> before = LeakCheck.openDescriptors();
            this.sel = Selectors.open(backend);
            this.own = LeakCheck.leaked(before, LeakCheck.openDescriptors());
        }
    }

    /** Sets the descriptor the case is about and returns it. */
    int subject(int fd) {
        this.fd = fd;
        return fd;
    }

    /** @return the read end of a new pipe, as the subject */
    int pipeReadEnd() throws IOException {
        return subject(fds.pipe()[0]);
    }

    /**
     * Returns the number of one of the selector's own descriptors, found by what /proc/self/fd says it
     * points to: "pipe:" (the wake-up pipe, read end first) or "anon_inode:[eventpoll]" (epoll's instance).
     */
    int ownDescriptor(String kind) {
        return own.entrySet().stream().filter(e -> e.getValue().contains(kind)).map(Map.Entry::getKey)
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " among the " + backend
                        + " selector's descriptors " + own));
    }

    /**
     * Returns a descriptor number that is free now, at or above {@code from}, taken from the top of the
     * range so that the descriptors the test opens meanwhile (always the lowest free number) do not take
     * it: a number that must stay closed while a case looks at it.
     */
    static int freeNumber(int from, int to) {
        for (int fd = to; fd >= from; fd--) {
            if (!Descriptors.isOpen(fd)) {
                return fd;
            }
        }
        throw new AssertionError("no free descriptor number in " + from + ".." + to);
    }

    /** Registers a check to run once the wrong call has failed (or returned) as expected. */
    void afterwards(Check check) {
        afterwards.add(check);
    }

    /** Registers a clean-up, run last whatever happened (a thread to join, a property to restore). */
    void cleanup(Check check) {
        cleanups.add(check);
    }

    void runAfterwards() throws Exception {
        for (Check c : afterwards) {
            c.run();
        }
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        for (Check c : cleanups) {
            try {
                c.run();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (sel != null) {
            sel.close();
        }
        fds.close();
        if (first != null) {
            throw first;
        }
    }
}
