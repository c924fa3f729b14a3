package dev.iomux.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.lang.module.FindException;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library jars on the module path, used by a module of its own ({@code src/test/modular}: requires
 * dev.iomux.epoll, nothing else), in a child JVM of the JDK under test (JDK 17 in the first test pass,
 * JDK 25 in the second), with no {@code --add-modules}.
 *
 * <p>The module path is what a module-path user puts there: iomux's four library modules (the reactor's
 * jars after {@code package}, their class directories before) and jnr-ffi's dependency tree, taken
 * from this test's class path; nothing else, so that a {@code requires} missing from a module-info
 * shows here. Only the native-access flag is passed: a library cannot grant itself native access.
 */
@ExtendWith(LeakCheck.class)
class ModulePathTest {
    /** The library modules: core-api and the three backends. */
    private static final Set<String> IOMUX = Set.of("dev.iomux", "dev.iomux.select", "dev.iomux.poll", "dev.iomux.epoll");
    /** What the README tells module-path users to pass on JDK 22 and later (JDK 17 accepts it too). */
    private static final String NATIVE_ACCESS = "--enable-native-access=dev.iomux,org.jnrproject.jffi";
    private static final String CONSUMER = "dev.iomux.examples.modular";

    @TempDir
    static Path dir;
    private static String modulePath;

    @BeforeAll
    static void compileTheConsumer() throws IOException {
        List<String> path = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String module = moduleName(Path.of(entry));
            if (module != null && (IOMUX.contains(module) || module.startsWith("org.jnrproject.")
                    || module.startsWith("jnr.") || module.startsWith("org.objectweb.asm"))) {
                path.add(entry);
            }
        }
        assertThat(path).as("iomux's and jnr-ffi's modules on the test class path").hasSizeGreaterThan(IOMUX.size());
        Path out = dir.resolve("consumer");
        List<File> sources;
        try (Stream<Path> files = Files.walk(Path.of("src", "test", "modular", CONSUMER))) {
            sources = files.filter(f -> f.toString().endsWith(".java")).map(Path::toFile).collect(Collectors.toList());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            boolean compiled = javac.getTask(null, files, diagnostics,
                    List.of("--release", "17", "-Xlint:-requires-automatic", "--module-path",
                            String.join(File.pathSeparator, path), "-d", out.toString()),
                    null, files.getJavaFileObjectsFromFiles(sources)).call();
            assertThat(compiled).as("the consumer compiles against the module path: %s", diagnostics.getDiagnostics()).isTrue();
        }
        path.add(0, out.toString());
        modulePath = String.join(File.pathSeparator, path);
    }

    @Test
    void aModuleThatRequiresOneBackendFindsAllThreeAndSelectsOnAPipe() throws Exception {
        String[] run = run(NATIVE_ACCESS);
        assertThat(run[0]).as(run[1] + run[2]).isEqualTo("0");
        assertThat(run[1].lines()).containsExactly(
                "module dev.iomux explicit",
                "epoll: readable, read 1 byte, dev.iomux.epoll",
                "poll: readable, read 1 byte, dev.iomux.poll",
                "select: readable, read 1 byte, dev.iomux.select",
                "default: epoll");
        // No "WARNING: A restricted method ... has been called" (JDK 24+, JEP 472), nor anything else.
        assertThat(run[2]).as("stderr").isEmpty();
    }

    @Test
    void withoutTheFlagJdk25NamesExactlyTheTwoModulesTheFlagEnables() throws Exception {
        // JDK 22-23 allow restricted calls silently; from JDK 24 each module that calls one without
        // native access gets a warning naming the flag it needs (JEP 472).
        assumeTrue(Runtime.version().feature() >= 24, "JDK 24+ warns about restricted calls");
        String[] run = run();
        assertThat(run[0]).as(run[1] + run[2]).isEqualTo("0");
        assertThat(run[2].lines().filter(l -> l.startsWith("WARNING: Use --enable-native-access=")).sorted())
                .as(run[2]).containsExactly(
                        // ForeignIo's java.lang.foreign downcalls (Linker::downcallHandle)
                        "WARNING: Use --enable-native-access=dev.iomux to avoid a warning for callers in this module",
                        // jffi's StubLoader loading libjffi (System::load)
                        "WARNING: Use --enable-native-access=org.jnrproject.jffi to avoid a warning for callers in this module");
    }

    /** Runs the consumer on the module path: {status, stdout, stderr}. */
    private static String[] run(String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()), "-XX:TieredStopAtLevel=1"));
        command.addAll(Arrays.asList(options));
        command.addAll(List.of("--module-path", modulePath, "--module", CONSUMER + "/" + CONSUMER + ".Main"));
        Path stdout = Files.createTempFile(dir, "out", ".txt");
        Path stderr = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s ends", command).isTrue();
        } finally {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        return new String[] {String.valueOf(p.exitValue()), Files.readString(stdout), Files.readString(stderr)};
    }

    /** The name of the one module at {@code entry} (a jar, or a class directory with a module-info), or null. */
    private static String moduleName(Path entry) {
        try {
            Set<ModuleReference> found = ModuleFinder.of(entry).findAll();
            return found.size() == 1 ? found.iterator().next().descriptor().name() : null;
        } catch (FindException notAModule) {
            return null;
        }
    }
}
