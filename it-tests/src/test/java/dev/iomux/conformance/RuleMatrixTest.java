package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.SelectorProvider;
import dev.iomux.poll.PollSelectorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The matrix entry point (what `./iomux rules` runs), on a few rules to stay quick. */
class RuleMatrixTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return RuleMatrix.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void printsRuleByBackendWithWhatWasObserved() {
        assertThat(run("--rule", "READ-FIN", "--rule", "PIPE-HUP")).isZero();
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("select", "poll", "epoll");
        assertThat(text).containsPattern("READ-FIN\\s+pass\\s+pass\\s+pass");
        assertThat(text).contains("poll: tcp4 peer shut down: R RH");
        assertThat(text).contains("select: writer closed, 3 bytes left: R;");
    }

    @Test
    void rendersMarkdownForTheReadme() {
        assertThat(run("--markdown", "--backend", "epoll", "--rule", "FILE-EPOLL-EPERM")).isZero();
        String md = out.toString(StandardCharsets.UTF_8);
        assertThat(md).contains("| Rule | epoll |", "|---|---|", "| FILE-EPOLL-EPERM | pass: file: refused, EPERM;");
    }

    @Test
    void badArgumentsGetTheUsageAndStatus2() {
        assertThat(run("--frobnicate")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown option '--frobnicate'", "usage: iomux rules");
        assertThat(run("--rule", "NO-SUCH-RULE")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no rule 'NO-SUCH-RULE'");
        assertThat(run("--backend", "kqueue")).as("registered here, but unavailable").isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("the kqueue backend is not available here: "
                + "kqueue(2) does not exist on Linux (probe: ENOSYS); available: epoll, poll, select, uring, uring-single");
        assertThat(run("--backend", "devpoll")).as("not registered at all").isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--backend must be one of epoll, poll, select, uring, uring-single (got 'devpoll')");
        assertThat(run("--backend")).isEqualTo(2);
    }

    @Test
    void aPortPassedExplicitlyGetsAColumn() {
        List<SelectorProvider> providers = List.of(new PollSelectorProvider(), new PpollProvider());
        assertThat(RuleMatrix.run(providers, new String[] {"--rule", "READ-FIN"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)))
                .as(err.toString(StandardCharsets.UTF_8)).isZero();
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).containsPattern("RULE\\s+poll\\s+ppoll").containsPattern("READ-FIN\\s+pass\\s+pass")
                .contains("ppoll: tcp4 peer shut down: R RH").contains("ppoll: poll (inferred");
    }

    /**
     * A port's jar on the class path: main finds its provider through ServiceLoader and gives it a column
     * (it crashed with a stack trace, unable to tell the mechanism of "ppoll"), and a bad rule ID is one
     * line and status 2. In a child JVM, as ServiceLoader's list is made once per JVM.
     */
    @Test
    void aPortOnTheClassPathGetsAColumnAndAnErrorIsOneLine(@TempDir Path dir) throws Exception {
        Path services = dir.resolve("META-INF/services/dev.iomux.SelectorProvider");
        Files.createDirectories(services.getParent());
        Files.writeString(services, PpollProvider.class.getName() + "\n");

        String[] rules = main(dir, "--rule", "READ-FIN");
        assertThat(rules[0]).as(rules[1] + rules[2]).isEqualTo("0");
        assertThat(rules[1]).containsPattern("RULE\\s+epoll\\s+poll\\s+ppoll\\s+select")
                .containsPattern("READ-FIN\\s+pass\\s+pass\\s+pass\\s+pass").contains("ppoll: tcp4 peer shut down: R RH");

        String[] nope = main(dir, "--rule", "NOPE");
        assertThat(nope[0]).as(nope[1] + nope[2]).isEqualTo("2");
        assertThat(nope[2].lines().toList()).as("stderr").hasSize(1).first().asString()
                .startsWith("iomux rules: ").contains("'NOPE'").doesNotContain("Exception");
    }

    /** Runs RuleMatrix.main in a child JVM with {@code extra} on its class path: {status, stdout, stderr}. */
    private static String[] main(Path extra, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path") + java.io.File.pathSeparator + extra,
                RuleMatrix.class.getName()));
        command.addAll(List.of(args));
        Path stdout = Files.createTempFile(extra, "out", ".txt");
        Path stderr = Files.createTempFile(extra, "err", ".txt");
        Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("RuleMatrix %s ends", List.of(args)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        return new String[] {String.valueOf(p.exitValue()), Files.readString(stdout), Files.readString(stderr)};
    }
}
