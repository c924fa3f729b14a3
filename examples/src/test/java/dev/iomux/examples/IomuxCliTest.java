package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.iomux.Selectors;
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
        assertThat(r.err()).contains("--backend epoll|poll|select|uring|uring-single");
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
                    assertThat(r.out()).startsWith("usage: iomux " + s.name()).contains("--backend").contains("uring");
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
                    assertThat(r.err()).contains("--backend must be one of epoll, poll, select, uring, uring-single (got 'kqueue')");
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
        assertThat(stray.err()).contains("unexpected argument '1234': this command takes options only");

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

    @Test
    void versionNamesTheReleaseTheJavaAndTheBackendChosenHere() {
        for (String flag : List.of("--version", "-V")) {
            Run r = iomux(flag);
            assertThat(r.status()).as(flag).isZero();
            assertThat(r.err()).as(flag).isEmpty();
            assertThat(r.out()).as(flag).startsWith("iomux ")
                    .contains("Java " + System.getProperty("java.version"))
                    .contains("backend " + Selectors.defaultProvider().name() + " (of epoll, poll, select, uring, uring-single)");
        }
        assertThat(iomux("help").out()).contains("-V, --version");
    }

    /** Short options: the help shows them, and each means what its long form does (the same message). */
    private static final Pattern SHORT = Pattern.compile("(?<![\\w-])-(\\w)(?:\\||, )--([\\w-]+)");

    @TestFactory
    Stream<DynamicTest> everyShortOptionTheHelpShowsWorks() {
        return Iomux.COMMANDS.stream().map(s -> DynamicTest.dynamicTest(s.name(), () -> {
            List<String[]> shown = new ArrayList<>();
            Matcher m = SHORT.matcher(s.usage());
            while (m.find()) {
                shown.add(new String[] {m.group(1), m.group(2)});
            }
            List<String> letters = shown.stream().map(a -> a[0]).toList();
            assertThat(letters).as(s.name() + "'s usage shows").contains("b");
            if (!s.name().equals("rules")) {
                assertThat(letters).as(s.name() + "'s usage shows").contains("v");
            }
            for (String[] option : shown) {
                boolean flag = option[1].equals("verbose") || option[1].equals("help");
                // A value no option takes, so that both forms stop at a message that names the option,
                // or, for a flag, an unknown option after it.
                String[] shortForm = flag ? new String[] {s.name(), "-" + option[0], "--no-such-option"}
                        : new String[] {s.name(), "-" + option[0], "!bad"};
                String[] longForm = flag ? new String[] {s.name(), "--" + option[1], "--no-such-option"}
                        : new String[] {s.name(), "--" + option[1], "!bad"};
                if (option[1].equals("help")) {
                    continue; // --help wins over everything; the dispatcher test has it
                }
                Run shortRun = iomux(shortForm);
                Run longRun = iomux(longForm);
                assertThat(shortRun.status()).as(String.join(" ", shortForm)).isEqualTo(2);
                assertThat(shortRun.err()).as(String.join(" ", shortForm)).isEqualTo(longRun.err());
            }
        }));
    }

    @Test
    void shortOptionsRunWhatTheLongOnesRun() {
        Run port = iomux("echo-server", "-p", "70000");
        assertThat(port.status()).isEqualTo(2);
        assertThat(port.err()).startsWith("iomux echo-server: --port must be a whole number from 0 to 65535 (got '70000')");

        Run attached = iomux("chat", "-p70000");
        assertThat(attached.err()).startsWith("iomux chat: --port must be a whole number from 0 to 65535 (got '70000')");

        Run backend = iomux("connect-scan", "-b", "kqueue", "127.0.0.1:1");
        assertThat(backend.err()).startsWith("iomux connect-scan: --backend must be one of epoll, poll, select, uring, uring-single (got 'kqueue')");

        Run rule = iomux("rules", "-b", "poll", "-r", "NOPE");
        assertThat(rule.status()).isEqualTo(2);
        assertThat(rule.err()).startsWith("iomux rules: no rule 'NOPE'");

        Run unknown = iomux("http-hello", "-x");
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err()).startsWith("iomux http-hello: unknown option '-x'");
    }

    /**
     * Every error of every command is one line {@code iomux COMMAND: message} (the command named once),
     * then, for bad arguments, the command's usage; the status is the one its help documents.
     */
    @TestFactory
    Stream<DynamicTest> everyErrorStartsWithTheCommandOnce() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Iomux.Subcommand s : Iomux.COMMANDS) {
            List<String[]> bad = new ArrayList<>(List.of(new String[] {"--no-such-option"}, new String[] {"-x"},
                    new String[] {"--backend", "kqueue", "127.0.0.1:1"}, new String[] {"stray"},
                    new String[] {"--backend"}));
            if (s.name().equals("rules")) {
                bad.add(new String[] {"--rule", "NOPE"});
            }
            if (s.name().equals("et-echo")) {
                bad.add(new String[] {"--backend", "poll", "--port", "0"});
            }
            for (String[] args : bad) {
                String[] all = Stream.concat(Stream.of(s.name()), Stream.of(args)).toArray(String[]::new);
                tests.add(DynamicTest.dynamicTest(String.join(" ", all), () -> {
                    Run r = iomux(all);
                    assertThat(r.status()).as(r.err()).isEqualTo(Command.USAGE);
                    String first = r.err().lines().findFirst().orElse("");
                    assertThat(first).startsWith("iomux " + s.name() + ": ");
                    assertThat(first.substring(("iomux " + s.name() + ": ").length()))
                            .as("the command named once").doesNotStartWith(s.name())
                            .doesNotContain("Exception");
                    assertThat(r.out()).isEmpty();
                    assertThat(s.usage()).as("its help documents the status")
                            .contains("Exit status:").contains("2 for bad arguments");
                }));
            }
        }
        return tests.stream();
    }

    @Test
    void aFailureIsOneLineWithTheCommandAndStatus1() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket()) {
            free.bind(new InetSocketAddress("127.0.0.1", 0));
            port = free.getLocalPort();
        }
        Run refused = iomux("client", "-p", Integer.toString(port));
        assertThat(refused.status()).isEqualTo(Command.FAILED);
        assertThat(refused.err().lines().toList()).hasSize(1).first().asString()
                .startsWith("iomux client: connect(127.0.0.1:" + port + "): ECONNREFUSED");
        for (Iomux.Subcommand s : Iomux.COMMANDS) {
            assertThat(s.usage()).as(s.name()).contains("Exit status:");
        }
    }
}
