package dev.iomux.epoll;

import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.SelectorKey;
import dev.iomux.epoll.EpollFdInfo.Entry;
import dev.iomux.spi.Kernel;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What register, modify and unregister do to the kernel on epoll: errors, and one epoll_ctl per change,
 * read in the kernel's own view of the instance ({@link EpollFdInfo}).
 */
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
            List<Entry> before = EpollFdInfo.entries(sel);
            assertThatThrownBy(() -> sel.register(fd, READ, "file"))
                    .isInstanceOf(NativeIOException.class)
                    .satisfies(e -> {
                        NativeIOException n = (NativeIOException) e;
                        assertThat(n.errno()).isEqualTo(Kernel.EPERM);
                        assertThat(n.errnoName()).isEqualTo("EPERM");
                        assertThat(n.syscall()).isEqualTo("epoll_ctl(ADD, fd=" + fd + ")");
                    })
                    .hasMessageStartingWith("epoll_ctl(ADD, fd=" + fd + "): EPERM (Operation not permitted)")
                    .hasMessageContaining("FILE-EPOLL-EPERM")
                    .hasMessageContaining("use the poll or select backend");
            assertThat(EpollFdInfo.entries(sel)).as("the kernel's entries: one refused epoll_ctl, nothing to undo")
                    .isEqualTo(before);
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

    /**
     * API-UNREGISTER: a registered socket closed without unregister, its number taken by a regular file.
     * EPOLL_CTL_DEL then fails with EPERM, not EBADF or ENOENT: fs/eventpoll.c checks that the target
     * file can be polled before it looks at the operation. Unregister must still work.
     */
    @Test
    void unregisterWorksWhenTheNumberNowNamesARegularFile() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] sp = fds.socketPair();
            int fd = sp[0];
            sel.register(fd, READ, "socket");
            fds.close(fd);
            int file = fds.regularFile();
            assertThat(file).as("the lowest free number is taken again").isEqualTo(fd);
            SelectorKey key = sel.unregister(fd);
            assertThat(key.isValid()).isFalse();
            assertThat(sel.key(fd)).isNull();
            int[] p = fds.pipe();
            sel.register(p[1], WRITE);
            assertThat(Expect.ready(sel, p[1], WRITE)).as("the selector works on").isNotZero();
        }
    }

    // --- One epoll_ctl per interest change (API-MODIFY) ---------------------------------------------

    @Test
    @DisplayName("API-MODIFY: register, modify and unregister change the kernel's entry at once, or not at all")
    void oneEpollCtlPerInterestChange() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] sp = fds.socketPair();
            assertThat(EpollFdInfo.entry(sel, sp[0])).isNull();

            SelectorKey k1 = sel.register(sp[0], READ, "a");
            Entry registered = EpollFdInfo.entry(sel, sp[0]);
            assertThat(registered).as("register").isNotNull();
            assertThat(registered.events()).as("register: %s", registered).isEqualTo(EpollFdInfo.armedMask(READ));
            assertThat(registered.dataFd()).as("the token's fd").isEqualTo(sp[0]);
            assertThat(registered.id()).as("the token's registration id").isNotZero();

            SelectorKey k2 = sel.modify(sp[0], READ | WRITE);
            assertThat(k2).isNotSameAs(k1);
            assertThat(EpollFdInfo.entry(sel, sp[0])).as("modify with new events")
                    .isEqualTo(new Entry(sp[0], EpollFdInfo.armedMask(READ | WRITE), registered.data()));

            SelectorKey k3 = sel.modify(sp[0], READ | WRITE, "b");
            assertThat(k3).isNotSameAs(k2);
            assertThat(k3.attachment()).isEqualTo("b");
            assertThat(EpollFdInfo.entry(sel, sp[0])).as("modify of the attachment only: mask and token unchanged")
                    .isEqualTo(new Entry(sp[0], EpollFdInfo.armedMask(READ | WRITE), registered.data()));

            assertThat(sel.modify(sp[0], READ | WRITE, "b")).as("identical modify: same key").isSameAs(k3);
            assertThat(sel.modify(sp[0], READ | WRITE)).as("identical modify: same key").isSameAs(k3);

            // The kernel has the new events: WRITE is reported (a socket pair is writable).
            assertThat(Expect.ready(sel, sp[0], WRITE)).isNotZero();

            SelectorKey k4 = sel.modify(sp[0], WRITE);
            assertThat(EpollFdInfo.entry(sel, sp[0])).as("modify back to fewer events")
                    .isEqualTo(new Entry(sp[0], EpollFdInfo.armedMask(WRITE), registered.data()));

            assertThat(sel.unregister(sp[0])).isSameAs(k4);
            assertThat(EpollFdInfo.entry(sel, sp[0])).as("unregister").isNull();
            assertThat(sel.keys()).isEmpty();
        }
    }

    @Test
    @DisplayName("API-MODIFY: an attachment-only or identical modify makes no EPOLL_CTL_MOD (seen on an edge-triggered key)")
    void noEpollCtlForAnAttachmentOnlyModify() throws IOException {
        // A MOD that changes nothing in the entry still shows: epoll_ctl(MOD) polls the file again and
        // queues it if it is ready (fs/eventpoll.c ep_modify), so a writable edge-triggered key that
        // reported its edge would be reported once more.
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] sp = fds.socketPair();
            sel.register(sp[0], WRITE | Events.EDGE, "a");
            assertThat(Expect.ready(sel, sp[0], WRITE)).isNotZero();
            Expect.notReady(sel, sp[0]);
            sel.modify(sp[0], WRITE | Events.EDGE, "b");
            Expect.notReady(sel, sp[0]);
            sel.modify(sp[0], WRITE | Events.EDGE, "b");
            sel.modify(sp[0], WRITE | Events.EDGE);
            Expect.notReady(sel, sp[0]);
            assertThat(sel.key(sp[0]).attachment()).isEqualTo("b");
            // A real change does make one: the edge is reported again.
            sel.modify(sp[0], READ | WRITE | Events.EDGE);
            assertThat(Expect.ready(sel, sp[0], WRITE)).isNotZero();
        }
    }

    @Test
    @DisplayName("EPOLL-ONESHOT: every modify of a ONESHOT key re-arms it with EPOLL_CTL_MOD; a fired key stays in the kernel")
    void modifyOfAOneShotKeyAlwaysRearms() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] p = fds.pipe();
            Fds.write(p[1], 1);
            int armed = EpollFdInfo.armedMask(READ | ONESHOT);
            SelectorKey k1 = sel.register(p[0], READ | ONESHOT, "once");
            Entry registered = EpollFdInfo.entry(sel, p[0]);
            assertThat(registered.events()).as("register: %s", registered).isEqualTo(armed);

            // A re-arm of a key that has not fired yet changes nothing the kernel shows.
            SelectorKey k2 = sel.modify(p[0], READ | ONESHOT);
            assertThat(k2).as("a re-arm is a new key").isNotSameAs(k1);
            assertThat(k2.attachment()).isEqualTo("once");

            assertThat(Expect.ready(sel, p[0], READ)).isNotZero();
            assertThat(EpollFdInfo.entry(sel, p[0])).as("the kernel disarms a fired one-shot key itself: no DEL")
                    .isEqualTo(new Entry(p[0], Kernel.EPOLLONESHOT, registered.data()));
            Expect.notReady(sel, p[0]);

            SelectorKey k3 = sel.modify(p[0], READ | ONESHOT);
            assertThat(k3).isNotSameAs(k2);
            assertThat(EpollFdInfo.entry(sel, p[0])).as("re-armed after firing")
                    .isEqualTo(new Entry(p[0], armed, registered.data()));
            assertThat(Expect.ready(sel, p[0], READ)).as("re-armed with data present").isNotZero();
            assertThat(EpollFdInfo.entry(sel, p[0]).events()).as("fired again").isEqualTo(Kernel.EPOLLONESHOT);

            sel.modify(p[0], READ | ONESHOT, "other");
            assertThat(EpollFdInfo.entry(sel, p[0])).as("a ONESHOT attachment change re-arms too")
                    .isEqualTo(new Entry(p[0], armed, registered.data()));

            sel.unregister(p[0]);
            assertThat(EpollFdInfo.entry(sel, p[0])).as("unregister").isNull();
        }
    }

    @Test
    @DisplayName("API-MODIFY: 10 000 selectNow calls make no epoll_ctl (ready, idle, fired one-shot and edge-triggered keys)")
    void selectingMakesNoEpollCtl() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] ready = fds.pipe();
            int[] idle = fds.pipe();
            int[] once = fds.pipe();
            int[] edge = fds.pipe();
            Fds.write(ready[1], 1);
            Fds.write(once[1], 1);
            sel.register(ready[0], READ, "ready");
            sel.register(idle[0], READ, "idle");
            sel.register(once[0], READ | ONESHOT, "once");
            // Writable, edge-triggered: any MOD or ADD of it would report it again (see above).
            sel.register(edge[1], WRITE | Events.EDGE, "edge");
            int epfd = sel.epfd;
            int[] seen = new int[4];
            List<Entry> afterFirst = null;
            for (int i = 0; i < 10_000; i++) {
                sel.selectNow((key, events) -> {
                    switch ((String) key.attachment()) {
                        case "ready" -> seen[0]++;
                        case "idle" -> seen[1]++;
                        case "once" -> seen[2]++;
                        default -> seen[3]++;
                    }
                });
                if (i == 0) {
                    afterFirst = EpollFdInfo.entries(sel);
                    assertThat(afterFirst).as("the fired one-shot key, disarmed by the kernel")
                            .contains(new Entry(once[0], Kernel.EPOLLONESHOT, EpollFdInfo.entry(sel, once[0]).data()));
                }
            }
            assertThat(seen).containsExactly(10_000, 0, 1, 1);
            assertThat(EpollFdInfo.entries(sel)).as("the kernel's entries after 10 000 selectNow calls")
                    .isEqualTo(afterFirst);
            assertThat(sel.epfd).as("the epoll instance (a rebuild opens a new one first)").isEqualTo(epfd);
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
