package dev.iomux.select;

import java.io.IOException;
import java.util.List;

import dev.iomux.Ready;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;

/** Helpers shared by the select backend's own tests. */
final class SelectTesting {
    private SelectTesting() {
    }

    /** @return a new select selector, typed so that package-private members (the master fd_sets) are reachable */
    static SelectSelector open() throws IOException {
        return (SelectSelector) new SelectSelectorProvider().open();
    }

    /** @return the lowest descriptor number in {@code from..to} that is not open, or -1 */
    static int freeFd(int from, int to) {
        for (int fd = from; fd <= to; fd++) {
            if (!Descriptors.isOpen(fd)) {
                return fd;
            }
        }
        return -1;
    }

    /**
     * Duplicates {@code fd} onto the free number {@code target} (found with {@link #freeFd}) and tracks
     * the copy in {@code fds}. A high number is not handed out again by open/pipe/socket while lower
     * ones are free, so closing it behind a selector's back leaves the number closed.
     */
    static int dupTo(Fds fds, int fd, int target) throws IOException {
        Descriptors.dup2(fd, target);
        return fds.track(target);
    }

    /** @return the entries of {@code got} for {@code fd} */
    static List<Ready> entriesOf(List<Ready> got, int fd) {
        return got.stream().filter(r -> r.fd() == fd).toList();
    }
}
