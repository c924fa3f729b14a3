package dev.iomux.select;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.testing.Async;
import dev.iomux.testing.Expect;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The read end of the selector's own wake-up pipe lives in readMaster. A caller holding a stale descriptor number can
 * try to register it by mistake (it is open and below 1024): register refuses it, and the wake-up
 * (WAKEUP) keeps working.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SelectWakeupFdTest {

    /** The read end of the wake-up pipe: pipe2(2) takes the lower free number for it. */
    private static int wakeupFdOf(Map<Integer, String> before) throws IOException {
        Map<Integer, String> added = LeakCheck.leaked(before, LeakCheck.openDescriptors());
        List<Integer> pipes = added.entrySet().stream().filter(e -> e.getValue().startsWith("pipe:"))
                .map(Map.Entry::getKey).sorted().toList();
        assertThat(pipes).as("the selector opened one pipe: %s", added).hasSize(2);
        return pipes.get(0);
    }

    // WAKEUP: after a register + unregister of the wake-up fd's number, wakeup still returns a blocked
    // select at once.
    @Test
    void registeringTheWakeupFdNumberDoesNotBreakWakeup() throws Exception {
        Map<Integer, String> before = LeakCheck.openDescriptors();
        try (SelectSelector sel = SelectTesting.open()) {
            int wake = wakeupFdOf(before);
            assertThatThrownBy(() -> sel.register(wake, READ, "not mine"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fd " + wake)
                    .hasMessageContaining("wake-up");
            assertThat(sel.keys()).isEmpty();
            CountDownLatch selecting = new CountDownLatch(1);
            CompletableFuture<List<Ready>> blocked = Async.supply(() -> {
                selecting.countDown();
                try {
                    return sel.select(Duration.ofSeconds(10));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(selecting.await(5, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(100);
            long start = System.nanoTime();
            sel.wakeup();
            assertThat(blocked.get(15, TimeUnit.SECONDS)).isEmpty();
            assertThat(Expect.millisSince(start)).as("wakeup returned the blocked select (10 s timeout)")
                    .isLessThan(5_000);
        }
    }
}
