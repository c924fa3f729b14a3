package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

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
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--backend must be one of epoll, poll, select (got 'kqueue')");
        assertThat(run("--backend")).isEqualTo(2);
    }
}
