package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The shaded {@code target/iomux.jar} that {@code ./iomux} runs, after {@code package}: its manifest
 * names the main class, the three backends' service files are merged, and the console logger is found.
 */
@ExtendWith(LeakCheck.class)
class IomuxJarIT {
    private static final Path JAR = Path.of("target", "iomux.jar");

    @Test
    void theJarRunsTheCommandLine() throws Exception {
        assertThat(JAR).as("built by the package phase").exists();
        try (CliProcess help = CliProcess.startJar(JAR, "help")) {
            assertThat(help.awaitExit()).isZero();
            assertThat(help.stdout()).contains("echo-server").contains("http-hello");
        }
        try (CliProcess typo = CliProcess.startJar(JAR, "echo-server", "--backend", "kqueue")) {
            assertThat(typo.awaitExit()).isEqualTo(Command.USAGE);
            assertThat(typo.stderr()).as("all three backends' services merged")
                    .contains("--backend must be one of epoll, poll, select, uring, uring-single");
        }
    }

    @Test
    void theJarSaysItsVersion() throws Exception {
        // The version Maven stamped into the jar (the same pom.properties it wrote beside it), not a copy.
        Properties built = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of("target", "maven-archiver", "pom.properties"))) {
            built.load(r);
        }
        try (CliProcess version = CliProcess.startJar(JAR, "--version")) {
            assertThat(version.awaitExit()).isZero();
            assertThat(version.stdout()).startsWith("iomux " + built.getProperty("version") + "\n")
                    .contains("Java " + System.getProperty("java.version"))
                    .containsPattern("backend (epoll|poll|select) \\(of epoll, poll, select, uring, uring-single\\)");
        }
    }

    @Test
    void theJarPrintsTheRuleMatrixOfTheConformanceKit() throws Exception {
        // The main job, from the jar: the kit, its catalog resource, AssertJ and the fixtures must all be
        // shaded in (a test-scoped copy of any of them would fail every rule here).
        try (CliProcess rules = CliProcess.startJar(JAR, "rules", "--rule", "READ-FIN", "--rule", "FILE-EPOLL-EPERM")) {
            assertThat(rules.awaitExit()).as(rules.stdout() + rules.stderr()).isZero();
            assertThat(rules.stdout()).containsPattern("READ-FIN\\s+pass\\s+pass\\s+pass")
                    .containsPattern("FILE-EPOLL-EPERM\\s+pass\\s+pass\\s+pass")
                    .contains("epoll: file: refused, EPERM");
        }
        try (CliProcess bad = CliProcess.startJar(JAR, "rules", "--backend", "kqueue")) {
            assertThat(bad.awaitExit()).isEqualTo(Command.USAGE);
            assertThat(bad.stderr()).contains("--backend must be one of epoll, poll, select, uring, uring-single (got 'kqueue')", "usage: iomux rules");
        }
    }

    @Test
    void theJarServesAndShutsDown() throws Exception {
        assertThat(Files.size(JAR)).as("dependencies shaded in").isGreaterThan(1_000_000);
        try (CliProcess server = CliProcess.startJar(JAR, "echo-server", "--backend", "select", "--port", "0")) {
            InetSocketAddress address = server.awaitListening();
            try (Socket s = EchoProcessTest.connect(address)) {
                byte[] line = "through the jar\n".getBytes(StandardCharsets.US_ASCII);
                assertThat(EchoProcessTest.roundTrip(s, line)).isEqualTo(line);
                assertThat(server.terminate()).isEqualTo(143);
            }
            assertThat(server.stderr()).as("the console logger, from the jar's service file")
                    .containsPattern("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO EventLoop: echo-server stopped");
        }
    }
}
