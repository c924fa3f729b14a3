package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;
import dev.iomux.testing.LeakCheck;
import dev.iomux.testing.Seccomp;
import dev.iomux.uring.UringSelectorProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.TestAbortedException;

/**
 * With every backend on the class path and io_uring_setup refused by a real seccomp filter (ENOSYS, as
 * Docker's default profile answers; {@link Seccomp}), the default order stays epoll, poll, select, and
 * the kit skips uring's rules with the provider's reason instead of failing them ({@link Child}).
 */
@ExtendWith(LeakCheck.class)
class UringSeccompKitTest {
    private static final int IO_URING_SETUP = 425;
    private static final int ENOSYS = 38;

    @Test
    void underSeccompTheDefaultStaysEpollAndTheKitSkipsUringWithItsReason() throws Exception {
        Assumptions.assumeTrue(Seccomp.supported(), "the seccomp filter is installed on Linux x86-64 only");
        Seccomp.Result r = Seccomp.run(IO_URING_SETUP, ENOSYS, Child.class);
        assertThat(r.exitCode()).as("the child's exit status; it printed:%n%s", r.output()).isZero();
        assertThat(r.output())
                .contains("seccomp: system call 425 fails with errno 38")
                // (beside a test's unavailable stub, kqueue: UnavailableProvider)
                .contains("epoll (available), poll (available), select (available), uring (unavailable), uring-single (unavailable)]")
                .contains("open(): epoll")
                .containsPattern("kit: aborted: uring is not available here: io_uring_setup\\([^\n]*ENOSYS[^\n]*"
                        + "a seccomp filter answers ENOSYS")
                .doesNotContain("Exception in thread");
    }

    /** Run under the filter: the providers, the default, and the first rule of the kit on uring. */
    static final class Child {
        private Child() {
        }

        public static void main(String[] args) throws Throwable {
            List<String> providers = new ArrayList<>();
            for (SelectorProvider p : Selectors.providers()) {
                providers.add(p.name() + (p.isAvailable() ? " (available)" : " (unavailable)"));
            }
            System.out.println("providers: " + providers);
            try (Selector s = Selectors.open()) {
                System.out.println("open(): " + s.backend());
            }
            DynamicTest first = firstTest(Conformance.tests(new UringSelectorProvider(), Mechanism.URING));
            try {
                first.getExecutable().execute();
                System.out.println("kit: ran " + first.getDisplayName());
            } catch (TestAbortedException e) {
                System.out.println("kit: aborted: " + e.getMessage());
            }
        }

        private static DynamicTest firstTest(Stream<? extends DynamicNode> nodes) {
            DynamicNode n = nodes.findFirst().orElseThrow();
            return n instanceof DynamicContainer c ? firstTest(c.getChildren()) : (DynamicTest) n;
        }
    }
}
