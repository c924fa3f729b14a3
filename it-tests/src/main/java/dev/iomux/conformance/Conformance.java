package dev.iomux.conformance;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.iomux.SelectorProvider;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicNode;

/**
 * The conformance kit's entry point: every rule of the catalog (readiness-rules.md) checked on a backend.
 *
 * <p>A port gets the whole suite with a few lines:
 *
 * <pre>{@code
 * class MyBackendConformanceTest {
 *     @TestFactory
 *     Stream<DynamicNode> readinessRules() {
 *         return Conformance.tests(new MyProvider());
 *     }
 * }
 * }</pre>
 *
 * <p>Each rule is one dynamic test, named {@code RULE-ID: sentence} and grouped by the catalog's sections;
 * its test source is the rule's row of the catalog in the kit's jar, which also makes surefire report it
 * by that name. Nothing is skipped: a mode the backend does not declare is checked to be refused with a
 * clear error, and a rule the backend's family cannot show is checked for what the catalog says it does
 * instead. Every scenario runs on fresh descriptors and selectors, within {@link #TIMEOUT_PROPERTY}
 * seconds, and fails if it leaves a descriptor or a native block behind.
 */
public final class Conformance {
    /**
     * The system property that bounds one scenario, in seconds (default {@value #DEFAULT_TIMEOUT_SECONDS}):
     * a scenario still running then fails as a hang, with the stacks of its threads.
     */
    public static final String TIMEOUT_PROPERTY = "iomux.conformance.timeout.seconds";

    /** The slowest scenario (a connect waiting for a SYN retransmit) takes about 3 s on a loaded machine. */
    static final int DEFAULT_TIMEOUT_SECONDS = 20;

    /** Display names keep the rule's first sentence up to this many characters. */
    static final int SENTENCE_LIMIT = 100;

    /** Frames shown per thread of a hung scenario: enough to reach the scenario's own code. */
    private static final int FRAMES_PER_THREAD = 40;

    private Conformance() {
    }

    /**
     * The suite for a backend whose family the kit works out ({@link Mechanism#of}): from a system property,
     * the provider's own {@link Mechanism.Declared declaration}, its name, or what it declares.
     *
     * @param provider the backend
     * @return one dynamic test per rule, grouped by section
     */
    public static Stream<DynamicNode> tests(SelectorProvider provider) {
        return tests(provider, Mechanism.decide(provider));
    }

    /**
     * The suite for any backend, its family given.
     *
     * @param provider  the backend
     * @param mechanism the family of kernel interface it waits with, which decides the shapes the catalog
     *                  says Linux reports (see {@link Mechanism})
     * @return one dynamic test per rule, grouped by section
     */
    public static Stream<DynamicNode> tests(SelectorProvider provider, Mechanism mechanism) {
        return tests(provider, new Mechanism.Decision(mechanism, "given to Conformance.tests"));
    }

    private static Stream<DynamicNode> tests(SelectorProvider provider, Mechanism.Decision family) {
        Map<String, List<DynamicNode>> sections = new LinkedHashMap<>();
        for (Rule rule : RuleCatalog.shipped().rules().values()) {
            sections.computeIfAbsent(rule.section(), s -> new ArrayList<>()).add(
                    dynamicTest(displayName(rule), source(rule), () -> {
                        // A backend the kernel does not offer here (io_uring disabled, blocked by seccomp) is
                        // skipped with its reason, not failed: nothing of it can run.
                        Throwable unavailable = provider.unavailabilityCause();
                        if (unavailable != null) {
                            Assumptions.abort(provider.name() + " is not available here: " + unavailable.getMessage());
                        }
                        Outcome o = run(provider, family.mechanism(), rule.id());
                        if (!o.passed()) {
                            throw failure(o, family);
                        }
                    }));
        }
        return sections.entrySet().stream()
                .map(e -> dynamicContainer(provider.name() + ": " + e.getKey(), e.getValue().stream()));
    }

    /** {@code RULE-ID: sentence}, the sentence cut to its first one, and that to {@link #SENTENCE_LIMIT}. */
    static String displayName(Rule rule) {
        String s = rule.sentence();
        int stop = s.indexOf(". ");
        if (stop > 0) {
            s = s.substring(0, stop + 1);
        }
        if (s.length() > SENTENCE_LIMIT) {
            int cut = s.lastIndexOf(' ', SENTENCE_LIMIT - 3);
            s = s.substring(0, cut > SENTENCE_LIMIT / 2 ? cut : SENTENCE_LIMIT - 3).replaceAll("[,;:(]$", "") + "...";
        }
        return rule.id() + ": " + s;
    }

