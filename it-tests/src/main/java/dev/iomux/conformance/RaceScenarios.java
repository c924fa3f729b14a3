package dev.iomux.conformance;

import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.conformance.Scenarios.uses;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.SelectorClosedException;
import dev.iomux.SelectorKey;
import dev.iomux.internal.Native;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;

/**
 * Section 10 of the catalog: races between the selecting thread and the others, patterned on the JDK's
 * Selector tests (SelectAndClose, RacyDeregister, RegAfterPreClose, RaceUpdatesAndClose) and on races that
 * hung, deadlocked or failed iomux's own backends. Each runs rounds bounded in count and time through
 * {@link Race}, which turns a hang into a failure with the stack traces of the threads involved.
 *
 * <p>The gaps between the racing calls are random (a fixed seed; the interleavings are the scheduler's),
 * spun rather than slept: the windows these races hit are a few microseconds wide.
 */
final class RaceScenarios {
    private static final long SEED = 0x5E1EC7L;

    private RaceScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("RACE-CLOSE-WAKEUP", uses(Uses.PIPE, Uses.THREADS), RaceScenarios::closeWakeup);
        b.rule("RACE-CLOSE-CONCURRENT", uses(Uses.PIPE, Uses.THREADS), RaceScenarios::closeConcurrent);
        b.rule("RACE-CLOSE-CROSS", uses(Uses.PIPE, Uses.THREADS), RaceScenarios::closeCross);
        b.rule("RACE-REGISTER-CLOSE", uses(Uses.PIPE, Uses.THREADS), RaceScenarios::registerClose);
        b.rule("RACE-MODIFY-DELIVERED", uses(Uses.UNIX, Uses.THREADS), RaceScenarios::modifyDelivered);
        b.rule("RACE-FD-REUSE", uses(Uses.PIPE, Uses.THREADS), RaceScenarios::fdReuse);
        b.rule("RACE-OWN-FDS", uses(Uses.PIPE, Uses.THREADS), RaceScenarios::ownFds);
    }

    /**
     * A select blocked without a timeout (or with one far longer than a hang), another thread registers
     * or modifies a key, which wakes select and poll to apply it, and closes the selector a few
     * microseconds later: close must return and the select fail as closed. A close that lands after the
     * woken select checked for it and before it drained the wake-up finds the wake-up still pending and
     * signals nothing; the select then goes back to sleep and close waits for it forever.
     */
    static void closeWakeup(Run run) throws Exception {
        try (Race race = new Race(run, "RACE-CLOSE-WAKEUP", 100_000, 1_500)) {
            ExecutorService selecting = race.thread("selecting");
            ExecutorService closing = race.thread("closing");
            // Never written: only close() can end the select. A pipe's read end is never writable either
            // (pipe(7): the space is the write end's), so READ|WRITE is a change that wakes select and
            // poll to apply it and still reports nothing.
            int[] p = run.fds().pipe();
            SplittableRandom random = new SplittableRandom(SEED);
            long slowestClose = 0;
            while (race.more()) {
                long round = race.round();
                boolean modify = (round & 1) == 0;
                boolean timed = (round & 2) == 0;
                String kind = (modify ? "modify" : "register") + " then close() from another thread, racing a select "
                        + (timed ? "with a 60 s timeout" : "without a timeout");
                Selector sel = race.open();
                if (modify) {
                    sel.register(p[0], READ);
                }
                CountDownLatch started = new CountDownLatch(1);
                Future<Throwable> select = race.submit(selecting, () -> {
                    started.countDown();
                    try {
                        List<Ready> got = timed ? sel.select(Duration.ofSeconds(60)) : sel.select();
                        return new AssertionError("the select returned " + got + " instead of failing as closed");
                    } catch (SelectorClosedException expected) {
                        return null;
                    } catch (Throwable t) {
                        return t;
                    }
                });
                long toKernel = random.nextLong(100_000); // most rounds: the select is in the kernel by then
                long gap = random.nextLong(60_001);
                Future<Long> close = race.submit(closing, () -> {
                    started.await();
                    Race.spin(toKernel);
                    if (modify) {
                        sel.modify(p[0], READ | WRITE);
                    } else {
                        sel.register(p[0], READ);
                    }
                    Race.spin(gap);
                    long start = System.nanoTime();
                    sel.close();
                    return System.nanoTime() - start;
                });
                slowestClose = Math.max(slowestClose, race.await(close, "close() (" + kind + ")"));
                Throwable failed = race.await(select, "the select (" + kind + ")");
                if (failed != null) {
                    throw new AssertionError(run.backend() + ", round " + round + " (" + kind + "): the select must "
                            + "fail with SelectorClosedException (CLOSE-WAKES): " + failed, failed);
                }
                race.closed(sel);
            }
            run.note(race.round() + " rounds in " + race.millis() + " ms: every close() returned (slowest "
                    + slowestClose / 1000 + " us) and every select failed as closed");
        }
    }

    /** How long the handler of RACE-CLOSE-CONCURRENT takes: the first close() waits that long. */
    private static final long SLOW_HANDLER_MILLIS = 100;

    /**
     * A ReadyHandler is slow; one thread closes the selector and waits for the select to end; a second
     * thread closes it too. Every close() returns only once the selector's descriptors and native memory
     * are released: a second close() that returns at once, with them still held, lets its caller believe
     * they are free (and, say, count them, or unload what they point into).
     */
    static void closeConcurrent(Run run) throws Exception {
        try (Race race = new Race(run, "RACE-CLOSE-CONCURRENT", 5, 5_000)) {
            ExecutorService selecting = race.thread("selecting");
            ExecutorService first = race.thread("first-close");
            ExecutorService second = race.thread("second-close");
            int[] p = run.fds().pipe();
            Fds.write(p[1], 1); // stays readable: the handler runs at once in every round
            String held = "";
            while (race.more()) {
                Map<Integer, String> before = LeakCheck.openDescriptors();
                long blocksBefore = NativeBuffer.liveBlocks();
                Selector sel = race.open();
                Map<Integer, String> own = LeakCheck.leaked(before, LeakCheck.openDescriptors());
                held = describe(own, NativeBuffer.liveBlocks() - blocksBefore);
                sel.register(p[0], READ);
                CountDownLatch inHandler = new CountDownLatch(1);
                Future<Integer> select = race.submit(selecting, () -> {
                    try {
                        return sel.select(Race.HANG_MILLIS, TimeUnit.MILLISECONDS, (key, events) -> {
                            inHandler.countDown();
                            Fds.sleep(SLOW_HANDLER_MILLIS);
                        });
                    } catch (SelectorClosedException e) {
                        return -1;
                    }
                });
                race.await(inHandler, "the handler");
                Future<String> firstClose = race.submit(first, () -> {
                    sel.close();
                    return stillHeld(own, blocksBefore);
                });
                long deadline = System.nanoTime() + Race.HANG_MILLIS * 1_000_000;
                while (sel.isOpen()) { // false from the moment the first close() begins
                    if (System.nanoTime() - deadline > 0) {
                        throw race.hang("the first close() did not mark the selector closed");
                    }
                    Thread.onSpinWait();
                }
                Future<String> secondClose = race.submit(second, () -> {
                    sel.close();
                    return stillHeld(own, blocksBefore);
                });
                String atSecond = race.await(secondClose, "the second close()");
                String atFirst = race.await(firstClose, "the first close()");
                race.await(select, "the select whose handler is slow");
                race.closed(sel);
                String context = run.backend() + ", round " + race.round() + ": while a first close() waited for a "
                        + SLOW_HANDLER_MILLIS + " ms ReadyHandler to return, ";
                if (!atSecond.isEmpty()) {
                    throw new AssertionError(context + "a second close() from another thread returned with the "
                            + "selector still holding " + atSecond + ": close() must return only once they are "
                            + "released (API-CLOSE)");
                }
                if (!atFirst.isEmpty()) {
                    throw new AssertionError(context + "the first close() returned with the selector still holding "
                            + atFirst);
                }
            }
            run.note(race.round() + " rounds: both close() calls returned with everything released (" + held + ")");
        }
    }

    /** What of a selector's descriptors and native blocks is still held now; "" if nothing is. */
    private static String stillHeld(Map<Integer, String> own, long blocksBefore) throws IOException {
        Map<Integer, String> now = LeakCheck.openDescriptors();
        Map<Integer, String> open = new TreeMap<>();
        own.forEach((fd, target) -> {
            if (target.equals(now.get(fd))) {
                open.put(fd, target);
            }
        });
        long blocks = NativeBuffer.liveBlocks() - blocksBefore;
        return open.isEmpty() && blocks <= 0 ? "" : describe(open, blocks);
    }

    private static String describe(Map<Integer, String> fds, long blocks) {
        return fds.size() + " descriptor(s) " + fds + " and " + Math.max(0, blocks) + " native block(s)";
    }

    /**
     * Two event loops, each on its own selector, whose handlers close each other's selector, both at
     * once (a barrier makes sure of it): both close() calls return, and both loops end, their selects
     * failing as closed. A close() that waits for the other select to end while its own caller is a
     * handler holding its own select deadlocks here.
     */
    static void closeCross(Run run) throws Exception {
        try (Race race = new Race(run, "RACE-CLOSE-CROSS", 20, 5_000)) {
            ExecutorService loopA = race.thread("loop-a");
            ExecutorService loopB = race.thread("loop-b");
            int[] pa = run.fds().pipe();
            int[] pb = run.fds().pipe();
            Fds.write(pa[1], 1);
            Fds.write(pb[1], 1);
            while (race.more()) {
                Selector a = race.open();
                Selector b = race.open();
                a.register(pa[0], READ);
                b.register(pb[0], READ);
                CyclicBarrier inBoth = new CyclicBarrier(2);
                Future<Void> endA = race.submit(loopA, () -> closingLoop(a, b, inBoth));
                Future<Void> endB = race.submit(loopB, () -> closingLoop(b, a, inBoth));
                race.await(endA, "event loop A (its handler closes B's selector while B's handler closes A's)");
                race.await(endB, "event loop B (its handler closes A's selector while A's handler closes B's)");
                race.closed(a);
                race.closed(b);
            }
            run.note(race.round() + " rounds: both handlers' close() calls returned and both loops ended");
        }
    }

    /** Selects on {@code own} until it is closed; the first handler call closes {@code other}. */
    private static Void closingLoop(Selector own, Selector other, CyclicBarrier inBoth) throws Exception {
        boolean[] closedOther = {false};
        for (;;) {
            try {
                own.select(Race.HANG_MILLIS, TimeUnit.MILLISECONDS, (key, events) -> {
                    if (!closedOther[0]) {
                        try {
                            inBoth.await(Race.HANG_MILLIS, TimeUnit.MILLISECONDS);
                        } catch (Exception e) {
                            throw new IllegalStateException("the other loop's handler never ran", e);
                        }
                        other.close();
                        closedOther[0] = true;
                    }
                });
            } catch (SelectorClosedException e) {
                if (!closedOther[0]) {
                    throw new AssertionError("the loop ended before its handler closed the other selector", e);
                }
                return null;
            }
        }
    }

    /**
     * register, modify or unregister from one thread races close() from another, while a third selects:
     * each call returns normally or fails with SelectorClosedException, nothing else; the select fails as
     * closed; afterwards every key is invalid. The JDK's RegAfterPreClose and RaceUpdatesAndClose.
     */
    static void registerClose(Run run) throws Exception {
        try (Race race = new Race(run, "RACE-REGISTER-CLOSE", 3_000, 500)) {
            ExecutorService selecting = race.thread("selecting");
            ExecutorService updating = race.thread("updating");
            ExecutorService closing = race.thread("closing");
            int[] p = run.fds().pipe();
            int[] q = run.fds().pipe();
            String[] ops = {"register", "modify", "unregister"};
            long[] returned = new long[3];
            long[] refused = new long[3];
            SplittableRandom random = new SplittableRandom(SEED);
            while (race.more()) {
                int op = (int) (race.round() % 3);
                Selector sel = race.open();
                SelectorKey first = sel.register(p[0], READ);
                Future<Throwable> select = race.submit(selecting, () -> {
                    try {
                        return new AssertionError("the select returned " + sel.select() + " instead of failing as closed");
                    } catch (SelectorClosedException expected) {
                        return null;
                    }
                });
                long updateAfter = random.nextLong(50_000);
                long closeAfter = random.nextLong(50_000);
                Future<SelectorKey> update = race.submit(updating, () -> {
                    Race.spin(updateAfter);
                    try {
                        return switch (op) {
                            case 0 -> sel.register(q[0], READ);
                            case 1 -> sel.modify(p[0], READ | WRITE);
                            default -> sel.unregister(p[0]);
                        };
                    } catch (SelectorClosedException e) {
                        return null;
                    }
                });
                Future<Object> close = race.submit(closing, () -> {
                    Race.spin(closeAfter);
                    sel.close();
                    return null;
                });
                String what = ops[op] + " racing close()";
                race.await(close, "close() (" + what + ")");
                SelectorKey key = race.await(update, ops[op] + " (racing close())");
                Throwable failed = race.await(select, "the select (" + what + ")");
                if (failed != null) {
                    throw new AssertionError(run.backend() + ", round " + race.round() + " (" + what + "): " + failed, failed);
                }
                race.closed(sel);
                if (key == null) {
                    refused[op]++;
                } else {
                    returned[op]++;
                    if (key.isValid()) {
                        throw new AssertionError(run.backend() + ", round " + race.round() + ": the key " + ops[op]
                                + " returned is still valid after close()");
                    }
                }
                if (first.isValid()) {
                    throw new AssertionError(run.backend() + ", round " + race.round() + ": a key registered before "
                            + "close() is still valid after it (" + what + ")");
                }
            }
            StringBuilder note = new StringBuilder(race.round() + " rounds:");
            for (int i = 0; i < 3; i++) {
                note.append(i == 0 ? " " : ", ").append(ops[i]).append(" returned ").append(returned[i])
                        .append(" / failed as closed ").append(refused[i]);
            }
            run.note(note.toString());
        }
    }

    /**
     * RacyDeregister: while one thread blocks in select (no timeout), another changes a key's interest
     * from READ to READ|WRITE on a socket that is writable; the select in progress (or the next) must
     * report it, every round: a change lost between the other thread and the blocked select stalls the
     * loop for good. The selecting thread then puts READ back, alternately by modify and by unregister
     * and register again.
     */
    static void modifyDelivered(Run run) throws Exception {
        try (Race race = new Race(run, "RACE-MODIFY-DELIVERED", 5_000, 500)) {
            ExecutorService selecting = race.thread("selecting");
            ExecutorService changing = race.thread("changing");
            int[] pair = run.fds().socketPair(); // pair[0]: writable, never readable (nothing is sent to it)
            int fd = pair[0];
            Selector sel = race.open();
            sel.register(fd, READ);
            SplittableRandom random = new SplittableRandom(SEED);
            while (race.more()) {
                CountDownLatch started = new CountDownLatch(1);
                Future<List<Ready>> select = race.submit(selecting, () -> {
                    started.countDown();
                    return sel.select();
                });
                long after = random.nextLong(100_000);
                Future<SelectorKey> change = race.submit(changing, () -> {
                    started.await();
                    Race.spin(after);
                    return sel.modify(fd, READ | WRITE);
                });
                race.await(change, "modify() from another thread");
                List<Ready> got = race.await(select, "the select without timeout, which a modify to READ|WRITE of "
                        + "a writable socket from another thread must end (the change was lost)");
                if (got.size() != 1 || got.get(0).fd() != fd || !got.get(0).isWritable()) {
                    throw new AssertionError(run.backend() + ", round " + race.round() + ": expected fd " + fd
                            + " writable, got " + got);
                }
                if ((race.round() & 1) == 0) {
                    sel.modify(fd, READ);
                } else {
                    sel.unregister(fd);
                    sel.register(fd, READ);
                }
            }
            sel.close();
            race.closed(sel);
            run.note(race.round() + " rounds in " + race.millis() + " ms: every change reached the blocked select");
        }
    }

    /**
     * While a loop selects, another thread registers a fresh pipe's read end (which wakes select and poll
     * to apply it), unregisters it a few microseconds later, closes it, and opens the next pipe, which
     * takes the same number (open(2): the lowest free descriptor). No select may fail, and nothing may be
     * reported for the churned descriptors, which are never readable while registered. select(2) fails
     * with EBADF when a descriptor of its sets was closed after the backend copied them and before the
     * call; by the time the backend looks for the closed one, the number is open again.
     */
    static void fdReuse(Run run) throws Exception {
        try (Race race = new Race(run, "RACE-FD-REUSE", 1_000_000, 2_000)) {
            ExecutorService selecting = race.thread("selecting");
            ExecutorService churning = race.thread("churning");
            Selector sel = race.open();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong failures = new AtomicLong();
            Queue<Throwable> firstFailures = new ConcurrentLinkedQueue<>();
            Queue<String> reported = new ConcurrentLinkedQueue<>();
            Future<Void> loop = race.submit(selecting, () -> {
                while (!stop.get()) {
                    try {
                        sel.select(1, TimeUnit.SECONDS, (key, events) -> {
                            if (reported.size() < 5) {
                                reported.add("fd " + key.fd() + ": " + Events.toString(events));
                            }
                        });
                    } catch (IOException | RuntimeException e) {
                        if (failures.incrementAndGet() <= 3) {
                            firstFailures.add(e);
                        }
                    }
                }
                return null;
            });
            Future<Void> churn = race.submit(churning, () -> {
                SplittableRandom random = new SplittableRandom(SEED);
                while (race.more()) {
                    // The gap before unregister is about the time the selecting thread takes to wake and
                    // copy its sets, which depends on the machine: its range changes every 500 cycles.
                    long gap = FD_REUSE_GAPS[(int) (race.round() / 500 % FD_REUSE_GAPS.length)];
                    int[] q = Descriptors.pipe();
                    try {
                        sel.register(q[0], READ); // never written: never readable while registered
                        Race.spin(random.nextLong(gap));
                        sel.unregister(q[0]);
                    } finally {
                        Native.closeQuietly(q[0]);
                        Native.closeQuietly(q[1]);
                    }
                    Race.spin(random.nextLong(3_000));
                }
                return null;
            });
            try {
                race.awaitProgress(churn, race::round, "the churn (register, unregister, close, reopen)");
            } finally {
                stop.set(true);
                sel.wakeup();
            }
            race.await(loop, "the select loop");
            sel.close();
            race.closed(sel);
            String counts = race.round() + " cycles of register, unregister, close and reopen (same number) in "
                    + race.millis() + " ms";
            if (failures.get() > 0) {
                Throwable firstFailure = firstFailures.peek();
                AssertionError e = new AssertionError(run.backend() + ": " + failures.get() + " select(s) failed in "
                        + counts + "; first: " + firstFailure, firstFailure);
                firstFailures.stream().skip(1).forEach(e::addSuppressed);
                throw e;
            }
            if (!reported.isEmpty()) {
                throw new AssertionError(run.backend() + ": reported churned descriptors, which were never readable "
                        + "while registered: " + reported + " (" + counts + ")");
            }
            run.note(counts + ": no select failed, nothing reported");
        }
    }

    /** The ranges of RACE-FD-REUSE's gap between register and unregister, in nanoseconds. */
    private static final long[] FD_REUSE_GAPS = {2_000, 5_000, 10_000, 20_000, 50_000};

    /** Readable pipes RACE-OWN-FDS registers and unregisters, one at a time, in turn. */
    private static final int LOAD_PIPES = 2;
    /** How long the churn of RACE-OWN-FDS lets the selecting thread settle back into the kernel. */
    private static final long SETTLE_NANOS = 30_000;

    /**
     * Under ordinary load (another thread registering readable pipes and unregistering them a moment
     * later while a loop selects; nothing is closed) the selector keeps its own descriptors: the same
     * numbers, pointing at the same kind of object, before and after (and in samples taken meanwhile).
     * A backend that replaces its kernel object (epoll: a new epoll instance) when a wait brings only
     * events of keys unregistered since has mistaken ordinary churn for the closed-while-duplicated
     * descriptor that needs it (epoll(7) Q6, CLOSE-DUP).
     *
     * <p>Such events come when an unregister lands between the kernel handing an event over and the
     * selector looking its key up, a window of a microsecond or two after the selecting thread wakes.
     * The churn aims at it: it lengthens the gap between register and unregister while the loop does not
     * see the pipe (unregistered before the kernel handed the event over, or in the window), and
     * shortens it when the loop did see it (too late), so the gap hovers at the window's edge whatever
     * the thread's wake-up latency on this machine.
     */
    static void ownFds(Run run) throws Exception {
        try (Race race = new Race(run, "RACE-OWN-FDS", 10_000_000, 3_000)) {
            ExecutorService selecting = race.thread("selecting");
            ExecutorService churning = race.thread("churning");
            int[][] pipes = new int[LOAD_PIPES][];
            for (int i = 0; i < LOAD_PIPES; i++) {
                pipes[i] = run.fds().pipe();
                Fds.write(pipes[i][1], 1); // readable, and left so: reported whenever registered
            }
            // Free numbers below the selector's own: a descriptor made anew takes the lowest free number
            // (open(2)), so one that replaces the selector's lands at another number, however often it
            // is replaced, and the listing at the end shows it.
            List<int[]> holes = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                holes.add(run.fds().pipe());
            }
            Map<Integer, String> beforeOpen = LeakCheck.openDescriptors();
            Selector sel = race.open();
            Map<Integer, String> own = LeakCheck.leaked(beforeOpen, LeakCheck.openDescriptors());
            for (int[] h : holes) {
                run.fds().close(h[0]);
                run.fds().close(h[1]);
            }
            Map<Integer, String> baseline = LeakCheck.openDescriptors();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong selects = new AtomicLong();
            AtomicLong seen = new AtomicLong();
            Future<Void> loop = race.submit(selecting, () -> {
                while (!stop.get()) {
                    sel.select(100, TimeUnit.MILLISECONDS, (key, events) -> seen.incrementAndGet());
                    selects.incrementAndGet();
                }
                return null;
            });
            long[] gapNanos = {0};
            Future<Void> churn = race.submit(churning, () -> {
                while (race.more()) {
                    int fd = pipes[(int) (race.round() % LOAD_PIPES)][0];
                    long seenBefore = seen.get();
                    sel.register(fd, READ);
                    Race.spin(gapNanos[0]);
                    sel.unregister(fd);
                    LockSupport.parkNanos(SETTLE_NANOS); // not a spin: the selecting thread may need this CPU
                    gapNanos[0] = seen.get() != seenBefore ? Math.max(0, gapNanos[0] - 2_000)
                            : Math.min(gapNanos[0] + 50, 1_000_000);
                }
                return null;
            });
            long samples = 0;
            long changed = 0;
            String firstChange = "";
            try {
                while (!churn.isDone()) {
                    String diff = Race.changes(baseline, LeakCheck.openDescriptors());
                    samples++;
                    if (!diff.isEmpty() && changed++ == 0) {
                        firstChange = diff + " at " + race.millis() + " ms, round " + race.round();
                    }
                    race.progressing(race.round(), "the churn (register and unregister)");
                    Fds.sleep(50);
                }
                race.await(churn, "the churn");
            } finally {
                stop.set(true);
            }
            race.await(loop, "the select loop");
            String atEnd = Race.changes(baseline, LeakCheck.openDescriptors());
            sel.close();
            race.closed(sel);
            String counts = race.round() + " registers of " + LOAD_PIPES + " readable pipes, each unregistered a "
                    + "moment later (" + gapNanos[0] / 1000 + " us at the end), in " + race.millis() + " ms; "
                    + selects.get() + " selects delivered " + seen.get() + " keys";
            if (changed > 0 || !atEnd.isEmpty()) {
                throw new AssertionError(run.backend() + ": the selector's own descriptors " + own + " changed under "
                        + "register/unregister load, nothing closed: " + changed + " of " + samples
                        + " samples differed" + (changed > 0 ? ", first " + firstChange : "") + "; at the end: "
                        + (atEnd.isEmpty() ? "as before" : atEnd) + " (" + counts + ")");
            }
            run.note(counts + ": the selector's descriptors " + own + " never changed (" + samples + " samples)");
        }
    }
}
