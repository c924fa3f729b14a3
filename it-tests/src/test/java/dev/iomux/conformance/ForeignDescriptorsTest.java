package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/**
 * The kit's scenarios that handle descriptor numbers hold while other threads of the JVM open and close
 * files, as the JVM itself does now and then (its container support reads cgroup files): a scenario that
 * leaves a number free and later dup2(2)s onto it would close another thread's file, and one that compares
 * the whole descriptor table would see that thread's file come and go.
 */
class ForeignDescriptorsTest {

    @Test
    void closeDupAndOwnFdsHoldWhileAnotherThreadOpensAndClosesFiles() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong opened = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        Thread churn = new Thread(() -> {
            Path file = Path.of("/proc/self/stat");
            while (!stop.get()) {
                try (InputStream in = Files.newInputStream(file)) {
                    in.read();
                    opened.incrementAndGet();
                } catch (IOException e) {
                    failed.incrementAndGet(); // its descriptor closed under it: what a stray dup2 does
                }
            }
        }, "opening-files");
        churn.setDaemon(true);
        churn.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            for (int i = 0; i < 5; i++) {
                String[] rules = i == 4 ? new String[] {"--rule", "CLOSE-DUP", "--rule", "RACE-OWN-FDS"}
                        : new String[] {"--rule", "CLOSE-DUP"};
                int status = RuleMatrix.run(concat(rules, "--backend", "epoll"),
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
                assertThat(status).as("run %d: %s", i, out.toString(StandardCharsets.UTF_8)).isZero();
            }
        } finally {
            stop.set(true);
            churn.join(10_000);
        }
        assertThat(opened.get()).as("files the other thread opened").isPositive();
        assertThat(failed.get()).as("reads of the other thread that failed").isZero();
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