    /**
     * The rule's row in the catalog shipped with the kit. A dynamic test with a source of its own is
     * reported by surefire under its display name; without one, under the factory's index path
     * ({@code readinessRules()[4][3]}). IDEs open the row.
     */
    static URI source(Rule rule) {
        return URI.create("classpath:/" + RuleCatalog.class.getPackageName().replace('.', '/') + "/"
                + RuleCatalog.RESOURCE + "?line=" + rule.line());
    }

    /** What a porter reads: the rule, the backend, the failure, what was observed before it, the family. */
    static AssertionError failure(Outcome o, Mechanism.Decision family) {
        Throwable f = o.failure();
        String message = f.getMessage() == null ? f.toString() : f.getMessage();
        String head = o.ruleId() + " on " + o.backend();
        // A contract case's failure and a hang say it all already: the assertion itself is the cause to show,
        // and a hang has none (its stacks are in the message).
        Throwable cause = f instanceof Run.ContractCaseFailure || f instanceof Hang ? f.getCause() : f;
        return new AssertionError((message.startsWith(head) ? "" : head + ": ") + message
                + "\nobserved before the failure: " + (o.observed().isEmpty() ? "(nothing recorded)" : o.observed())
                + "\nfamily: " + family, cause);
    }

    /**
     * Runs one rule's scenario on a backend, on a thread of its own within the time bound
     * ({@link #TIMEOUT_PROPERTY}), and checks that it released every descriptor and native block it took.
     *
     * @param provider  the backend
     * @param mechanism its family
     * @param ruleId    a rule ID of the catalog
     * @return what happened
     * @throws IllegalArgumentException if the kit has no scenario for {@code ruleId}
     */
    public static Outcome run(SelectorProvider provider, Mechanism mechanism, String ruleId) {
        Scenarios.Entry entry = Scenarios.all().get(ruleId);
        if (entry == null) {
            throw new IllegalArgumentException("the kit has no scenario for rule " + ruleId);
        }
        return run(provider, mechanism, ruleId, entry.scenario(), timeoutSeconds() + Race.longRunSeconds());
    }

