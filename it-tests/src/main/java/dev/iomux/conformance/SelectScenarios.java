package dev.iomux.conformance;

import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.List;

import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;

/** Section 5 of the catalog: what select(2) imposes, checked on every backend. */
final class SelectScenarios {
    /** A descriptor number past FD_SETSIZE (1024), as in the catalog. */
    static final int HIGH_FD = 1500;

    private SelectScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("SELECT-FDSETSIZE", Uses.PIPE, SelectScenarios::fdSetSize);
        b.rule("SELECT-ONE-ENTRY", Uses.UNIX, SelectScenarios::oneEntry);
        b.rule("SELECT-VALUE-RESULT", Uses.PIPE, SelectScenarios::valueResult);
    }

    static void fdSetSize(Run run) throws Exception {
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        Fds.write(p[1], 1);
        int high = HIGH_FD;
        while (Descriptors.isOpen(high)) {
            high++;
        }
        assertThat(Descriptors.raiseLimit(high + 1)).as("RLIMIT_NOFILE must allow fd %d", high).isGreaterThan(high);
        Descriptors.dup2(p[0], high);
        run.fds().track(high);
        int max = run.capabilities().maxFd();
        if (run.mechanism() == Mechanism.SELECT) {
            assertThat(max).as("select declares FD_SETSIZE - 1 as its highest fd").isEqualTo(1023);
        }
        if (high > max) {
            int fd = high;
            Throwable t = catchThrowable(() -> sel.register(fd, READ));
            assertThat(t).isInstanceOf(IllegalArgumentException.class);
            assertThat(t.getMessage()).as("the refusal names the fd").contains("fd " + high);
            if (run.mechanism() == Mechanism.SELECT) {
                assertThat(t.getMessage()).as("the refusal names the limit and the alternatives")
                        .contains("FD_SETSIZE").contains("poll").contains("epoll");
            }
            assertThat(sel.keys()).as("no key is left behind").isEmpty();
            assertThatThrownBy(() -> sel.unregister(fd)).as("unregister of the refused fd")
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("not registered");
            assertThatThrownBy(() -> sel.modify(fd, READ)).as("modify of the refused fd")
                    .isInstanceOf(IllegalStateException.class);
            run.note("fd " + high + " refused: " + t.getMessage());
            int low = run.fds().pipe()[0];
            sel.register(low, READ);
            run.notReady(sel, low, "fd " + low);
        } else {
            sel.register(high, READ);
            run.ready(sel, high, READ, "fd " + high);
        }
    }

    /** select(2) counts a descriptor once per set it is in; the backend gives one entry per key. */
    static void oneEntry(Run run) throws Exception {
        Selector sel = run.open();
        int[] s = run.fds().socketPair();
        Kit.send(s[1], 1);
        sel.register(s[0], READ | WRITE);
        run.ready(sel, s[0], READ | WRITE, "readable and writable");
        List<Ready> got = sel.select(Duration.ofMillis(100));
        assertThat(got).as("one entry for the key, with both events").hasSize(1);
        assertThat(got.get(0).events() & (READ | WRITE)).isEqualTo(READ | WRITE);
    }

    /**
     * The kernel rewrites select's sets in place: a key that was not ready in one call must still be
     * watched in the next, without registering again.
     */
    static void valueResult(Run run) throws Exception {
        Selector sel = run.open();
        int[] a = run.fds().pipe();
        int[] b = run.fds().pipe();
        sel.register(a[0], READ);
        sel.register(b[0], READ);
        assertThat(sel.select(Duration.ofMillis(50))).as("nothing ready: a call that times out").isEmpty();
        Fds.write(b[1], 1);
        run.ready(sel, b[0], READ, "b ready, a not");
        Fds.drain(b[0]);
        Fds.write(a[1], 1);
        run.ready(sel, a[0], READ, "a, after calls that cleared its bit");
        Fds.drain(a[0]);
        Fds.write(b[1], 1);
        run.ready(sel, b[0], READ, "b again");
    }
}
