package dev.iomux.examples;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.iomux.testing.Fds;

/**
 * The {@code iomux} command line run as a real process, on the JVM running the tests (so on JDK 17 in
 * the first test pass and JDK 25 in the second) with the test class path.
 *
 * <p>Standard output and standard error are collected by two threads of their own; every wait is
 * bounded and fails with what the process printed so far. {@link #close()} sends SIGTERM, waits, kills
 * if it must, and closes the pipes, so that a test leaves no descriptor behind.
 */
public final class CliProcess implements AutoCloseable {
    /** How long any single wait may take: generous, for a loaded 2-core machine. */
    public static final Duration WAIT = Duration.ofSeconds(30);

    private static final Pattern STATUS = Pattern.compile("^(\\S+) on (\\S+):(\\d+), backend (\\w+), pid (\\d+)$",
            Pattern.MULTILINE);

    private final Process process;
    private final StringBuffer out = new StringBuffer();
    private final StringBuffer err = new StringBuffer();
    private final Thread outReader;
    private final Thread errReader;

    private CliProcess(List<String> command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        process = pb.start();
        outReader = drain(process.getInputStream(), out, "stdout");
        errReader = drain(process.getErrorStream(), err, "stderr");
    }

    /**
     * Starts {@code iomux <args>}.
     *
     * @param args the subcommand and its arguments
     * @return the running process
     * @throws IOException if the JVM cannot be started
     */
    public static CliProcess start(String... args) throws IOException {
        return new CliProcess(javaCommand(args));
    }

    /**
     * Starts {@code iomux <args>} with its descriptor table limited (soft and hard RLIMIT_NOFILE, since
     * HotSpot raises the soft limit to the hard one at start-up).
     *
     * @param maxFds the limit
     * @param args   the subcommand and its arguments
     * @return the running process
     * @throws IOException if it cannot be started
     */
    public static CliProcess startWithFdLimit(int maxFds, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + maxFds + " && exec \"$@\"", "bash"));
        command.addAll(javaCommand(args));
        return new CliProcess(command);
    }

    /**
     * Starts {@code java -jar <jar> <args>}: the command-line jar as {@code ./iomux} runs it.
     *
     * @param jar  the executable jar
     * @param args the subcommand and its arguments
     * @return the running process
     * @throws IOException if it cannot be started
     */
    public static CliProcess startJar(Path jar, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED", "-jar",
                jar.toString()));
        command.addAll(List.of(args));
        return new CliProcess(command);
    }

    private static String java() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static List<String> javaCommand(String... args) {
        List<String> command = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                Iomux.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** @return the process */
    public Process process() {
        return process;
    }

    /** @return the process id */
    public long pid() {
        return process.pid();
    }

    /** @return everything printed on standard output so far */
    public String stdout() {
        return out.toString();
    }

    /** @return everything printed on standard error so far */
    public String stderr() {
        return err.toString();
    }

    /** @return the process's standard input */
    public OutputStream stdin() {
        return process.getOutputStream();
    }

    /**
     * Waits for a server's status line ({@code NAME on HOST:PORT, backend B, pid P}).
     *
     * @return the address it listens on
     */
    public InetSocketAddress awaitListening() {
        awaitStdout(s -> STATUS.matcher(s).find(), "a status line");
        Matcher m = STATUS.matcher(stdout());
        m.find();
        String host = m.group(2).replace("[", "").replace("]", "");
        if (Long.parseLong(m.group(5)) != process.pid()) {
            fail("status line names pid %s, but the process is %d: %s", m.group(5), process.pid(), stdout());
        }
        return new InetSocketAddress(host, Integer.parseInt(m.group(3)));
    }

    /** @return the backend the status line names */
    public String backend() {
        Matcher m = STATUS.matcher(stdout());
        return m.find() ? m.group(4) : null;
    }

    /** Waits until standard output satisfies {@code condition}; fails after {@link #WAIT}. */
    public void awaitStdout(Predicate<String> condition, String what) {
        await(() -> condition.test(stdout()), what + " on stdout");
    }

    /** Waits until standard error contains {@code text}; fails after {@link #WAIT}. */
    public void awaitStderr(String text) {
        await(() -> stderr().contains(text), "'" + text + "' on stderr");
    }

    private void await(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("no %s within %s; alive=%s%n--- stdout:%n%s%n--- stderr:%n%s", what, WAIT, process.isAlive(),
                        stdout(), stderr());
            }
            if (!process.isAlive() && !condition.getAsBoolean()) {
                join(); // what it printed last is in
                if (condition.getAsBoolean()) {
                    return;
                }
                fail("the process exited (%d) before %s%n--- stdout:%n%s%n--- stderr:%n%s", process.exitValue(), what,
                        stdout(), stderr());
            }
            Fds.sleep(20);
        }
    }

    /**
     * Waits for the process to exit by itself.
     *
     * @return its exit status
     */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            fail("still running after %s%n--- stdout:%n%s%n--- stderr:%n%s", WAIT, stdout(), stderr());
        }
        join();
        return process.exitValue();
    }

    /**
     * Sends SIGTERM and waits for the exit.
     *
     * @return the exit status (143 after a clean shutdown on SIGTERM)
     */
    public int terminate() throws InterruptedException {
        // SIGTERM through the handle: Process.destroy() would also close our ends of the pipes, and
        // lose what the process prints while it shuts down.
        process.toHandle().destroy();
        return awaitExit();
    }

    /**
     * Returns the CPU time the process has used, user and system, from /proc/PID/stat.
     *
     * @return the CPU time
     */
    public Duration cpuTime() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (proc(5), fields 14, 15)
            return Duration.ofMillis(ticks * 10); // USER_HZ is 100 on Linux
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops the process if it still runs (SIGTERM, then SIGKILL) and closes its pipes. */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            if (process.isAlive()) {
                process.toHandle().destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        } finally {
            try {
                process.getOutputStream().close();
            } catch (IOException alreadyGone) {
                // the pipe's reader exited
            }
            join();
        }
    }

    private void join() {
        try {
            outReader.join(10_000);
            errReader.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread drain(InputStream in, StringBuffer into, String name) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            try (in) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    into.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException closed) {
                // the process is gone
            }
        }, "iomux-cli-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
