package dev.iomux.conformance;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.NativeIOException;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.SelectorKey;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Async;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.SelectorContract;

/** Section 7 of the catalog: errors, hang-ups, closed descriptors and what gets reported. */
final class ReportScenarios {
    private ReportScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("REPORT-MASKED", Uses.UNIX, ReportScenarios::masked);
        b.rule("REPORT-NO-SPIN", Uses.UNIX, ReportScenarios::noSpin);
        b.rule("REPORT-UNASKED", Uses.UNIX, ReportScenarios::unasked);
        b.rule("REPORT-AFTER-UNREGISTER", Uses.PIPE, run -> run.contract(
                SelectorContract::aKeyUnregisteredEarlierInTheBatchIsNotDelivered));
        b.rule("CLOSED-FD", uses(Uses.PIPE, Uses.THREADS), ReportScenarios::closedFd);
        b.rule("CLOSE-DUP", uses(Uses.UNIX, Uses.PIPE), ReportScenarios::closeDup);
    }

    static void masked(Run run) throws Exception {
        Selector sel = run.open();
        int[] data = run.fds().socketPair();
        Kit.send(data[1], 1);
        sel.register(data[0], WRITE);
        int seen = run.ready(sel, data[0], WRITE, "data queued, WRITE asked");
        run.without(seen, READ, "a WRITE-only key with data queued");

        int[] idle = run.fds().socketPair();
        sel.register(idle[0], READ);
        run.notReady(sel, idle[0], "writable, READ asked");

        int[] hung = run.fds().socketPair();
        sel.register(hung[0], WRITE);
        run.fds().close(hung[1]);
        seen = run.ready(sel, hung[0], WRITE, "peer closed, WRITE asked");
        run.without(seen, READ, "a WRITE-only key whose peer hung up");
        run.flagsIfDeclared(seen, HANGUP, Capability.ERROR_HANGUP, "a hang-up within the interest");
    }

    /**
     * A hung-up key whose interest excludes both directions must go quiet, not spin. Only PRIORITY-only
     * interest or a disarmed ONESHOT key can exclude both: checked where declared. poll(2) returns POLLHUP
     * whatever the entry asked for, so a backend that keeps such an entry in the set returns from every
     * wait at once, reports nothing, and busy-loops to the timeout: {@link Waits#idles} measures it.
     */
    static void noSpin(Run run) throws Exception {
        boolean checked = false;
        if (run.supports(Capability.PRIORITY)) {
            Selector sel = run.open();
            int[] sp = run.fds().socketPair();
            sel.register(sp[0], PRIORITY);
            run.fds().close(sp[1]); // AF_UNIX: the peer's close is POLLHUP at once (rule UNIX-HUP)
            Waits.idles(run, sel, "PRIORITY key, peer closed");
            assertThat(sel.key(sp[0]).isValid()).as("the quiet key stays registered").isTrue();
            checked = true;
        }
        if (run.supports(Capability.ONESHOT)) {
            Selector sel = run.open();
            int[] sp = run.fds().socketPair();
            Fds.write(sp[1], 1);
            sel.register(sp[0], READ | ONESHOT);
            Expect.ready(sel, sp[0], READ);
            run.fds().close(sp[1]);
            Waits.idles(run, sel, "ONESHOT key fired, then peer closed");
            sel.modify(sp[0], READ | ONESHOT);
            run.ready(sel, sp[0], READ, "re-armed");
            checked = true;
        }
        if (!checked) {
            run.note("declares neither PRIORITY nor ONESHOT: no interest can exclude both R and W");
        }
    }

    /**
     * Readiness in a direction the key did not ask for wakes nothing. An idle socket is writable and not
     * readable; one whose send buffer is full with data queued to it is readable and not writable (a
     * selector asked for both shows it). A READ key on the first and a WRITE key on the second must let
     * the select sleep its whole timeout ({@link Waits#idles}). A backend that asks the kernel for both
     * directions for every key and drops what the key did not ask for reports the same nothing, but each
     * wait returns at once and the select busy-loops to its timeout.
     */
    static void unasked(Run run) throws Exception {
        int[] idle = run.fds().socketPair();
        int[] full = run.fds().socketPair();
        assertThat(Fds.fill(full[0])).as("bytes written until EAGAIN").isPositive();
        Kit.send(full[1], 1);
        Selector both = run.open();
        both.register(idle[0], READ | WRITE);
        both.register(full[0], READ | WRITE);
        run.without(run.ready(both, idle[0], WRITE, "idle, READ and WRITE asked"), READ, "an idle socket");
        run.without(run.ready(both, full[0], READ, "send buffer full, 1 byte queued, READ and WRITE asked"), WRITE,
                "a socket whose send buffer is full");

        Selector sel = run.open();
        sel.register(idle[0], READ);
        Waits.idles(run, sel, "writable, not readable, READ asked");
        sel.unregister(idle[0]);
        sel.register(full[0], WRITE);
        Waits.idles(run, sel, "readable, not writable, WRITE asked");
    }

    /**
     * Closed behind the selector's back, while a select waits. Closing wakes no wait (the waiting call
     * holds its own reference to the file). At its timeout the waiting call looks at the descriptor again
     * and finds it gone (fs/select.c): select(2) sets it in every set it was asked in (POLLNVAL counts as
     * readable), so the key is reported with its directions; poll(2) reports POLLNVAL, an ERROR on the
     * key; epoll(7) has forgotten the file. What the calls after it say is {@link #reportOfClosed}. io_uring
     * (held to poll's column) differs: its poll in flight holds the file, so nothing is reported, by the waiting
     * call or the next, until unregister.
     */
    static void closedFd(Run run) throws Exception {
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        sel.register(p[0], READ);
        long timeout = 800;
        // The select runs in the scenario's thread, like every select of it (a selector may take selects from
        // its first selecting thread only: uring-single); another thread closes the descriptor under it.
        CompletableFuture<Void> closer = Async.run(() -> {
            Fds.sleep(200); // time to block in the kernel
            try {
                run.fds().close(p[0]);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        long start = System.nanoTime();
        Waited w;
        try {
            w = new Waited(sel.select(Duration.ofMillis(timeout)), Expect.millisSince(start));
        } catch (IOException e) {
            throw new IllegalStateException("the select that was waiting when fd " + p[0] + " was closed "
                    + "must return normally, at its timeout: " + e.getMessage(), e);
        }
        closer.get(30, TimeUnit.SECONDS);
        List<Ready> got = w.got();
        long millis = w.millis();
        int seen = got.stream().filter(r -> r.fd() == p[0]).mapToInt(Ready::events).findFirst().orElse(0);
        run.note("closed 200 ms into a " + timeout + " ms select, which returned after " + millis + " ms: "
                + Run.notation(seen));
        assertThat(millis).as("closing in another thread wakes no select").isGreaterThanOrEqualTo(timeout - 20);
        Mechanism family = run.mechanism();
        if (family == Mechanism.SELECT) {
            assertThat(Events.toString(seen & READ))
                    .as("%s: the select that was waiting reports the closed fd %d with its interest, READ "
                            + "(select(2) set it in readfds)", run.backend(), p[0]).isEqualTo(Events.toString(READ));
        } else if (run.family().equals(Mechanism.URING)) {
            // io_uring's poll in flight holds a reference to the file (io_uring's req->file), so close(2)
            // does not release it: no POLLNVAL, no wake-up, the pipe stays open until the poll is removed.
            assertThat(got).as("%s: the poll in flight holds the closed fd %d's file: nothing", run.backend(), p[0])
                    .isEmpty();
        } else if (family == Mechanism.POLL) {
            assertThat(Events.toString(seen & (READ | ERROR)))
                    .as("%s: the poll that was waiting reports the closed fd %d (POLLNVAL) as an ERROR on its "
                            + "key", run.backend(), p[0]).isEqualTo(Events.toString(READ | ERROR));
        } else {
            assertThat(got).as("%s: epoll forgot the closed fd %d", run.backend(), p[0]).isEmpty();
        }
        if (run.family().equals(Mechanism.URING)) {
            // Still armed, still holding the file: nothing until unregister, whose next wait removes the poll.
            Expect.idles(sel, 200, 150);
            run.note("the next select: nothing, no spin (the poll in flight holds the file until unregister)");
        } else {
            reportOfClosed(run, sel, p[0], "the next select");
        }
        SelectorKey key = sel.unregister(p[0]);
        assertThat(key.fd()).as("unregister still works").isEqualTo(p[0]);
        Expect.idles(sel, 200, 150);
    }

    /** What a select returned, and after how long. */
    private record Waited(List<Ready> got, long millis) {
    }

    /**
     * What the next select says of a registered fd number that no longer refers to what was registered:
     * select and poll name it (an error naming the fd, or ERROR on its key); epoll reports nothing and does
     * not spin.
     */
    private static void reportOfClosed(Run run, Selector sel, int fd, String what) throws Exception {
        if (run.mechanism() == Mechanism.EPOLL) {
            Expect.idles(sel, 200, 150);
            run.note(what + ": nothing, no spin");
            return;
        }
        try {
            int seen = 0;
            for (Ready r : sel.select(Duration.ofMillis(500))) {
                if (r.fd() == fd) {
                    seen = r.events();
                }
            }
            assertThat(seen & ERROR).as("%s: the closed fd %d is reported as an ERROR on its key", what, fd)
                    .isEqualTo(ERROR);
            run.see(what, seen);
        } catch (NativeIOException e) {
            assertThat(e.getMessage()).as("the error names the closed fd").contains(String.valueOf(fd));
            run.note(what + ": " + e.getMessage());
        }
    }

    /**
     * epoll(7) Q&A 6: a registration lives as long as the open file description, not the fd number. Under
     * epoll the registered number is "closed" by dup2(2) of another file onto it, which closes and reuses
     * it in one step: a number left free would be handed to whatever another thread of the JVM opens next
     * (the JVM reads cgroup files now and then), and a dup2 onto it later would close that thread's file.
     */
    static void closeDup(Run run) throws Exception {
        Selector sel = run.open();
        int[] s = run.fds().socketPair();
        sel.register(s[0], READ);
        int copy = run.fds().track(Descriptors.dup(s[0]));
        if (run.mechanism() != Mechanism.EPOLL) {
            run.fds().close(s[0]);
            Kit.send(s[1], 1);
            // Keyed by fd number: the number is closed, whatever its copies do.
            reportOfClosed(run, sel, s[0], "registered number closed, a dup open");
            sel.unregister(s[0]);
            return;
        }
        int[] q = run.fds().pipe(); // the new file the number will name, never registered
        Descriptors.dup2(q[0], s[0]); // the registered number's file closed, the number reused at once
        Kit.send(s[1], 1);
        run.ready(sel, s[0], READ, "registered number closed, a dup open");
        assertThat(Fds.read(copy, 16)).as("the data, read through the copy").isEqualTo(1);
        run.fds().close(copy);
        Expect.idles(sel, 200, 150);
        run.note("last copy closed: nothing, no spin");

        // The reused number is a new file that was never registered.
        Fds.write(q[1], 1);
        List<Ready> got = sel.select(Duration.ofMillis(200));
        assertThat(got).as("a new file under a registered number is not reported").isEmpty();
        run.note("number reused by another file: -");
        sel.unregister(s[0]);
        sel.register(s[0], READ);
        run.ready(sel, s[0], READ, "the new file, once registered");
    }
}
