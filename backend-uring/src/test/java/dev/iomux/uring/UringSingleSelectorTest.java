package dev.iomux.uring;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.SelectorClosedException;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The "uring-single" selector: one owning thread selects, every thread may change, wake and close it. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UringSingleSelectorTest {
    private static Selector open() throws IOException {
        return new UringSingleSelectorProvider().open();
    }

    /** Runs {@code task} on a new platform thread named {@code name}; what it threw, or null. */
    private static Throwable onThread(String name, ThrowingRunnable task) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                task.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
        }, name);
        t.start();
        t.join(10_000);
        assertThat(t.isAlive()).as("thread '%s' finished", name).isFalse();
        return thrown.get();
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    @DisplayName("A provider of rank 0 named uring-single, available on this kernel, opened by name only")
    void openedByNameOnly() throws IOException {
        UringSingleSelectorProvider provider = new UringSingleSelectorProvider();
        assertThat(provider.name()).isEqualTo("uring-single");
        assertThat(provider.priority()).isZero();
        assertThat(provider.unavailabilityCause()).as("on Linux 6.1 or later with io_uring allowed").isNull();
        assertThat(provider.capabilities()).isEqualTo(new UringSelectorProvider().capabilities());
        assertThat(dev.iomux.Selectors.providers()).extracting(p -> p.name()).contains("uring-single");
        try (Selector sel = dev.iomux.Selectors.open("uring-single")) {
            assertThat(sel.backend()).isEqualTo("uring-single");
        }
    }

    @Test
    @DisplayName("The ring has SINGLE_ISSUER, DEFER_TASKRUN and TASKRUN_FLAG, and the backend its own name")
    void setsTheSingleIssuerFlags() throws IOException {
        try (Selector sel = open()) {
            assertThat(sel.backend()).isEqualTo("uring-single");
            String described = ((UringSelector) sel).describe();
            int setup = Integer.parseInt(described.replaceAll(".*setup=0x(\\p{XDigit}+).*", "$1"), 16);
            int wanted = Ring.SETUP_SINGLE_ISSUER | Ring.SETUP_DEFER_TASKRUN | Ring.SETUP_TASKRUN_FLAG;
            assertThat(setup & wanted).as("setup flags of %s", described).isEqualTo(wanted);
        }
    }

    @Test
    @DisplayName("The first thread that selects owns it: another thread's select throws naming the owner and "
            + "what to do, and the owner goes on")
    void anotherThreadsSelectIsRefused() throws Exception {
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ);
            Expect.nothing(sel); // this thread owns the ring now
            String owner = Thread.currentThread().getName();
            Throwable refused = onThread("intruder", () -> sel.select(Duration.ofMillis(100)));
            assertThat(refused).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("uring-single")
                    .hasMessageContaining("thread '" + owner + "'")
                    .hasMessageContaining("'intruder' cannot select")
                    .hasMessageContaining("select from thread '" + owner + "' only, or use Selectors.open(\"uring\")");
            assertThat(onThread("intruder", sel::selectNow)).as("selectNow too")
                    .isInstanceOf(IllegalStateException.class);
            Fds.write(p[1], 1);
            assertThat(Expect.ready(sel, p[0], READ)).isEqualTo(READ);
        }
    }

    @Test
    @DisplayName("Changes made by a thread whose select was refused are applied at the owner's next select")
    void aRefusedSelectLosesNoChange() throws Exception {
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] p = fds.pipe();
            Fds.write(p[1], 1);
            Expect.nothing(sel); // owned by this thread, nothing registered yet
            Throwable refused = onThread("intruder", () -> {
                sel.register(p[0], READ);
                sel.selectNow(); // refused before it prepares the registration for the kernel
            });
            assertThat(refused).isInstanceOf(IllegalStateException.class);
            List<Ready> got = sel.selectNow();
            assertThat(got).as("the owner's selectNow sees the registration the intruder made").extracting(Ready::fd)
                    .containsExactly(p[0]);
        }
    }

    @Test
    @DisplayName("selectNow reports a poll completed since the last wait: with DEFER_TASKRUN it is posted by "
            + "the zero wait's GETEVENTS")
    void selectNowSeesDeferredCompletions() throws IOException {
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ);
            assertThat(sel.selectNow()).isEmpty(); // the poll is armed, nothing ready
            Fds.write(p[1], 1);
            Fds.sleep(20);
            assertThat(sel.selectNow()).as("the first selectNow after the write").extracting(Ready::fd)
                    .containsExactly(p[0]);
        }
    }

    @Test
    @DisplayName("One select reports every ready registration, though the kernel posts a DEFER_TASKRUN ring's "
            + "completions 20 at a time")
    void oneSelectReportsAllThatIsReady() throws IOException {
        int n = 150;
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] readEnds = new int[n];
            int[] writeEnds = new int[n];
            for (int i = 0; i < n; i++) {
                int[] p = fds.pipe();
                readEnds[i] = p[0];
                writeEnds[i] = p[1];
                sel.register(p[0], READ);
            }
            assertThat(sel.selectNow()).isEmpty(); // every poll armed
            for (int i = 0; i < n; i++) {
                Fds.write(writeEnds[i], 1);
            }
            assertThat(sel.select(Expect.PATIENCE)).as("a blocking select").hasSize(n);
            assertThat(sel.selectNow()).as("level-triggered: all still ready, one selectNow").hasSize(n);
        }
    }

    @Test
    @DisplayName("An event-loop thread owns it; other threads register, unregister, wake it up and close it")
    void otherThreadsChangeWakeAndClose() throws Exception {
        Fds fds = new Fds();
        Selector sel = open();
        try {
            int[] a = fds.pipe();
            int[] b = fds.pipe();
            CompletableFuture<Integer> reported = new CompletableFuture<>();
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            Thread loop = new Thread(() -> {
                try {
                    int woken = 0;
                    for (;;) {
                        List<Ready> got = sel.select(Duration.ofSeconds(20));
                        if (got.isEmpty()) {
                            woken++;
                        }
                        for (Ready r : got) {
                            reported.complete(r.fd());
                        }
                        if (woken > 100) {
                            throw new AssertionError("empty selects: " + woken);
                        }
                    }
                } catch (Throwable e) {
                    ended.complete(e);
                }
            }, "event loop");
            loop.start();
            Fds.sleep(100); // the loop blocks in the kernel, owning the ring
            Fds.write(a[1], 1);
            sel.register(a[0], READ); // from this thread: queued, the loop's wait is woken to arm it
            assertThat(reported.get(10, TimeUnit.SECONDS)).as("the loop reports the registration made here")
                    .isEqualTo(a[0]);
            sel.unregister(a[0]);
            sel.register(b[0], READ);
            sel.wakeup();
            assertThat(onThread("other", () -> sel.modify(b[0], READ))).isNull();
            assertThat(ended).as("the loop still selects").isNotDone();
            Throwable refused = onThread("intruder", sel::selectNow);
            assertThat(refused).as("a select beside the loop's").isInstanceOf(IllegalStateException.class);
            sel.close(); // this thread frees the ring the loop submits to
            assertThat(ended.get(10, TimeUnit.SECONDS)).as("the loop's select ends with the close")
                    .isInstanceOf(SelectorClosedException.class);
            loop.join(10_000);
        } finally {
            sel.close();
            fds.close();
        }
    }

    @Test
    @DisplayName("A selector whose owner thread has ended is closed from another thread without a leak")
    void closedAfterItsOwnerEnded() throws Exception {
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ);
            assertThat(onThread("owner", () -> sel.select(Duration.ofMillis(10)))).isNull();
            Throwable refused = onThread("next", sel::selectNow);
            assertThat(refused).isInstanceOf(IllegalStateException.class).hasMessageContaining("thread 'owner'");
        }
    }

    @Test
    @DisplayName("A virtual thread cannot select it, first or later (JDK 21+)")
    void aVirtualThreadIsRefused() throws Exception {
        Method start;
        try {
            start = Thread.class.getMethod("startVirtualThread", Runnable.class);
        } catch (NoSuchMethodException beforeJdk21) {
            Assumptions.abort("no virtual threads before JDK 21");
            return;
        }
        try (Fds fds = new Fds(); Selector sel = open()) {
            int[] p = fds.pipe();
            sel.register(p[0], READ);
            for (int round = 0; round < 2; round++) {
                AtomicReference<Throwable> thrown = new AtomicReference<>();
                Thread v = (Thread) start.invoke(null, (Runnable) () -> {
                    try {
                        sel.select(Duration.ofMillis(100));
                    } catch (Throwable e) {
                        thrown.set(e);
                    }
                });
                v.join(10_000);
                assertThat(thrown.get()).as("round %d", round).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("cannot select in a virtual thread")
                        .hasMessageContaining("Selectors.open(\"uring\")");
                if (round == 0) {
                    Fds.write(p[1], 1);
                    assertThat(Expect.ready(sel, p[0], READ)).as("a platform thread may still own it").isEqualTo(READ);
                }
            }
            assertThatThrownBy(() -> onThreadRethrow(sel)).isInstanceOf(IllegalStateException.class);
        }
    }

    private static void onThreadRethrow(Selector sel) throws Throwable {
        Throwable t = onThread("intruder", sel::selectNow);
        if (t != null) {
            throw t;
        }
    }
}
