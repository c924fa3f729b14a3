package dev.iomux.epoll;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.SelectorKey;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Registered descriptors closed behind the selector's back: CLOSED-FD, CLOSE-DUP (epoll(7) Q6, observed
 * Rule 15), and the rebuild of the epoll instance that gets rid of a registration nothing can delete.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EpollCloseTest {

    // --- CLOSED-FD ---------------------------------------------------------------------------------

    @Test
    @DisplayName("CLOSED-FD: a registered fd closed without unregister is silently dropped; no spin")
    void aClosedFdIsSilentlyDropped() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] p = fds.pipe();
            Fds.write(p[1], 1); // readable: were it still watched, it would be reported level-triggered
            SelectorKey key = sel.register(p[0], READ, "closed");
            assertThat(Expect.ready(sel, p[0], READ)).isNotZero();
            int epfd = sel.epfd;
            fds.close(p[0]);
            assertThat(EpollFdInfo.entry(sel, p[0])).as("the kernel removed the entry itself at the close").isNull();
            Expect.idles(sel, 300, 200);
            assertThat(sel.epfd).as("no stale events: no rebuild (it would open a new instance first)")
                    .isEqualTo(epfd);
            assertThat(sel.key(p[0])).as("the key stays until unregister").isSameAs(key);
            assertThat(sel.unregister(p[0])).isSameAs(key);
            assertThat(sel.keys()).isEmpty();
            assertThat(key.isValid()).isFalse();
        }
    }

    @Test
    @DisplayName("REPORT-NO-SPIN + CLOSE-DUP: a parked key whose DEL cannot reach the kernel entry does not spin")
    void aParkedKeyWhoseRegistrationADupKeepsAliveDoesNotSpin() throws IOException {
        // A PRIORITY-only key hangs up: the base parks it and epoll deletes it from the kernel. But its fd
        // was closed while a dup lives on, so EPOLL_CTL_DEL fails with EBADF and the kernel entry keeps
        // reporting EPOLLHUP under the live key's token. Those reports are orphans: after a few waits of
        // nothing else the epoll instance is rebuilt without them.
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] sp = fds.socketPair();
            sel.register(sp[0], Events.PRIORITY, "parked");
            int dup = fds.track(Descriptors.dup(sp[0]));
            int epfd = sel.epfd;
            fds.close(sp[0]);
            fds.close(sp[1]); // AF_UNIX: the peer's close is EPOLLHUP at once (UNIX-HUP)
            Expect.idles(sel, 600, 250);
            assertThat(sel.epfd).as("the orphaned entry was dropped by a rebuild: a new epoll instance")
                    .isNotEqualTo(epfd);
            assertThat(EpollFdInfo.entry(sel, sp[0])).as("the new instance does not hold it").isNull();
            Expect.idles(sel, 300, 150);
            sel.unregister(sp[0]);
            fds.close(dup);
        }
    }

    // --- CLOSE-DUP ---------------------------------------------------------------------------------

    @Test
    @DisplayName("CLOSE-DUP: after dup and close of the registered number, events keep coming until the dup closes")
    void aClosedFdWithALiveDupKeepsFiring() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] p = fds.pipe();
            int a = p[0];
            SelectorKey key = sel.register(a, READ, "A");
            int epfd = sel.epfd;
            int b = fds.track(Descriptors.dup(a));
            fds.close(a); // behind the selector's back, no unregister
            Fds.write(p[1], 1);
            List<Ready> got = sel.select(Expect.PATIENCE);
            assertThat(got).hasSize(1);
            assertThat(got.get(0).key()).isSameAs(key);
            assertThat(got.get(0).events() & READ).isEqualTo(READ);
            assertThat(Expect.ready(sel, a, READ)).as("level-triggered: again").isNotZero();
            assertThat(sel.epfd).as("the events belong to a live key: not stale, no rebuild").isEqualTo(epfd);

            fds.close(b); // the last reference: the kernel drops the registration
            Expect.nothing(sel);
            Expect.nothing(sel);
            sel.unregister(a); // DEL fails with EBADF, ignored
            assertThat(sel.keys()).isEmpty();
        }
    }

    @Test
    @DisplayName("CLOSE-DUP: an orphaned registration (closed, dup alive, unregistered) is rebuilt away, no spin")
    void anOrphanedRegistrationIsRebuiltAwayWithoutSpinning() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] p = fds.pipe();
            int a = p[0];
            sel.register(a, READ, "A");
            int b = fds.track(Descriptors.dup(a));
            fds.close(a);
            sel.unregister(a); // EPOLL_CTL_DEL fails with EBADF (the number is closed) and is ignored
            assertThat(sel.keys()).isEmpty();
            Fds.write(p[1], 1); // the orphaned kernel entry now fires level-triggered, forever
            int epfd = sel.epfd;
            assertThat(EpollFdInfo.targets(epfd)).as("the orphan, still in the kernel").contains(a);
            // Epoll instances, not all descriptors: the count of the whole process moves with whatever else
            // the JVM opens or closes meanwhile.
            long epollsBefore = epollInstances();

            Expect.idles(sel, 400, 200);
            assertThat(sel.epfd).as("the epoll instance was rebuilt").isNotEqualTo(epfd);
            assertThat(EpollFdInfo.targets(sel.epfd)).as("the rebuilt instance").doesNotContain(a);
            assertThat(epollInstances()).as("the old epoll fd was closed").isEqualTo(epollsBefore);
            Expect.idles(sel, 200, 150); // and the orphan is gone for good

            // The rebuilt instance still works: the wake-up and a fresh registration.
            int[] q = fds.pipe();
            Fds.write(q[1], 1);
            sel.register(q[0], READ, "fresh");
            List<Ready> got = sel.select(Expect.PATIENCE);
            assertThat(got).extracting(Ready::attachment).containsExactly("fresh");
            Fds.drain(q[0]);
            sel.wakeup();
            long start = System.nanoTime();
            assertThat(sel.select(Duration.ofSeconds(30))).as("woken, nothing ready").isEmpty();
            assertThat(Expect.millisSince(start)).as("the wake-up fd is in the rebuilt instance").isLessThan(10_000);
            fds.close(b);
        }
    }

    @Test
    @DisplayName("CLOSE-DUP, REPORT-AFTER-UNREGISTER: an orphan's events never reach a new registration of its number")
    void anOrphansEventsAreNotDeliveredToANewRegistrationOfTheSameNumber() throws IOException {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] old = fds.pipe();
            int a = old[0];
            SelectorKey oldKey = sel.register(a, READ, "old");
            int b = fds.track(Descriptors.dup(a)); // keeps the old pipe's read file alive
            // The number a now names another pipe's read end (dup2 closes the old one behind our back).
            int[] other = fds.pipe();
            Descriptors.dup2(other[0], a);
            fds.close(other[0]);
            sel.unregister(a); // DEL reaches (a, new file): ENOENT, ignored; the orphan stays in the kernel
            SelectorKey newKey = sel.register(a, READ, "new"); // a second kernel entry under the number a
            assertThat(newKey).isNotSameAs(oldKey);

            int epfd = sel.epfd;
            Fds.write(old[1], 1); // only the orphan fires, carrying the number a
            Expect.idles(sel, 300, 150);
            assertThat(sel.epfd).as("only stale events: rebuilt").isNotEqualTo(epfd);
            assertThat(EpollFdInfo.entry(sel, a)).as("the new registration of fd %d, alone in the rebuilt instance", a)
                    .isNotNull();

            Fds.write(other[1], 1); // now the new registration is ready
            List<Ready> got = sel.select(Expect.PATIENCE);
            assertThat(got).hasSize(1);
            assertThat(got.get(0).key()).isSameAs(newKey);
            Fds.drain(a);
            Expect.nothing(sel);
            sel.unregister(a);
            fds.close(b);
        }
    }

    /** @return how many epoll instances the process has open (/proc/self/fd links to anon_inode:[eventpoll]) */
    private static long epollInstances() throws IOException {
        return LeakCheck.openDescriptors().values().stream().filter(t -> t.contains("[eventpoll]")).count();
    }
}