    /**
     * @return the bound of one scenario: {@value #TIMEOUT_PROPERTY}, else {@value #DEFAULT_TIMEOUT_SECONDS}
     * @throws IllegalArgumentException if the property is not a positive number of seconds
     */
    static long timeoutSeconds() {
        String value = System.getProperty(TIMEOUT_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_TIMEOUT_SECONDS;
        }
        try {
            long seconds = Long.parseLong(value.strip());
            if (seconds > 0) {
                return seconds;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + TIMEOUT_PROPERTY + "=" + value
                + " is not a positive number of seconds (the bound of one scenario; default " + DEFAULT_TIMEOUT_SECONDS + ")");
    }

    static Outcome run(SelectorProvider provider, Mechanism mechanism, String ruleId, Scenario scenario,
            long timeoutSeconds) {
        long start = System.nanoTime();
        Run run = new Run(provider, mechanism);
        Throwable failure = null;
        AtomicReference<Thread> scenarioThread = new AtomicReference<>();
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "iomux-conformance-" + ruleId + "-" + provider.name());
            t.setDaemon(true);
            scenarioThread.set(t);
            return t;
        });
        try {
            Map<Integer, String> fdsBefore = LeakCheck.openDescriptors();
            long blocksBefore = NativeBuffer.liveBlocks();
            ThreadsBefore threadsBefore = new ThreadsBefore();
            Future<?> f = thread.submit(() -> {
                try (run) {
                    scenario.check(run);
                }
                return null;
            });
            try {
                f.get(timeoutSeconds, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                failure = e.getCause();
            } catch (TimeoutException e) {
                // The stacks first: cancelling interrupts the scenario thread, which may then move on.
                String stacks = threadsBefore.stacksOfThoseStartedSince(scenarioThread.get());
                f.cancel(true);
                failure = new Hang(ruleId + " on " + provider.name() + " did not finish within "
                        + timeoutSeconds + " s: a hang (a slow machine may allow more with -D" + TIMEOUT_PROPERTY
                        + "=SECONDS)" + (run.failedCase() == null ? "" : ", tearing down after " + run.failedCase())
                        + ". The scenario's threads:\n" + stacks);
            }
            if (failure == null) {
                failure = leaks(fdsBefore, blocksBefore);
            }
        } catch (Exception e) {
            failure = e;
        } finally {
            thread.shutdownNow();
        }
        return new Outcome(ruleId, provider.name(), failure == null, run.observed(), failure,
                (System.nanoTime() - start) / 1_000_000);
    }

    /** A scenario that did not end in time; the stacks of its threads are the message, it has none itself. */
    static final class Hang extends AssertionError {
        private static final long serialVersionUID = 1L;

        Hang(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this; // the kit's own frames, which say nothing of the hang
        }
    }

    /**
     * The threads alive when a scenario began, to tell its own threads apart when it hangs: those started
     * since in the scenario thread's group (not the JDK's, such as a Cleaner), and those that now run
     * iomux code but did not then (a pooled thread the scenario reused).
     */
    private static final class ThreadsBefore {
        private final long highestId;
        private final Set<Thread> inIomux;

        ThreadsBefore() {
            Map<Thread, StackTraceElement[]> all = Thread.getAllStackTraces();
            highestId = all.keySet().stream().mapToLong(Thread::getId).max().orElse(0);
            inIomux = all.entrySet().stream().filter(e -> runsIomux(e.getValue())).map(Map.Entry::getKey)
                    .collect(Collectors.toSet());
        }

        String stacksOfThoseStartedSince(Thread scenarioThread) {
            Map<Thread, StackTraceElement[]> all = Thread.getAllStackTraces();
            List<Thread> threads = new ArrayList<>();
            if (scenarioThread != null) {
                threads.add(scenarioThread);
            }
            ThreadGroup group = scenarioThread == null ? null : scenarioThread.getThreadGroup();
            all.forEach((t, stack) -> {
                boolean started = t.getId() > highestId && t.getThreadGroup() == group; // not the JDK's own
                if (t != scenarioThread && t != Thread.currentThread()
                        && (started || runsIomux(stack) && !inIomux.contains(t))) {
                    threads.add(t);
                }
            });
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            StringBuilder b = new StringBuilder();
            for (Thread t : threads) {
                StackTraceElement[] stack = all.getOrDefault(t, new StackTraceElement[0]);
                // A thread caught between Java and a native call may show no frames: ask again.
                for (int i = 0; i < 20 && stack.length == 0 && t.isAlive(); i++) {
                    Fds.sleep(5);
                    stack = t.getStackTrace();
                }
                b.append('"').append(t.getName()).append("\" ").append(t.getState());
                ThreadInfo info = mx.getThreadInfo(t.getId());
                if (info != null && info.getLockName() != null) {
                    b.append(" on ").append(info.getLockName());
                    if (info.getLockOwnerName() != null) {
                        b.append(" held by \"").append(info.getLockOwnerName()).append('"');
                    }
                }
                if (info != null && info.isInNative()) {
                    b.append(" (in native code)");
                }
                b.append('\n');
                for (int i = 0; i < Math.min(stack.length, FRAMES_PER_THREAD); i++) {
                    b.append("\tat ").append(stack[i]).append('\n');
                }
                if (stack.length > FRAMES_PER_THREAD) {
                    b.append("\t... ").append(stack.length - FRAMES_PER_THREAD).append(" more\n");
                }
            }
            return b.toString();
        }

        private static boolean runsIomux(StackTraceElement[] stack) {
            for (StackTraceElement e : stack) {
                if (e.getClassName().startsWith("dev.iomux.")) {
                    return true;
                }
            }
            return false;
        }
    }

    private static AssertionError leaks(Map<Integer, String> before, long blocksBefore) throws Exception {
        long deadline = System.nanoTime() + 2_000_000_000L;
        for (;;) {
            Map<Integer, String> leaked = LeakCheck.leaked(before, LeakCheck.openDescriptors());
            long blocks = NativeBuffer.liveBlocks() - blocksBefore;
            if (leaked.isEmpty() && blocks <= 0) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                return new AssertionError("the scenario leaked " + leaked.size() + " descriptor(s) " + leaked
                        + " and " + blocks + " native block(s)");
            }
            Thread.sleep(20);
        }
    }
}
