package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/** The dispatcher and the argument checks, in process: every mistake is exit status 2 and a usage. */
@ExtendWith(LeakCheck.class)
class IomuxCliTest {

    /** The result of one in-process run. */
    private record Run(int status, String out, String err) {
    }

    private static Run iomux(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Iomux.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        ConsoleLoggerFinder.verbose(false);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void noArgumentsPrintsTheCommandsAndFails() {
        Run r = iomux();
        assertThat(r.status()).isEqualTo(2);
        for (Iomux.Subcommand s : Iomux.COMMANDS) {
            assertThat(r.err()).contains("  " + s.name() + " ");
        }
        assertThat(r.err()).contains("--backend select|poll|epoll");
    }

    @Test
    void helpGoesToStdoutAndSucceeds() {
        Run r = iomux("help");
        assertThat(r.status()).isZero();
        assertThat(r.out()).startsWith("usage: iomux <command>");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void anUnknownCommandIsNamed() {
        Run r = iomux("ecko-server");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("unknown command 'ecko-server'").contains("echo-server");
    }

    /** Every subcommand: --help is its usage on stdout; an unknown option, a bad backend are usage errors. */
    @TestFactory
    Stream<DynamicTest> everySubcommandExplainsItself() {
        return Iomux.COMMANDS.stream().flatMap(s -> Stream.of(
                DynamicTest.dynamicTest(s.name() + " --help", () -> {
                    Run r = iomux(s.name(), "--help");
                    assertThat(r.status()).isZero();
                    assertThat(r.out()).startsWith("usage: iomux " + s.name()).contains("--backend");
                }),
                DynamicTest.dynamicTest(s.name() + " --no-such-option", () -> {
                    Run r = iomux(s.name(), "--no-such-option");
                    assertThat(r.status()).isEqualTo(2);
                    assertThat(r.err()).contains("unknown option '--no-such-option'")
                            .contains("usage: iomux " + s.name());
                }),
                DynamicTest.dynamicTest(s.name() + " --backend kqueue", () -> {
                    Run r = iomux(s.name(), "--backend", "kqueue", "127.0.0.1:1");
                    assertThat(r.status()).isEqualTo(2);
                    assertThat(r.err()).contains("--backend must be one of epoll, poll, select (got 'kqueue')");
                })));
    }

    @Test
    void badValuesSayWhatToGiveInstead() {
        Run port = iomux("echo-server", "--port", "70000");
        assertThat(port.status()).isEqualTo(2);
        assertThat(port.err()).contains("--port must be a whole number from 0 to 65535 (got '70000')");

        Run host = iomux("http-hello", "--host=192.0.2.1");
        assertThat(host.status()).isEqualTo(2);
        assertThat(host.err()).contains("--host 192.0.2.1 is not a loopback address");

        Run missing = iomux("chat", "--port");
        assertThat(missing.status()).isEqualTo(2);
        assertThat(missing.err()).contains("--port needs a value");

        Run stray = iomux("echo-server", "1234");
        assertThat(stray.status()).isEqualTo(2);
        assertThat(stray.err()).contains("takes options only (got '1234')");

        Run grace = iomux("chat", "--grace", "soon");
        assertThat(grace.status()).isEqualTo(2);
        assertThat(grace.err()).contains("--grace must be a positive duration such as 500ms or 3s (got 'soon')");
    }

    @Test
    void connectScanNeedsTargetsThatParse() {
        Run none = iomux("connect-scan");
        assertThat(none.status()).isEqualTo(2);
        assertThat(none.err()).contains("give at least one target, as HOST:PORT");

        Run bad = iomux("connect-scan", "127.0.0.1");
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("target '127.0.0.1' is not HOST:PORT");
    }
}
