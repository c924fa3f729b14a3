package dev.iomux.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.iomux.Events;
import dev.iomux.SelectorKey;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.testing.Expect;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every misuse in docs/RELIABILITY.md's table, tried on every backend it applies to.
 *
 * <p>Each try gets a fresh selector and must end within {@link #BOUND} (a hang fails, it does not stall
 * the build). A refused call must throw exactly the row's exception type with the row's message, leave
 * the registrations as they were, and leave the selector working (a pipe's write end registered
 * afterwards is reported writable). Each try must give back every descriptor and native block it took.
 * The messages seen are written to {@code target/reliability/misuse-table.md}, the table the document
 * shows; {@link #theDocumentListsEveryCaseAndNothingElse()} keeps the two in step.
 */
@ExtendWith(LeakCheck.class)
class MisuseTableTest {
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final Path DOC = Path.of("..", "docs", "RELIABILITY.md");
    private static final Pattern ROW = Pattern.compile("^\\| (M\\d\\d) \\|.*$", Pattern.MULTILINE);

    /** id -> backend -> "Type: message" as seen, for the generated table. */
    private static final Map<String, Map<String, String>> SEEN = new ConcurrentHashMap<>();

    @TestFactory
    Stream<DynamicNode> everyMisuseOnEveryBackend() {
        return MisuseCases.all().stream().map(m -> DynamicContainer.dynamicContainer(m.id() + ": " + m.what(),
                m.on().stream().map(b -> DynamicTest.dynamicTest(b, () -> tryOn(m, b)))));
    }

    private static void tryOn(Misuse m, String backend) throws Exception {
        Map<Integer, String> fdsBefore = LeakCheck.openDescriptors();
        long blocksBefore = NativeBuffer.liveBlocks();
        assertTimeoutPreemptively(BOUND, () -> {
            try (MisuseContext c = new MisuseContext(backend)) {
                Misuse.Call call = m.setup().prepare(c);
                Map<Integer, SelectorKey> keysBefore = c.sel != null && c.sel.isOpen() ? Map.copyOf(c.sel.keys()) : null;
                Throwable thrown = null;
                try {
                    call.run();
                } catch (Throwable t) {
                    thrown = t;
                }
                if (m.type() == null) {
                    if (thrown != null) {
                        throw new AssertionError(m.id() + " on " + backend + ": expected " + m.outcome()
                                + ", got " + thrown, thrown);
                    }
                    SEEN.computeIfAbsent(m.id(), k -> new ConcurrentHashMap<>()).put(backend, "");
                } else {
                    checkRefusal(m, backend, c, thrown);
                    if (keysBefore != null && c.sel.isOpen()) {
                        assertThat(c.sel.keys()).as("%s on %s: a refused call changes no registration", m.id(), backend)
                                .containsExactlyInAnyOrderEntriesOf(keysBefore);
                    }
                }
                c.runAfterwards();
                if (c.sel != null && c.sel.isOpen()) {
                    int w = c.fds.pipe()[1];
                    c.sel.register(w, Events.WRITE);
                    assertThat(Expect.ready(c.sel, w, Events.WRITE)).as("%s on %s: the selector still works", m.id(),
                            backend).isNotZero();
                    c.sel.unregister(w);
                }
            }
        }, () -> m.id() + " (" + m.what() + ") on " + backend + " did not finish within " + BOUND);
        checkNothingLeaked(m, backend, fdsBefore, blocksBefore);
    }

    private static void checkRefusal(Misuse m, String backend, MisuseContext c, Throwable thrown) {
        if (thrown == null) {
            throw new AssertionError(m.id() + " (" + m.what() + ") on " + backend + ": expected "
                    + m.type().getSimpleName() + ", but the call returned normally");
        }
        if (thrown instanceof AssertionError) {
            throw (AssertionError) thrown; // a check inside the call failed
        }
        String message = String.valueOf(thrown.getMessage());
        String seen = normalise(message, c.fd, m.on().size() > 1 ? backend : null);
        SEEN.computeIfAbsent(m.id(), k -> new ConcurrentHashMap<>())
                .put(backend, thrown.getClass().getSimpleName() + ": " + seen);
        assertThat(thrown).as("%s (%s) on %s", m.id(), m.what(), backend).isExactlyInstanceOf(m.type());
        String expected = m.message().replace("{backend}", backend);
        assertThat(normalise(message, c.fd, null)).as("%s on %s: the message", m.id(), backend).contains(expected);
        if (m.namesFd()) {
            assertThat(message).as("%s on %s: the message names the descriptor", m.id(), backend)
                    .containsPattern("(?<![0-9])" + Pattern.quote(Integer.toString(c.fd)) + "(?![0-9])");
        }
    }

    /** The message with the case's descriptor as N and, for a row of several backends, the name as {backend}. */
    static String normalise(String message, int fd, String backend) {
        String s = fd == MisuseContext.NO_FD ? message
                : message.replaceAll("(?<![0-9])" + Pattern.quote(Integer.toString(fd)) + "(?![0-9])", "N");
        if (backend != null) {
            s = s.replaceAll("\\b(the|this|same) " + backend + " (selector|backend)\\b", "$1 {backend} $2");
        }
        return s;
    }

    private static void checkNothingLeaked(Misuse m, String backend, Map<Integer, String> before, long blocks)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 2_000_000_000L;
        Map<Integer, String> leaked;
        while (true) {
            leaked = LeakCheck.leaked(before, LeakCheck.openDescriptors());
            if ((leaked.isEmpty() && NativeBuffer.liveBlocks() == blocks) || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(20);
        }
        assertThat(leaked).as("%s on %s: descriptors left open", m.id(), backend).isEmpty();
        assertThat(NativeBuffer.liveBlocks()).as("%s on %s: native blocks left allocated", m.id(), backend)
                .isEqualTo(blocks);
    }

    @Test
    void theDocumentListsEveryCaseAndNothingElse() throws IOException {
        String doc = Files.readString(DOC);
        Map<String, String> rows = new LinkedHashMap<>();
        Matcher row = ROW.matcher(doc);
        while (row.find()) {
            assertThat(rows.put(row.group(1), row.group().replace("\\|", "|"))).as("row %s appears once", row.group(1))
                    .isNull();
        }
        List<Misuse> cases = MisuseCases.all();
        assertThat(rows.keySet()).as("the misuse rows of %s", DOC)
                .containsExactlyElementsOf(cases.stream().map(Misuse::id).collect(Collectors.toList()));
        for (Misuse m : cases) {
            String line = rows.get(m.id());
            assertThat(line).as("row %s names the misuse", m.id()).contains(m.what());
            assertThat(line).as("row %s names the backends", m.id()).contains(String.join(", ", m.on()));
            if (m.type() == null) {
                assertThat(line).as("row %s says what happens", m.id()).contains("accepted").contains(m.outcome());
            } else {
                assertThat(line).as("row %s names the exception", m.id()).contains(m.type().getSimpleName())
                        .contains(m.message());
            }
        }
    }

    /** Writes the table as seen, for RELIABILITY.md, and prints the counts it quotes. */
    @AfterAll
    static void writeTheTable() throws IOException {
        if (SEEN.isEmpty()) {
            return;
        }
        StringBuilder out = new StringBuilder("| ID | Misuse | Backends | Outcome |\n| --- | --- | --- | --- |\n");
        int tries = 0;
        for (Misuse m : MisuseCases.all()) {
            Map<String, String> seen = SEEN.getOrDefault(m.id(), Map.of());
            tries += seen.size();
            String outcome;
            if (m.type() == null) {
                outcome = "accepted: " + m.outcome();
            } else {
                // Backends that saw the same thing share one entry.
                Map<String, Set<String>> byText = new TreeMap<>();
                seen.forEach((b, text) -> byText.computeIfAbsent(text, k -> new TreeSet<>()).add(b));
                List<String> parts = new ArrayList<>();
                byText.forEach((text, bs) -> {
                    int colon = text.indexOf(": ");
                    String shown = text.substring(0, colon) + " `" + text.substring(colon + 2) + "`";
                    parts.add(byText.size() == 1 ? shown : String.join(", ", bs) + ": " + shown);
                });
                outcome = String.join("<br>", parts);
            }
            out.append("| ").append(m.id()).append(" | ").append(m.what().replace("|", "\\|")).append(" | ")
                    .append(String.join(", ", m.on())).append(" | ").append(outcome.replace("|", "\\|")).append(" |\n");
        }
        Path file = Path.of("target", "reliability", "misuse-table.md");
        Files.createDirectories(file.getParent());
        Files.writeString(file, out.toString());
        System.out.printf("misuse table: %d misuses, %d tries over the backends, written to %s%n",
                MisuseCases.all().size(), tries, file.toAbsolutePath());
    }
}
