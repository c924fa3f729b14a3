package dev.iomux.select;

import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.iomux.spi.NativeBuffer;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the fd_set's size means for this backend (the kit's SELECT-FDSETSIZE checks the refusal of an open
 * descriptor above 1023 and its message): the limit is a number, checked before anything else; fd 1023,
 * the last bit, works; and a selector whose own wake-up descriptor would not fit refuses to open.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SelectFdLimitTest {

    // SELECT-FDSETSIZE: the limit is a number, not an open descriptor: 1024 itself is refused even closed,
    // with the same IllegalArgumentException (not EBADF).
    @Test
    void fd1024IsRefusedByNumber() throws IOException {
        try (SelectSelector sel = SelectTesting.open()) {
            for (int fd : new int[] {1024, 1025, 65_535, Integer.MAX_VALUE}) {
                assertThatThrownBy(() -> sel.register(fd, READ)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("fd " + fd).hasMessageContaining("FD_SETSIZE");
            }
            assertThat(sel.keys()).isEmpty();
        }
    }

    // SELECT-FDSETSIZE: the last bit of the last word (fd 1023) is watched and reported.
    @Test
    void fd1023IsAcceptedAndReported() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            assumeTrue(!Descriptors.isOpen(1023), () -> String.format("fd 1023 is already open in this JVM, so it cannot be dup2'ed to without closing "
                            + "someone else's descriptor"));
            assumeTrue(Descriptors.limits()[0] > 1023, "RLIMIT_NOFILE allows fd 1023");
            int[] p = fds.pipe();
            int fd = SelectTesting.dupTo(fds, p[0], 1023);
            sel.register(fd, READ, "last bit");
            Expect.notReady(sel, fd);
            Fds.write(p[1], 3);
            assertThat(Expect.ready(sel, fd, READ)).isEqualTo(READ);
            assertThat(sel.select(Expect.PATIENCE)).extracting(r -> r.attachment())
                    .as("level-triggered: still reported").containsExactly("last bit");
            Fds.drain(fd);
            Expect.notReady(sel, fd);
            sel.unregister(fd);
            Fds.write(p[1], 1);
            Expect.nothing(sel);
        }
    }

    /**
     * SELECT-FDSETSIZE applies to the selector's own wake-up pipe too: with every descriptor below 1024
     * in use, opening a select selector fails with an IOException naming FD_SETSIZE and the backends that
     * have no such limit, and leaks neither the eventfd nor native memory.
     */
    @Test
    void openingFailsWhenTheWakeupFdWouldNotFitAnFdSet() throws IOException {
        long[] limits = Descriptors.limits();
        assumeTrue(limits[0] > 1100, () -> String.format("RLIMIT_NOFILE soft limit %d must leave room past fd 1024 (nothing is raised "
                + "here)", limits[0]));
        try (Fds fds = new Fds()) {
            List<int[]> pipes = new ArrayList<>();
            int[] p;
            do {
                p = fds.pipe();
                pipes.add(p);
            } while (p[0] < 1024 && pipes.size() < 1000);
            // pipe2 takes the lowest free numbers: once it hands out 1024+, 0..1023 are all in use.
            assertThat(p[0]).as("lowest free descriptor after %d pipes", pipes.size()).isGreaterThanOrEqualTo(1024);

            Map<Integer, String> before = LeakCheck.openDescriptors();
            long blocks = NativeBuffer.liveBlocks();
            SelectSelectorProvider provider = new SelectSelectorProvider();
            assertThatThrownBy(provider::open).isInstanceOf(IOException.class)
                    .hasMessageContaining("FD_SETSIZE")
                    .hasMessageContaining("1024")
                    .hasMessageContaining("backend-poll")
                    .hasMessageContaining("backend-epoll")
                    .satisfies(e -> {
                        Matcher m = Pattern.compile("got fd (\\d+)").matcher(e.getMessage());
                        assertThat(m.find()).as("message names the wake-up fd: %s", e.getMessage()).isTrue();
                        assertThat(Integer.parseInt(m.group(1))).isGreaterThanOrEqualTo(1024);
                    });
            assertThat(LeakCheck.leaked(before, LeakCheck.openDescriptors()))
                    .as("the failed open closed its pipe").isEmpty();
            assertThat(NativeBuffer.liveBlocks()).as("the failed open freed its native memory").isEqualTo(blocks);

            // It is about the number: free one low descriptor and the selector opens, and works.
            int[] first = pipes.get(0);
            fds.close(first[0]);
            fds.close(first[1]);
            try (SelectSelector sel = SelectTesting.open()) {
                int[] low = pipes.get(1);
                assertThat(low[1]).isLessThan(1024);
                sel.register(low[1], WRITE);
                assertThat(Expect.ready(sel, low[1], WRITE)).isEqualTo(WRITE);
            }
            for (int[] q : pipes.subList(1, pipes.size())) {
                fds.close(q[0]);
                fds.close(q[1]);
            }
        }
    }
}
