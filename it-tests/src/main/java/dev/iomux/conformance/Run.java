package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Serializable;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.SelectorContract;

/**
 * One scenario's run on one backend: opens its selectors, owns its descriptors (all closed when the run
 * ends), and records what was observed for the matrix. Assertions read like the rules: "reports X" waits
 * for at least X (extra readiness tolerated), "does not report" watches twice for a short while.
 */
public final class Run implements AutoCloseable {
    private final SelectorProvider provider;
    private final Mechanism mechanism;
    private final Fds fds = new Fds();
    private final List<Selector> selectors = new ArrayList<>();
    private final StringJoiner observed = new StringJoiner("; "); // synchronized: read by the kit on a hang
    private volatile String failedCase;

    Run(SelectorProvider provider, Mechanism mechanism) {
        this.provider = provider;
        this.mechanism = mechanism;
    }

    /**
     * Opens a selector of the backend under test.
     *
     * @return a new selector, closed when the run ends
     * @throws IOException if it cannot be opened
     */
    public Selector open() throws IOException {
        Selector s = provider.open();
        selectors.add(s);
        return s;
    }

    /** @return the provider under test */
    public SelectorProvider provider() {
        return provider;
    }

    /**
     * @return the family whose catalog column the backend is held to: {@link Mechanism#SELECT},
     *         {@link Mechanism#POLL} or {@link Mechanism#EPOLL} (a port of another family is held to one of
     *         them), so that scenarios can compare it with {@code ==}
     */
    public Mechanism mechanism() {
        return mechanism.heldTo();
    }

    /**
     * @return the backend's own family, for the few rules where a family held to a column reports otherwise
     *         ({@link Mechanism#URING} on CLOSED-FD)
     */
    public Mechanism family() {
        return mechanism;
    }

    /** @return what the backend declares */
    public Capabilities capabilities() {
        return provider.capabilities();
    }

    /**
     * @param c a capability
     * @return whether the backend declares it
     */
    public boolean supports(Capability c) {
        return provider.capabilities().supports(c);
    }

    /** @return the run's descriptor fixtures (closed when the run ends) */
    public Fds fds() {
        return fds;
    }

    /**
     * Waits until {@code fd} is reported with at least {@code events} and records what was reported.
     *
     * @param s      the selector
     * @param fd     the descriptor
     * @param events the events to wait for, all of them
     * @param what   a short label for the matrix, e.g. "tcp4 after FIN"
     * @return the events reported
     * @throws IOException if a select fails
     */
    public int ready(Selector s, int fd, int events, String what) throws IOException {
        int seen = Expect.ready(s, fd, events);
        see(what, seen);
        return seen;
    }

    /**
     * Checks that {@code fd} is not reported for a short while, twice, and records "-".
     *
     * @param s    the selector
     * @param fd   the descriptor
     * @param what a short label for the matrix
     * @throws IOException if a select fails
     */
    public void notReady(Selector s, int fd, String what) throws IOException {
        Expect.notReady(s, fd);
        note(what + ": -");
    }

    /**
     * Checks that the flags a backend can tell apart are among {@code seen}: {@code flags} must be there
     * if the backend declares {@code cap}; a backend that does not (select) reports them as directions.
     *
     * @param seen  the events reported
     * @param flags the flags to look for
     * @param cap   the capability that promises them
     * @param what  a short label for the message
     */
    public void flagsIfDeclared(int seen, int flags, Capability cap, String what) {
        if (supports(cap)) {
            assertThat(Events.toString(seen & flags)).as("%s: %s reports %s", backend(), what, Events.toString(flags))
                    .isEqualTo(Events.toString(flags));
        }
    }

    /**
     * Checks that none of {@code flags} is among {@code seen}.
     *
     * @param seen  the events reported
     * @param flags the flags that must be absent
     * @param what  a short label for the message
     */
    public void without(int seen, int flags, String what) {
        assertThat(seen & flags).as("%s: %s must not report %s (saw %s)", backend(), what,
                Events.toString(flags), Events.toString(seen)).isZero();
    }

    /**
     * Records an event mask under a label, in the catalog's notation.
     *
     * @param what   the label
     * @param events the event mask
     */
    public void see(String what, int events) {
        note(what + ": " + notation(events));
    }

    /**
     * Records a free-form observation for the matrix.
     *
     * @param observation what was seen
     */
    public synchronized void note(String observation) {
        observed.add(observation);
    }

