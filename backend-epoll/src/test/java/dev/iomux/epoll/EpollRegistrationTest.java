package dev.iomux.epoll;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import dev.iomux.NativeIOException;
import dev.iomux.SelectorKey;
import dev.iomux.internal.Linux;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What register, modify and unregister do to the kernel on epoll: errors, and one epoll_ctl per change. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EpollRegistrationTest {

    // --- FILE-EPOLL-EPERM --------------------------------------------------------------------------

    @ParameterizedTest(name = "FILE-EPOLL-EPERM: {0}")
    @ValueSource(strings = {"regular file", "directory", "/dev/null"})
    void epollRefusesFilesWithEpermAndLeavesNoKey(String kind) throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int fd = switch (kind) {
                case "regular file" -> fds.regularFile();
                case "directory" -> fds.directory();
                default -> fds.devNull();
            };
            long ctl = sel.ctlCalls;
            assertThatThrownBy(() -> sel.register(fd, READ, "file"))
                    .isInstanceOf(NativeIOException.class)
                    .satisfies(e -> {
                        NativeIOException n = (NativeIOException) e;
                        assertThat(n.errno()).isEqualTo(Linux.EPERM);
                        assertThat(n.errnoName()).isEqualTo("EPERM");
                        assertThat(n.syscall()).isEqualTo("epoll_ctl(ADD, fd=" + fd + ")");
                    })
                    .hasMessageStartingWith("epoll_ctl(ADD, fd=" + fd + "): EPERM (Operation not permitted)")
                    .hasMessageContaining("FILE-EPOLL-EPERM")
                    .hasMessageContaining("use the poll or select backend");
            assertThat(sel.ctlCalls).as("one refused epoll_ctl, nothing to undo").isEqualTo(ctl + 1);
            assertThat(sel.keys()).isEmpty();
            assertThat(sel.key(fd)).isNull();
            // Write interest is refused the same way, and the selector still works afterwards.
            assertThatThrownBy(() -> sel.register(fd, WRITE)).isInstanceOf(NativeIOException.class)
                    .hasMessageContaining("EPERM");
            assertThat(sel.keys()).isEmpty();
            int[] p = fds.pipe();
            sel.register(p[1], WRITE);
            assertThat(Expect.ready(sel, p[1], WRITE)).isNotZero();
        }
    }

    // --- One epoll_ctl per interest change (API-MODIFY) ---------------------------------------------

    @Test
    @DisplayName("API-MODIFY: register, modify and unregister make exactly one epoll_ctl each, or none")
    void oneEpollCtlPerInterestChange() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] sp = fds.socketPair();
            long ctl = sel.ctlCalls;

            SelectorKey k1 = sel.register(sp[0], READ, "a");
            assertThat(sel.ctlCalls).as("register").isEqualTo(ctl + 1);

            SelectorKey k2 = sel.modify(sp[0], READ | WRITE);
            assertThat(k2).isNotSameAs(k1);
            assertThat(sel.ctlCalls).as("modify with new events").isEqualTo(ctl + 2);

            SelectorKey k3 = sel.modify(sp[0], READ | WRITE, "b");
            assertThat(k3).isNotSameAs(k2);
            assertThat(k3.attachment()).isEqualTo("b");
            assertThat(sel.ctlCalls).as("modify of the attachment only").isEqualTo(ctl + 2);

            assertThat(sel.modify(sp[0], READ | WRITE, "b")).as("identical modify: same key").isSameAs(k3);
            assertThat(sel.modify(sp[0], READ | WRITE)).as("identical modify: same key").isSameAs(k3);
            assertThat(sel.ctlCalls).as("modify with identical events and attachment").isEqualTo(ctl + 2);

            // The kernel has the new events: WRITE is reported (a socket pair is writable).
            assertThat(Expect.ready(sel, sp[0], WRITE)).isNotZero();

            SelectorKey k4 = sel.modify(sp[0], WRITE);
            assertThat(sel.ctlCalls).as("modify back to fewer events").isEqualTo(ctl + 3);

            assertThat(sel.unregister(sp[0])).isSameAs(k4);
            assertThat(sel.ctlCalls).as("unregister").isEqualTo(ctl + 4);
            assertThat(sel.keys()).isEmpty();
        }
    }

    @Test
    @DisplayName("EPOLL-ONESHOT: every modify of a ONESHOT key re-arms it with one EPOLL_CTL_MOD")
    void modifyOfAOneShotKeyAlwaysRearms() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] p = fds.pipe();
            Fds.write(p[1], 1);
            long ctl = sel.ctlCalls;
            SelectorKey k1 = sel.register(p[0], READ | ONESHOT, "once");
            assertThat(sel.ctlCalls).as("register").isEqualTo(ctl + 1);

            SelectorKey k2 = sel.modify(p[0], READ | ONESHOT);
            assertThat(k2).as("a re-arm is a new key").isNotSameAs(k1);
            assertThat(k2.attachment()).isEqualTo("once");
            assertThat(sel.ctlCalls).as("re-arm with the same events, not yet fired").isEqualTo(ctl + 2);

            assertThat(Expect.ready(sel, p[0], READ)).isNotZero();
            assertThat(sel.ctlCalls).as("the kernel disarms a fired one-shot key itself: no DEL")
                    .isEqualTo(ctl + 2);
            Expect.notReady(sel, p[0]);

            SelectorKey k3 = sel.modify(p[0], READ | ONESHOT);
            assertThat(k3).isNotSameAs(k2);
            assertThat(sel.ctlCalls).as("re-arm after firing").isEqualTo(ctl + 3);
            assertThat(Expect.ready(sel, p[0], READ)).as("re-armed with data present").isNotZero();

            sel.modify(p[0], READ | ONESHOT, "other");
            assertThat(sel.ctlCalls).as("a ONESHOT attachment change re-arms too").isEqualTo(ctl + 4);

            sel.unregister(p[0]);
            assertThat(sel.ctlCalls).as("unregister").isEqualTo(ctl + 5);
        }
    }

    @Test
    @DisplayName("API-MODIFY: 10 000 selectNow calls make no epoll_ctl (ready, idle and fired one-shot keys)")
    void selectingMakesNoEpollCtl() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] ready = fds.pipe();
            int[] idle = fds.pipe();
            int[] once = fds.pipe();
            Fds.write(ready[1], 1);
            Fds.write(once[1], 1);
            sel.register(ready[0], READ, "ready");
            sel.register(idle[0], READ, "idle");
            sel.register(once[0], READ | ONESHOT, "once");
            long ctl = sel.ctlCalls;
            int[] seen = new int[3];
            for (int i = 0; i < 10_000; i++) {
                sel.selectNow((key, events) -> {
                    switch ((String) key.attachment()) {
                        case "ready" -> seen[0]++;
                        case "idle" -> seen[1]++;
                        default -> seen[2]++;
                    }
                });
            }
            assertThat(seen).containsExactly(10_000, 0, 1);
            assertThat(sel.ctlCalls).as("epoll_ctl calls made by 10 000 selectNow calls").isEqualTo(ctl);
            assertThat(sel.rebuilds).isZero();
        }
    }

    // --- API-MODIFY: a modify the kernel refuses removes the key (CPython bpo-30014) -----------------

    @Test
    @DisplayName("API-MODIFY (bpo-30014): a modify refused by the kernel (EBADF) removes the key")
    void aModifyRefusedByTheKernelRemovesTheKey() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] p = fds.pipe();
            SelectorKey key = sel.register(p[0], READ, "doomed");
            fds.close(p[0]); // behind the selector's back: the kernel drops the registration
            assertThatThrownBy(() -> sel.modify(p[0], READ | WRITE))
                    .isInstanceOf(NativeIOException.class)
                    .satisfies(e -> assertThat(((NativeIOException) e).errnoName()).isEqualTo("EBADF"))
                    .hasMessageStartingWith("epoll_ctl(MOD, fd=" + p[0] + "): EBADF");
            assertThat(sel.key(p[0])).isNull();
            assertThat(sel.keys()).isEmpty();
            assertThat(key.isValid()).isFalse();
            assertThatThrownBy(() -> sel.unregister(p[0])).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not registered");
            // The number is free for a new registration.
            int[] q = fds.pipe();
            sel.register(q[1], WRITE, "fresh");
            assertThat(Expect.ready(sel, q[1], WRITE)).isNotZero();
        }
    }

    // --- maxEvents ---------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE, EpollSelectorProvider.MAX_EVENTS_LIMIT + 1, Integer.MAX_VALUE})
    void maxEventsOutsideWhatEpollWaitTakesIsRefused(int maxEvents) {
        // epoll_wait(2): EINVAL unless 0 < maxevents <= INT_MAX / sizeof(struct epoll_event).
        assertThatThrownBy(() -> new EpollSelectorProvider().open(maxEvents))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(maxEvents));
    }
}
