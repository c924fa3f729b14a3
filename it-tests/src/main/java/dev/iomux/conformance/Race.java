package dev.iomux.conformance;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import dev.iomux.Selector;
import dev.iomux.testing.Fds;

/**
 * The harness of the race scenarios (section 10 of the catalog): rounds bounded in count and in time,
 * the racing calls on threads of the scenario's own, and every wait bounded, so that a hang fails within
 * {@link #HANG_MILLIS} with the stack traces of the scenario's threads instead of stopping the build.
 *
 * <p>A normal run is a few seconds per backend. For a long run, {@code -Diomux.race.millis=N} gives every
 * race scenario N ms (and no round limit), {@code -Diomux.race.rounds=N} gives each N rounds (and no time
 * limit); with both, whichever ends first.
 *
 * <p>Selectors that race with close are opened with {@link #open()}, not {@link Run#open()}: the run
 * closes its selectors when the scenario ends, and a close that hangs must not hang the run's clean-up.
 */
final class Race implements AutoCloseable {
    /** System property: each race scenario's time budget in milliseconds, for long runs. */
    static final String MILLIS_PROPERTY = "iomux.race.millis";
    /** System property: each race scenario's number of rounds, for long runs. */
    static final String ROUNDS_PROPERTY = "iomux.race.rounds";
    /** Any single wait of a race longer than this is a hang: no call of the API takes a second. */
    static final long HANG_MILLIS = 10_000;
    /** After a hang, how long the threads are given to come free once the selectors are woken. */
    private static final long RESCUE_MILLIS = 2_000;
    /** Frames printed per stuck thread. */
    private static final int FRAMES = 30;

    private final Run run;
    private final String ruleId;
    private final boolean timed;
    private final long endNanos;
    private final long maxRounds;
    private final long start = System.nanoTime();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final List<ExecutorService> executors = new ArrayList<>();
    private final Set<Selector> watched = ConcurrentHashMap.newKeySet();
    private final AtomicInteger busy = new AtomicInteger();
    private volatile long round;
    private long lastSteps = -1;
    private long stepsSince;

    /**
     * @param run           the scenario's run
     * @param ruleId        the rule, for thread names and messages
     * @param defaultRounds the scenario's rounds in a normal run
     * @param defaultMillis its time budget in a normal run
     */
    Race(Run run, String ruleId, long defaultRounds, long defaultMillis) {
        this.run = run;
        this.ruleId = ruleId;
        Long millis = Long.getLong(MILLIS_PROPERTY);
        Long rounds = Long.getLong(ROUNDS_PROPERTY);
        if (millis == null && rounds == null) {
            millis = defaultMillis;
            rounds = defaultRounds;
        }
        this.timed = millis != null;
        this.endNanos = timed ? start + millis * 1_000_000 : 0;
        this.maxRounds = rounds == null ? Long.MAX_VALUE : rounds;
    }

    /**
     * @return the seconds a long run asks for beyond a normal one: the budget of -Diomux.race.millis,
     *         or a day for -Diomux.race.rounds alone (the rounds take what they take; a hang still fails
     *         within {@link #HANG_MILLIS}); 0 in a normal run
     */
    static long longRunSeconds() {
        Long millis = Long.getLong(MILLIS_PROPERTY);
        if (millis != null) {
            return millis / 1000;
        }
        return Long.getLong(ROUNDS_PROPERTY) != null ? TimeUnit.DAYS.toSeconds(1) : 0;
    }

    /**
     * @return true, counting a new round, while the round limit and the time budget allow one; several
     *         threads of the race may count rounds together
     */
    synchronized boolean more() {
        if (round >= maxRounds || (timed && round > 0 && System.nanoTime() - endNanos > 0)) {
            return false;
        }
        round++;
        return true;
    }

    /** @return the current round, from 1 */
    long round() {
        return round;
    }

