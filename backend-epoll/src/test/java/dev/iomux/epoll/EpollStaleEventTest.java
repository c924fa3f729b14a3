package dev.iomux.epoll;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.iomux.Events;
import dev.iomux.ReadyHandler;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Async;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Events that epoll_wait fetched for a registration another thread removed before the selecting thread
 * collected them (REPORT-AFTER-UNREGISTER): an ordinary race, dropped. They must not be taken for the
 * registration nothing can delete (CLOSE-DUP, epoll(7) Q6), the one case the epoll instance is rebuilt
 * for; and that case must still be recovered while such races go on.
 *
 * <p>Each race runs {@value #CHURN_MILLIS} ms; the tests print what they did (look for {@code stale-event
 * race} in the build output).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EpollStaleEventTest {
    private static final long CHURN_MILLIS = 2_500;
    private static final String EVENTPOLL = "anon_inode:[eventpoll]";

    @Test
    @DisplayName("REPORT-AFTER-UNREGISTER: registers and unregisters racing select never rebuild the epoll instance")
    void unregisterRacingSelectNeverRebuilds() throws Exception {
        try (Fds fds = new Fds()) {
            int[] readable = readableEventfds(fds, 8);
            Instance instance = Instance.open(fds);
            try (EpollSelector sel = instance.sel) {
                // Readable eventfds, never closed: each registration is ready at once, so a wait in
                // progress fetches it, and the unregister right after often lands before the collect.
                Race race = race(sel, () -> {
                    for (int fd : readable) {
                        sel.register(fd, READ);
                        sel.unregister(fd);
                    }
                    return 2L * readable.length;
                });
                race.print("register, unregister");
                assertThat(race.calls).as("the race ran").isGreaterThan(1_000);
                assertThat(race.rebuilds).as("rebuilds with no descriptor closed (%s)", race).isZero();
                instance.assertUnchanged(fds);
            }
        }
    }

    @Test
    @DisplayName("REPORT-AFTER-UNREGISTER: close then unregister racing select (no dup alive) never rebuilds")
    void closeThenUnregisterRacingSelectNeverRebuilds() throws Exception {
        try (Fds fds = new Fds()) {
            Instance instance = Instance.open(fds);
            try (EpollSelector sel = instance.sel) {
                // The order unregister documents as allowed: the kernel drops the registration at close,
                // and EPOLL_CTL_DEL then fails with EBADF. Nothing else holds the file, so nothing can fire
                // after the close; events a wait fetched just before it are leftovers.
                Race race = race(sel, () -> {
                    int fd = Descriptors.eventfd(1);
                    sel.register(fd, READ);
                    Descriptors.close(fd);
                    sel.unregister(fd);
                    return 2L;
                });
                race.print("register, close, unregister");
                assertThat(race.calls).as("the race ran").isGreaterThan(1_000);
                assertThat(race.rebuilds).as("rebuilds with no dup alive (%s)", race).isZero();
                instance.assertUnchanged(fds);
            }
        }
    }

    @Test
    @DisplayName("CLOSE-DUP: an orphaned registration is rebuilt away even while another thread races unregisters")
    void anOrphanIsRebuiltAwayDuringTheRace() throws Exception {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int[] readable = readableEventfds(fds, 8);
            // The orphan (epoll(7) Q6): registered, dup'ed, closed, unregistered (DEL fails with EBADF),
            // and readable for good through the dup's file.
            int[] p = fds.pipe();
            sel.register(p[0], READ, "orphan");
            int dup = fds.track(Descriptors.dup(p[0]));
            fds.close(p[0]);
            sel.unregister(p[0]);
            Fds.write(p[1], 1);
            int epfd = sel.epfd;

            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> churn = Async.run(() -> {
                try {
                    while (!stop.get()) {
                        for (int fd : readable) {
                            sel.register(fd, READ);
                            sel.unregister(fd);
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                long deadline = System.nanoTime() + 5_000_000_000L;
                ReadyHandler ignore = (key, events) -> { };
                while (sel.epfd == epfd && System.nanoTime() < deadline) {
                    sel.select(1, TimeUnit.MILLISECONDS, ignore);
                }
            } finally {
                stop.set(true);
                churn.get(10, TimeUnit.SECONDS);
            }
            assertThat(sel.epfd).as("the orphan was rebuilt away during the race: a new epoll instance")
                    .isNotEqualTo(epfd);
            assertThat(EpollFdInfo.targets(sel.epfd)).as("the rebuilt instance").doesNotContain(p[0]);
            Expect.idles(sel, 300, 150); // and is gone for good
            fds.close(dup);
        }
    }

    @Test
    @DisplayName("CLOSE-DUP: an orphan is recognised even when an unregister races every wait it wakes")
    void anOrphanIsRecognisedWhenEveryWaitIsRaced() throws Exception {
        try (Fds fds = new Fds(); EpollSelector sel = EpollTesting.open()) {
            int idle = fds.pipe()[0];
            // An edge-triggered orphan: it wakes the selector once per write, so each of its reports comes
            // in a wait of its own, and the other thread can remove a registration during each such wait.
            int[] p = fds.pipe();
            sel.register(p[0], READ | Events.EDGE, "orphan");
            int dup = fds.track(Descriptors.dup(p[0]));
            fds.close(p[0]);
            sel.unregister(p[0]); // DEL fails with EBADF: remembered
            int epfd = sel.epfd;
            int rounds = 6;
            CompletableFuture<Void> other = Async.run(() -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        Thread.sleep(50); // the selecting thread is back in epoll_wait
                        sel.register(idle, READ);
                        sel.unregister(idle); // a removal while the wait runs: its events may be leftovers
                        Fds.write(p[1], 1);   // an edge: the orphan reports, in that same wait
                        Thread.sleep(50);
                        Fds.drain(dup);       // empty again, so that the next write is an edge too
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            ReadyHandler none = (key, events) -> {
                throw new AssertionError("nothing is registered, yet " + key + " was delivered");
            };
            while (!other.isDone()) {
                sel.select(100, TimeUnit.MILLISECONDS, none);
            }
            other.get();
            assertThat(sel.epfd).as("the epoll instance after %d raced waits that the orphan woke: rebuilt", rounds)
                    .isNotEqualTo(epfd);
            Fds.write(p[1], 1);
            Expect.idles(sel, 200, 150); // the orphan is gone: the write wakes nothing
            fds.close(dup);
        }
    }

    // ------------------------------------------------------------------------------------------------

    private static int[] readableEventfds(Fds fds, int n) throws IOException {
        int[] fd = new int[n];
        for (int i = 0; i < n; i++) {
            fd[i] = fds.track(Descriptors.eventfd(1)); // counter 1: readable until read, which nobody does
        }
        return fd;
    }

    /** One step of the racing thread: some register/unregister calls; returns how many it made. */
    interface Step {
        long run() throws IOException;
    }

    /** What a race did. */
    record Race(long calls, long selects, long delivered, long rebuilds) {
        void print(String what) {
            System.out.printf("stale-event race on epoll (%s): %,d calls in %d ms from another thread, %,d selects "
                    + "(%,d keys delivered), %d rebuilds%n", what, calls, CHURN_MILLIS, selects, delivered, rebuilds);
        }
    }

    /**
     * Runs {@code step} in a loop on another thread for {@link #CHURN_MILLIS} while this thread selects with
     * a 1 ms timeout. Rebuilds are counted as the selects after which the selector's epoll descriptor
     * changed: a rebuild opens the new instance before it closes the old one, so the number differs.
     */
    private static Race race(EpollSelector sel, Step step) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong calls = new AtomicLong();
        CompletableFuture<Void> churn = Async.run(() -> {
            try {
                long n = 0;
                while (!stop.get()) {
                    n += step.run();
                }
                calls.set(n);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        long selects = 0;
        long rebuilds = 0;
        long[] delivered = new long[1];
        ReadyHandler count = (key, events) -> delivered[0]++;
        try {
            long end = System.nanoTime() + CHURN_MILLIS * 1_000_000;
            while (System.nanoTime() < end) {
                int epfd = sel.epfd;
                sel.select(1, TimeUnit.MILLISECONDS, count);
                selects++;
                if (sel.epfd != epfd) {
                    rebuilds++;
                }
            }
        } finally {
            stop.set(true);
            churn.get(10, TimeUnit.SECONDS);
        }
        return new Race(calls.get(), selects, delivered[0], rebuilds);
    }

    /**
     * A selector and its epoll instance: the descriptor number, and a dup of it that keeps that instance
     * alive should the selector replace it, so that a rebuild shows even if the new instance happened to
     * get the old number back.
     */
    record Instance(EpollSelector sel, int epfd, int pin) {
        static Instance open(Fds fds) throws IOException {
            EpollSelector sel = EpollTesting.open();
            int epfd = sel.epfd;
            assertThat(target(epfd)).as("the selector's epoll descriptor %d", epfd).isEqualTo(EVENTPOLL);
            return new Instance(sel, epfd, fds.track(Descriptors.dup(epfd)));
        }

        /** Checks that the selector still waits on the instance it opened with, then closes the pin. */
        void assertUnchanged(Fds fds) throws IOException {
            assertThat(sel.epfd).as("the selector's epoll descriptor").isEqualTo(epfd);
            int probe = fds.track(Descriptors.eventfd(0));
            sel.register(probe, READ);
            assertThat(EpollFdInfo.targets(pin)).as("the instance opened with the selector (pinned by fd %d) is "
                    + "the one in use", pin).contains(probe);
            sel.unregister(probe);
            fds.close(probe);
            fds.close(pin);
        }

        private static String target(int fd) throws IOException {
            try {
                return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            } catch (NoSuchFileException closed) {
                return "(closed)";
            }
        }
    }
}
