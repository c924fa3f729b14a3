package dev.iomux.it.reliability;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.SelectorClosedException;
import dev.iomux.Selectors;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A select in a virtual thread must not take the scheduler's only carrier with it (JDK 21 and later).
 *
 * <p>A child JVM runs with one carrier ({@code jdk.virtualThreadScheduler.parallelism=1} and
 * {@code maxPoolSize=1}, so the scheduler cannot add a spare either). In it, on every backend, a virtual
 * thread blocks in select and a second virtual thread, 150 ms later, makes a descriptor readable, calls
 * {@code wakeup()}, interrupts the selecting thread (which must keep waiting, without spinning, and keep
 * its interrupt status), or calls {@code close()}; the select must return within {@link Child#BOUND_MILLIS}.
 * A blocking native call pins its virtual thread to the carrier (JEP 444), so without help the second
 * thread never runs. The JDK's own {@code java.nio.channels.Selector} is run the same way first, as a
 * control. The child also checks it gives back every descriptor and native block.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VirtualThreadSelectTest {

    @Test
    void aSelectInAVirtualThreadLeavesTheOnlyCarrierToTheThreadThatWakesIt() throws Exception {
        assumeTrue(Runtime.version().feature() >= 21, "virtual threads need JDK 21 or later");
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Djdk.virtualThreadScheduler.parallelism=1", "-Djdk.virtualThreadScheduler.maxPoolSize=1",
                "-cp", System.getProperty("java.class.path"), Child.class.getName(), "select", "poll", "epoll");
        Process child = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                System.out.println("virtual-thread select: " + line);
                lines.add(line);
            }
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child ends").isTrue();
        } finally {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String all = String.join("\n", lines);
        assertThat(child.exitValue()).as("child output:%n%s", all).isZero();
        assertThat(lines).as("child output:%n%s", all)
                .contains("done")
                .filteredOn(line -> line.matches("(jdk|select|poll|epoll) \\w+: .*")).hasSize(1 + 3 * 4)
                .allSatisfy(line -> assertThat(line).contains(": ok"));
        assertThat(lines).as("child output:%n%s", all).anySatisfy(line -> assertThat(line).startsWith("leaks: none"));
    }

    /** Run in a child JVM with one carrier; prints one line per case and exits 0 unless it broke. */
    public static final class Child {
        static final long ACT_AFTER_MILLIS = 150;
        static final long BOUND_MILLIS = 3_000;
        static final long INTERRUPTED_MILLIS = 300;
        static final String[] ACTIONS = {"ready", "wakeup", "interrupt", "close"};

        private static final MethodHandle START_VIRTUAL = startVirtualHandle();

        public static void main(String[] args) throws Exception {
            System.out.println("jdk " + jdkControl());
            // Measured after the control and a first use of the management beans and SecureRandom: the JDK
            // opens descriptors of its own lazily (its poller, /dev/random) and keeps them for good.
            processCpuNanos();
            new java.security.SecureRandom().nextInt();
            Map<String, String> fdsBefore = openDescriptors();
            long blocksBefore = NativeBuffer.liveBlocks();
            for (String backend : args) {
                for (String action : ACTIONS) {
                    System.out.println(backend + " " + action + ": " + run(backend, action));
                }
            }
            Map<String, String> fdsAfter = openDescriptors();
            long blocksAfter = NativeBuffer.liveBlocks();
            System.out.println(fdsAfter.equals(fdsBefore) && blocksAfter == blocksBefore ? "leaks: none"
                    : "leaks: descriptors " + fdsBefore + " -> " + fdsAfter + ", native blocks " + blocksBefore
                    + " -> " + blocksAfter);
            System.out.println("done");
        }

        /** One case: a virtual thread selects, a second one acts on it after {@link #ACT_AFTER_MILLIS}. */
        private static String run(String backend, String action) throws Exception {
            int[] pipe = Descriptors.pipe();
            Selector sel = Selectors.open(backend);
            try {
                sel.register(pipe[0], READ);
                AtomicReference<Object> outcome = new AtomicReference<>();
                AtomicLong returnedAt = new AtomicLong();
                AtomicLong actedAt = new AtomicLong();
                AtomicReference<String> seen = new AtomicReference<>("");
                boolean[] interruptKept = new boolean[1];
                AtomicReference<String> again = new AtomicReference<>("");
                Thread selecting = startVirtual(() -> {
                    try {
                        List<Ready> ready = action.equals("wakeup") || action.equals("interrupt")
                                ? sel.select() : sel.select(Duration.ofSeconds(30));
                        outcome.set(ready);
                        returnedAt.set(System.nanoTime());
                        if (action.equals("ready")) { // the byte is still there: found at once, inline
                            long start = System.nanoTime();
                            int keys = sel.select(Duration.ofSeconds(30)).size();
                            again.set(", again: " + keys + " key in " + (System.nanoTime() - start) / 1_000_000
                                    + " ms");
                        }
                    } catch (Throwable t) {
                        outcome.set(t);
                        returnedAt.set(System.nanoTime());
                    }
                    interruptKept[0] = Thread.currentThread().isInterrupted();
                });
                Thread actor = startVirtual(() -> {
                    try {
                        Thread.sleep(ACT_AFTER_MILLIS);
                        String state = "selecting thread " + selecting.getState();
                        switch (action) {
                            case "ready":
                                actedAt.set(System.nanoTime());
                                Descriptors.write(pipe[1], new byte[] {1}, 0, 1);
                                break;
                            case "wakeup":
                                actedAt.set(System.nanoTime());
                                sel.wakeup();
                                break;
                            case "interrupt":
                                selecting.interrupt();
                                long cpu = processCpuNanos();
                                Thread.sleep(INTERRUPTED_MILLIS);
                                cpu = processCpuNanos() - cpu;
                                state += ", interrupted: still selecting " + (returnedAt.get() == 0)
                                        + ", process CPU " + cpu / 1_000_000 + " ms in " + INTERRUPTED_MILLIS + " ms";
                                actedAt.set(System.nanoTime());
                                sel.wakeup();
                                break;
                            default:
                                actedAt.set(System.nanoTime());
                                sel.close();
                                state += ", close() took " + (System.nanoTime() - actedAt.get()) / 1_000_000 + " ms";
                        }
                        seen.set(state);
                    } catch (Throwable t) {
                        seen.set("actor failed: " + t);
                    }
                });
                long limit = ACT_AFTER_MILLIS + INTERRUPTED_MILLIS + BOUND_MILLIS;
                selecting.join(limit);
                boolean pinned = selecting.isAlive();
                boolean actorRan = actedAt.get() != 0;
                if (pinned) {
                    sel.wakeup(); // from this platform thread: frees the carrier, so that the case can end
                    selecting.join(10_000);
                }
                actor.join(10_000);
                if (pinned) {
                    return "FAIL: not returned within " + limit + " ms; the second virtual thread "
                            + (actorRan ? "had acted" : "had not run: the carrier was pinned");
                }
                return verdict(action, outcome.get(), (returnedAt.get() - actedAt.get()) / 1_000_000,
                        actedAt.get() != 0, interruptKept[0], seen.get() + again.get());
            } finally {
                sel.close();
                Descriptors.close(pipe[0]);
                Descriptors.close(pipe[1]);
            }
        }

        private static String verdict(String action, Object outcome, long millis, boolean acted,
                                      boolean interruptKept, String seen) {
            String problem = null;
            if (!acted) {
                problem = "returned before the second thread acted: " + outcome;
            } else if (!seen.startsWith("selecting thread WAITING")) {
                problem = "the selecting thread was not parked, its carrier not free: " + seen;
            } else if (millis > BOUND_MILLIS) {
                problem = "returned " + millis + " ms after the " + action;
            } else if (action.equals("close")) {
                if (!(outcome instanceof SelectorClosedException)) {
                    problem = "expected SelectorClosedException, got " + outcome;
                }
            } else if (outcome instanceof Throwable) {
                problem = "select failed: " + outcome;
            } else if (action.equals("ready") && ((List<?>) outcome).size() != 1) {
                problem = "expected the readable pipe, got " + outcome;
            } else if (action.equals("ready") && !seen.matches(".*again: 1 key in \\d+ ms")) {
                problem = "a second select did not find the unread byte at once: " + seen;
            } else if (!action.equals("ready") && !((List<?>) outcome).isEmpty()) {
                problem = "expected nothing ready, got " + outcome;
            }
            if (problem == null && action.equals("interrupt")) {
                if (!interruptKept) {
                    problem = "the interrupt status was lost";
                } else if (!seen.contains("still selecting true")) {
                    problem = "an interrupt ended the select; only wakeup() does";
                } else if (cpuMillis(seen) > 200) {
                    problem = "spun while interrupted";
                }
            }
            return (problem == null ? "ok" : "FAIL: " + problem) + ", returned " + millis + " ms after the "
                    + action + " (" + seen + ")";
        }

        private static long cpuMillis(String seen) {
            String s = seen.substring(seen.indexOf("process CPU ") + "process CPU ".length());
            return Long.parseLong(s.substring(0, s.indexOf(' ')));
        }

        /** The control: the JDK's own selector, woken from a second virtual thread. */
        private static String jdkControl() throws Exception {
            Pipe pipe = Pipe.open();
            try (java.nio.channels.Selector sel = java.nio.channels.Selector.open()) {
                pipe.source().configureBlocking(false).register(sel, SelectionKey.OP_READ);
                AtomicLong returnedAt = new AtomicLong();
                AtomicLong actedAt = new AtomicLong();
                Thread selecting = startVirtual(() -> {
                    try {
                        sel.select();
                    } catch (Throwable ignored) {
                        // reported as a missing return
                    }
                    returnedAt.set(System.nanoTime());
                });
                Thread actor = startVirtual(() -> {
                    try {
                        Thread.sleep(ACT_AFTER_MILLIS);
                    } catch (InterruptedException e) {
                        return;
                    }
                    actedAt.set(System.nanoTime());
                    sel.wakeup();
                });
                selecting.join(ACT_AFTER_MILLIS + BOUND_MILLIS);
                boolean pinned = selecting.isAlive();
                if (pinned) {
                    sel.wakeup();
                    selecting.join(10_000);
                }
                actor.join(10_000);
                return pinned || actedAt.get() == 0 ? "wakeup: FAIL: the JDK's selector was not woken"
                        : "wakeup: ok, returned " + (returnedAt.get() - actedAt.get()) / 1_000_000
                        + " ms after the wakeup";
            } finally {
                pipe.source().close();
                pipe.sink().close();
            }
        }

        /** @return each open descriptor with what it points to, from /proc/self/fd */
        private static Map<String, String> openDescriptors() throws IOException {
            Map<String, String> fds = new TreeMap<>();
            try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
                for (Path fd : dir) {
                    try {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (target.startsWith("/proc/")) {
                            continue; // this directory stream's own descriptor
                        }
                        fds.put(fd.getFileName().toString(), target);
                    } catch (IOException gone) {
                        // closed while listed
                    }
                }
            }
            return fds;
        }

        private static long processCpuNanos() {
            return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
        }

        private static MethodHandle startVirtualHandle() {
            try { // Thread.startVirtualThread(Runnable), JDK 21; this code compiles for 17
                return MethodHandles.publicLookup().findStatic(Thread.class, "startVirtualThread",
                        MethodType.methodType(Thread.class, Runnable.class));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("no virtual threads in JDK " + Runtime.version(), e);
            }
        }

        private static Thread startVirtual(Runnable task) {
            try {
                return (Thread) START_VIRTUAL.invokeExact(task);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }
}