    /** @return the milliseconds since the race began */
    long millis() {
        return (System.nanoTime() - start) / 1_000_000;
    }

    /**
     * Opens a selector of the backend under test that this race closes itself, and that is woken (after
     * the stack traces are taken) if the race hangs, so that stuck threads may come free.
     */
    Selector open() throws IOException {
        Selector s = run.provider().open();
        watched.add(s);
        return s;
    }

    /** Forgets a selector opened with {@link #open()} once the round closed it. */
    void closed(Selector s) {
        watched.remove(s);
    }

    /**
     * Returns a thread of the scenario's own for one role (selecting, closing, ...): a single-thread
     * executor whose thread is named after the rule, the backend and the role.
     */
    ExecutorService thread(String role) {
        ExecutorService e = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "iomux-" + ruleId + "-" + run.backend() + "-" + role);
            t.setDaemon(true);
            threads.add(t);
            return t;
        });
        executors.add(e);
        return e;
    }

    /** Runs {@code task} on {@code thread}, counted as busy until it ends (see the rescue of a hang). */
    <T> Future<T> submit(ExecutorService thread, Callable<T> task) {
        busy.incrementAndGet();
        return thread.submit(() -> {
            try {
                return task.call();
            } finally {
                busy.decrementAndGet();
            }
        });
    }

    /**
     * Waits for a task of the race, at most {@link #HANG_MILLIS}.
     *
     * @param what what the task does, for the message ("close()", "the blocked select")
     * @return its result
     * @throws AssertionError with the stack traces of the scenario's threads if it did not end in time
     * @throws Exception      what the task threw
     */
    <T> T await(Future<T> task, String what) throws Exception {
        try {
            return task.get(HANG_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
                throw ex;
            }
            throw (Error) cause;
        } catch (TimeoutException e) {
            throw hang(what + " did not end within " + HANG_MILLIS + " ms");
        }
    }

    /**
     * Waits for a task that runs for the whole race (a loop of rounds) as long as it makes progress: it
     * is hung once {@code steps} stands still for {@link #HANG_MILLIS}, however long the race is.
     *
     * @param steps what the task has done so far (rounds, selects)
     * @param what  what the task does, for the message
     * @return its result
     * @throws Exception what the task threw
     */
    <T> T awaitProgress(Future<T> task, LongSupplier steps, String what) throws Exception {
        for (;;) {
            try {
                return task.get(20, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                return await(task, what); // rethrows the task's own exception
            } catch (TimeoutException e) {
                progressing(steps.getAsLong(), what);
            }
        }
    }

    /**
     * Fails as a hang if {@code steps} has not moved for {@link #HANG_MILLIS}; call it regularly while
     * waiting for a loop of the race.
     */
    void progressing(long steps, String what) {
        long now = System.nanoTime();
        if (steps != lastSteps) {
            lastSteps = steps;
            stepsSince = now;
        } else if (now - stepsSince > HANG_MILLIS * 1_000_000) {
            throw hang(what + " made no progress for " + HANG_MILLIS + " ms (stuck after " + steps + ")");
        }
    }

    /** Waits for a latch, at most {@link #HANG_MILLIS}; see {@link #await(Future, String)}. */
    void await(CountDownLatch latch, String what) throws InterruptedException {
        if (!latch.await(HANG_MILLIS, TimeUnit.MILLISECONDS)) {
            throw hang(what + " did not happen within " + HANG_MILLIS + " ms");
        }
    }

    /**
     * The failure of a hang: says what was stuck, in which round, and what each of the scenario's threads
     * was doing (Thread.getAllStackTraces). The stack traces are taken first; then every selector of the
     * race is woken and the threads get {@link #RESCUE_MILLIS} to come free, and the message says whether
     * they did (a lost wake-up) or not (a deadlock, or a wait no wake-up ends).
     */
    AssertionError hang(String what) {
        String stacks = stacks();
        for (Selector s : watched) {
            s.wakeup();
        }
        long deadline = System.nanoTime() + RESCUE_MILLIS * 1_000_000;
        while (busy.get() > 0 && System.nanoTime() - deadline < 0) {
            Fds.sleep(10);
        }
        String after = busy.get() == 0
                ? "after the stack traces were taken, wakeup() on the race's selectors let every thread finish"
                : busy.get() + " task(s) still stuck " + RESCUE_MILLIS + " ms after wakeup() on the race's "
                        + "selectors; their threads are left behind (daemon threads)";
        return new AssertionError(ruleId + " on " + run.backend() + ", round " + round + " (" + millis()
                + " ms into the race): " + what + " (a hang); " + after + ". The scenario's threads:\n" + stacks);
    }

    /** @return the stack traces of the threads this race started, by name */
    String stacks() {
        Map<String, String> byName = new TreeMap<>();
        Thread.getAllStackTraces().forEach((t, frames) -> {
            if (!threads.contains(t)) {
                return;
            }
            StringBuilder b = new StringBuilder("\"").append(t.getName()).append("\" ").append(t.getState());
            for (int i = 0; i < Math.min(FRAMES, frames.length); i++) {
                b.append("\n\tat ").append(frames[i]);
            }
            if (frames.length > FRAMES) {
                b.append("\n\t... ").append(frames.length - FRAMES).append(" more");
            }
            byName.put(t.getName() + "#" + t.getId(), b.toString());
        });
        return byName.isEmpty() ? "(none alive)" : String.join("\n", byName.values());
    }

    /**
     * The difference between two listings of /proc/self/fd ({@link dev.iomux.testing.LeakCheck#openDescriptors()}):
     * descriptors opened, closed or pointing elsewhere, ignoring the jar files the JVM opens as it loads
     * classes and the listing's own descriptor.
     *
     * @return e.g. {@code "+{9=anon_inode:[eventpoll]} -{6=anon_inode:[eventpoll]}"}, or "" if none
     */
    static String changes(Map<Integer, String> before, Map<Integer, String> after) {
        Map<Integer, String> added = new TreeMap<>();
        Map<Integer, String> removed = new TreeMap<>();
        after.forEach((fd, target) -> {
            if (!target.equals(before.get(fd)) && !ignored(target)) {
                added.put(fd, target);
            }
        });
        before.forEach((fd, target) -> {
            if (!target.equals(after.get(fd)) && !ignored(target)) {
                removed.put(fd, target);
            }
        });
        return (added.isEmpty() ? "" : "+" + added) + (added.isEmpty() || removed.isEmpty() ? "" : " ")
                + (removed.isEmpty() ? "" : "-" + removed);
    }

    /**
     * The JVM's own files: its jars, the listing of /proc/self/fd itself, and the files under /sys and
     * /proc the JVM opens for a moment now and then from its own threads (its container support reads
     * cgroup files such as memory.limit_in_bytes). A selector's descriptors are anonymous inodes, pipes
     * and sockets, never such paths.
     */
    private static boolean ignored(String target) {
        return target.endsWith(".jar") || target.startsWith("/proc/") || target.startsWith("/sys/");
    }

    /** Spins for about {@code nanos} without leaving the CPU: the racing gap between two calls. */
    static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    /**
     * Stops the race's threads and closes what a failed round left open, each close on a thread of its
     * own and waited for at most {@link #RESCUE_MILLIS}: a close that hangs is already the failure.
     */
    @Override
    public void close() {
        if (!watched.isEmpty()) {
            ExecutorService closer = thread("cleanup");
            for (Selector s : watched) {
                Future<?> f = closer.submit(s::close);
                try {
                    f.get(RESCUE_MILLIS, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                } catch (ExecutionException | TimeoutException e) {
                    break; // a stuck close: leave the rest, the scenario has failed
                }
            }
        }
        for (ExecutorService e : executors) {
            e.shutdownNow();
        }
    }
}
