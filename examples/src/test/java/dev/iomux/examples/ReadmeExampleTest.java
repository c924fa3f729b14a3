package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's example as a reader pastes it: the first {@code java} block under its heading
 * {@value #HEADING}, compiled as it stands against this module's class path (the library and its
 * dependencies, as a user's project has them), then run in a JVM of its own with the native-access flag
 * the README gives, and spoken to over loopback.
 */
@ExtendWith(LeakCheck.class)
class ReadmeExampleTest {
    /** The README, from this module's directory (Maven runs tests there). */
    private static final Path README = Path.of("..", "README.md");
    /** The heading the example sits under: the first {@code java} block after it is the example. */
    static final String HEADING = "## An echo server";
    /** What the README tells class-path users to pass on JDK 22 and later (JDK 17 accepts it too). */
    private static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    /** How long any single wait may take: generous, for a loaded 2-core machine. */
    private static final long WAIT_SECONDS = 30;
    /** The address the example prints: {@code echo on /127.0.0.1:PORT}. */
    private static final Pattern LISTENING = Pattern.compile("/127\\.0\\.0\\.1:(\\d+)");

    @Test
    void theReadmeExampleCompilesAsItStandsAndEchoes(@TempDir Path dir) throws Exception {
        String source = exampleBlock(Files.readString(README));
        String className = className(source);
        Path file = dir.resolve("src").resolve(className.replace('.', File.separatorChar) + ".java");
        Files.createDirectories(file.getParent());
        Files.writeString(file, source);
        Path classes = dir.resolve("classes");
        compile(file, classes);

        Process server = new ProcessBuilder(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()),
                NATIVE_ACCESS, "-cp", classes + File.pathSeparator + System.getProperty("java.class.path"),
                className, "0") // port 0: a free one, which the example prints
                .redirectError(dir.resolve("stderr.txt").toFile()).start();
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
            int port = port(server, out, dir.resolve("stderr.txt"));
            try (Socket client = new Socket("127.0.0.1", port)) {
                client.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                BufferedReader echo = new BufferedReader(
                        new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
                OutputStream to = client.getOutputStream();
                for (String line : List.of("hello, iomux", "and again")) {
                    to.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                    to.flush();
                    assertThat(echo.readLine()).as("the echo of '%s'", line).isEqualTo(line);
                }
            }
        } finally {
            server.destroy(); // SIGTERM: the example serves until killed
            if (!server.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            server.getOutputStream().close();
        }
        assertThat(Files.readString(dir.resolve("stderr.txt")))
                .as("the example's stderr: %s is all the native access it needs", NATIVE_ACCESS)
                .doesNotContain("restricted method");
    }

    /**
     * @return the text of the first {@code ```java} block after {@link #HEADING} and before the next
     *         heading of the same level
     */
    static String exampleBlock(String readme) {
        List<String> lines = readme.lines().collect(Collectors.toList());
        int heading = lines.indexOf(HEADING);
        assertThat(heading).as("README.md has the heading '%s' that the example sits under", HEADING)
                .isNotNegative();
        int open = -1;
        for (int i = heading + 1; i < lines.size() && !lines.get(i).startsWith("## "); i++) {
            if (lines.get(i).equals("```java")) {
                open = i;
                break;
            }
        }
        assertThat(open).as("a ```java block under '%s' in README.md", HEADING).isNotNegative();
        int close = lines.subList(open + 1, lines.size()).indexOf("```");
        assertThat(close).as("the end of the ```java block under '%s'", HEADING).isNotNegative();
        return String.join("\n", lines.subList(open + 1, open + 1 + close)) + "\n";
    }

    /** @return the fully qualified name of the block's public class */
    private static String className(String source) {
        Matcher type = Pattern.compile("(?m)^public (?:final )?class (\\w+)").matcher(source);
        assertThat(type.find()).as("the README's example declares a public class, so it can be pasted as a file")
                .isTrue();
        Matcher pkg = Pattern.compile("(?m)^package ([\\w.]+);").matcher(source);
        return (pkg.find() ? pkg.group(1) + "." : "") + type.group(1);
    }

    /** Compiles {@code file} for Java 17 against the test class path; fails with javac's errors. */
    private static void compile(Path file, Path classes) throws IOException {
        List<String> lines = Files.readAllLines(file);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT,
                StandardCharsets.UTF_8)) {
            boolean compiled = javac.getTask(null, files, diagnostics,
                    List.of("--release", "17", "-classpath", System.getProperty("java.class.path"), "-d",
                            classes.toString()),
                    null, files.getJavaFileObjects(file)).call();
            if (!compiled) {
                fail("the README's example (under '%s') does not compile as it stands:%n%s", HEADING,
                        diagnostics.getDiagnostics().stream()
                                .filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
                                .map(d -> "  line " + d.getLineNumber() + " of the block: "
                                        + d.getMessage(Locale.ROOT).strip().replaceAll("\\s*\\R\\s*", "; ")
                                        + "\n      " + lines.get((int) d.getLineNumber() - 1).strip())
                                .collect(Collectors.joining("\n")));
            }
        }
    }

    /** Reads the example's first line of output, within {@link #WAIT_SECONDS}, and the port it names. */
    private static int port(Process server, BufferedReader out, Path stderr) throws Exception {
        CompletableFuture<String> first = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                first.complete(out.readLine());
            } catch (IOException e) {
                first.completeExceptionally(e);
            }
        }, "readme-example-stdout");
        reader.setDaemon(true);
        reader.start();
        String line;
        try {
            line = first.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            line = null;
        }
        Matcher m = line == null ? null : LISTENING.matcher(line);
        if (m == null || !m.find()) {
            fail("the README's example printed %s instead of its address (alive: %s); stderr:%n%s",
                    line == null ? "nothing" : "'" + line + "'", server.isAlive(), Files.readString(stderr));
        }
        return Integer.parseInt(m.group(1));
    }
}