    /**
     * Runs cases of the selector contract (testkit's {@link SelectorContract}) on this backend, each on a
     * fresh selector, as the API rules' scenarios (the kit is the contract's only runner). A case that
     * fails is named, with what it expected and what it observed.
     *
     * @param cases the contract's cases, e.g. {@code SelectorContract::registerReturnsTheKey}
     * @throws AssertionError naming the first case that failed; the case's own failure is its cause
     * @throws Exception      if a selector cannot be opened or closed
     */
    @SafeVarargs
    public final void contract(ContractCase... cases) throws Exception {
        List<String> passed = new ArrayList<>();
        for (ContractCase c : cases) {
            String name = caseName(c);
            SelectorContract contract = new SelectorContract() {
                @Override
                protected Selector open() throws IOException {
                    return provider.open();
                }
            };
            Throwable failure = null;
            contract.setUp(); // a selector that cannot be opened fails the rule as it is
            try {
                c.run(contract);
            } catch (Throwable t) {
                failure = t;
                failedCase = describe(name, t); // in case the tear-down hangs: the kit's hang report shows it
            } finally {
                try {
                    contract.tearDown();
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    } else {
                        failure.addSuppressed(t);
                    }
                }
            }
            failedCase = null;
            if (failure != null) {
                note(passed.size() + " of " + cases.length + " contract case(s) passed"
                        + (passed.isEmpty() ? "" : " (" + String.join(", ", passed) + ")") + ", then " + name + " failed");
                throw new ContractCaseFailure(describe(name, failure), failure);
            }
            passed.add(name);
        }
        note(cases.length + " contract case(s) passed");
    }

    /**
     * A case of the selector contract: a method reference such as {@code SelectorContract::keysIsALiveReadOnlyView}.
     * Serializable so that the kit can read the method's name back ({@link SerializedLambda}) and name
     * the case that failed.
     */
    @FunctionalInterface
    public interface ContractCase extends Serializable {
        /**
         * @param contract the contract, set up on a fresh selector of the backend under test
         * @throws Exception on failure
         */
        void run(SelectorContract contract) throws Exception;
    }

    /** A case of the contract failed: the message names it, the cause is its own failure. */
    static final class ContractCaseFailure extends AssertionError {
        private static final long serialVersionUID = 1L;

        ContractCaseFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The contract method a case refers to, read from the serialized form of its method reference. */
    static String caseName(ContractCase c) {
        try {
            Method writeReplace = c.getClass().getDeclaredMethod("writeReplace");
            writeReplace.setAccessible(true);
            SerializedLambda lambda = (SerializedLambda) writeReplace.invoke(c);
            String method = lambda.getImplMethodName();
            return method.startsWith("lambda$") ? "(a lambda in " + lambda.getCapturingClass().replace('/', '.') + ")"
                    : method;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "(" + c.getClass().getName() + ")";
        }
    }

    /**
     * One line: the case, what it expected (the assertion's description, AssertJ's {@code [...]}) and what
     * was observed (the rest of the assertion's message, or the exception that ended the case).
     */
    static String describe(String caseName, Throwable failure) {
        String head = "contract case " + caseName + " failed: ";
        String message = failure.getMessage() == null ? "" : failure.getMessage().strip();
        if (!(failure instanceof AssertionError) || message.isEmpty()) {
            return head + "it threw " + failure;
        }
        String first = message.lines().findFirst().orElse("").strip();
        if (first.startsWith("[") && first.endsWith("]")) {
            String observed = oneLine(message.substring(message.indexOf(first) + first.length()));
            return head + "expected " + first.substring(1, first.length() - 1) + "; observed: "
                    + (observed.isEmpty() ? "(the assertion says no more)" : observed);
        }
        return head + oneLine(message);
    }

    private static String oneLine(String text) {
        return text.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** @return the backend's name */
    public String backend() {
        return provider.name();
    }

    synchronized String observed() {
        return observed.toString();
    }

    /** @return the failure of a contract case whose tear-down has not finished, or null */
    String failedCase() {
        return failedCase;
    }

    /**
     * Renders events in the catalog's notation: R, W, P, E, H, RH, space-separated; "-" for none.
     *
     * @param events an event mask
     * @return e.g. {@code R W E H RH}
     */
    public static String notation(int events) {
        StringJoiner j = new StringJoiner(" ");
        if ((events & Events.READ) != 0) {
            j.add("R");
        }
        if ((events & Events.WRITE) != 0) {
            j.add("W");
        }
        if ((events & Events.PRIORITY) != 0) {
            j.add("P");
        }
        if ((events & Events.ERROR) != 0) {
            j.add("E");
        }
        if ((events & Events.HANGUP) != 0) {
            j.add("H");
        }
        if ((events & Events.READ_HANGUP) != 0) {
            j.add("RH");
        }
        return j.length() == 0 ? "-" : j.toString();
    }

    @Override
    public void close() throws IOException {
        for (Selector s : selectors) {
            s.close();
        }
        fds.close();
    }
}
