package dev.iomux.it.reliability;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.util.concurrent.TimeUnit;

import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a registration costs on the heap, kept by the selector while the caller keeps nothing: the current
 * key (the caller may ask for it again with key(fd), and gets the same object) and the selector's own
 * bookkeeping. The kernel's own cost of an epoll registration is about 216 bytes (epitem, eppoll_entry and
 * the file's list head); a selector should not add more than a third of that on the Java heap.
 *
 * <p>Measured as the used heap after full collections, with many registrations so that one of them is
 * well above the noise of the measurement, counted from the same selector while empty; select is measured at its maximum, FD_SETSIZE = 1024.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RetainedHeapTest {
    /** Bytes of heap per registration the selector may keep: a generous bound for a key and a few ints. */
    private static final long BOUND = 64;
    private static final int REGISTRATIONS = 4_000;

    @ParameterizedTest
    @ValueSource(strings = {"select", "poll", "epoll"})
    void aRegistrationKeepsAtMost64BytesOfHeap(String backend) throws IOException {
        try (Fds fds = new Fds()) {
            // The descriptors are opened first and their numbers kept in one array: they are the test's.
            int limit = backend.equals("select") ? 1000 : Integer.MAX_VALUE;
            int[] fd = new int[REGISTRATIONS];
            int n = 0;
            while (n < REGISTRATIONS) {
                int e = fds.track(Descriptors.eventfd(0));
                if (e >= limit) {
                    break;
                }
                fd[n++] = e;
            }
            warmUp(backend, fd[0]);
            Selector sel = Selectors.open(backend);
            try {
                assertThat(sel.selectNow()).isEmpty();
                long before = usedHeapAfterGc(); // the empty selector's own cost is not per registration
                for (int i = 0; i < n; i++) {
                    sel.register(fd[i], READ, null); // the key is dropped: the selector alone keeps it
                }
                assertThat(sel.selectNow()).isEmpty(); // poll and select build their sets here
                long after = usedHeapAfterGc();
                double perRegistration = (double) (after - before) / n;
                System.out.printf("%s: %.1f bytes of heap per registration (%d registrations)%n",
                        backend, perRegistration, n);
                assertThat(perRegistration).as("%s: heap kept per registration, %d registrations (%d bytes)",
                        backend, n, after - before).isLessThanOrEqualTo(BOUND);
            } finally {
                Reference.reachabilityFence(sel);
                sel.close();
            }
        }
    }

    /** Loads and initializes what the first registration would, so that it is in the baseline. */
    private static void warmUp(String backend, int fd) throws IOException {
        for (int round = 0; round < 3; round++) {
            try (Selector sel = Selectors.open(backend)) {
                sel.register(fd, READ, null);
                sel.selectNow();
                sel.key(fd).isValid();
                sel.unregister(fd);
            }
        }
        usedHeapAfterGc();
    }

    /** The used heap after full collections, the lowest of a few: what is live, give or take a few KiB. */
    private static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Fds.sleep(20);
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
