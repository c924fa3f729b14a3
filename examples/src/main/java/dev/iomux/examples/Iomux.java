package dev.iomux.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;
import dev.iomux.conformance.RuleMatrix;
import dev.iomux.examples.Command.UsageException;

/**
 * The {@code iomux} command line: {@code ./iomux <command> [options]}, or
 * {@code java -jar examples/target/iomux.jar <command> [options]}.
 *
 * <p>Each subcommand is one entry of {@link #COMMANDS}: a name, a one-line summary, its usage text and
 * a {@link Command}. This class only dispatches and turns failures into messages and exit statuses:
 * 0 done, 1 failed, 2 bad arguments (the usage is printed). Every message of a subcommand is one line
 * starting {@code iomux NAME: }; one of the dispatcher, {@code iomux: }.
 */
public final class Iomux {
    /** One subcommand of the table. */
    record Subcommand(String name, String summary, String usage, Command command) {
    }

    /** The subcommands, in the order {@code iomux help} lists them. */
    static final List<Subcommand> COMMANDS = List.of(
            new Subcommand("rules", "the live rule matrix: every readiness rule checked on every backend",
                    RuleMatrix.USAGE, RuleMatrix::run),
            new Subcommand("echo-server", "the echo server of Python's selectors documentation",
                    EchoServer.USAGE, EchoServer::run),
            new Subcommand("select-echo", "the classic select echo server, with an output queue per connection",
                    SelectEcho.USAGE, SelectEcho::run),
            new Subcommand("chat", "a chat server: each line to every other client; slow clients dropped",
                    ChatServer.USAGE, ChatServer::run),
            new Subcommand("et-echo", "edge-triggered echo with epoll(7)'s EAGAIN loops (epoll and uring only)",
                    EdgeEcho.USAGE, EdgeEcho::run),
            new Subcommand("http-hello", "a minimal HTTP/1.1 server for curl and wrk",
                    HttpHello.USAGE, HttpHello::run),
            new Subcommand("connect-scan", "non-blocking connects to many HOST:PORT at once (connect(2): EINPROGRESS)",
                    ConnectScan.USAGE, ConnectScan::run),
            new Subcommand("client", "a line client: stdin to the server, replies to stdout",
                    LineClient.USAGE, LineClient::run));

    private static final System.Logger LOG = System.getLogger(Iomux.class.getName());

    private Iomux() {
    }

    /**
     * Runs a subcommand and exits with its status.
     *
     * @param args the subcommand's name and its arguments
     */
    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        System.out.flush();
        System.exit(status);
    }

    /**
     * Runs a subcommand.
     *
     * @param args the subcommand's name and its arguments
     * @param out  standard output
     * @param err  standard error
     * @return the exit status
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.print(usage());
            return Command.USAGE;
        }
        if (List.of("help", "--help", "-h").contains(args[0])) {
            out.print(usage());
            return Command.OK;
        }
        if (List.of("--version", "-V").contains(args[0])) {
            out.print(version());
            return Command.OK;
        }
        Subcommand sub = byName().get(args[0]);
        if (sub == null) {
            err.println("iomux: unknown command '" + args[0] + "'");
            err.print(usage());
            return Command.USAGE;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            out.println(sub.usage());
            return Command.OK;
        }
        try {
            return sub.command().run(rest, out, err);
        } catch (UsageException e) {
            err.println("iomux " + sub.name() + ": " + e.getMessage());
            err.println(sub.usage());
            return Command.USAGE;
        } catch (Exception | LinkageError e) {
            // LinkageError too: a native library that will not load is still one line, not a stack trace.
            err.println("iomux " + sub.name() + ": " + (e.getMessage() != null ? e.getMessage() : e));
            LOG.log(System.Logger.Level.DEBUG, "the failure in full", e);
            return Command.FAILED;
        }
    }

    private static Map<String, Subcommand> byName() {
        Map<String, Subcommand> map = new LinkedHashMap<>();
        for (Subcommand s : COMMANDS) {
            map.put(s.name(), s);
        }
        return map;
    }

    /** @return the general usage: the commands and the options they all take */
    static String usage() {
        StringBuilder b = new StringBuilder("usage: iomux <command> [options]    (iomux <command> -h|--help for its options)\n"
                + "       iomux -V, --version                 (the version, the Java and the backend chosen here)\n\ncommands:\n");
        for (Subcommand s : COMMANDS) {
            b.append(String.format("  %-13s %s%n", s.name(), s.summary()));
        }
        b.append("\nEvery command takes -b|--backend ").append(String.join("|", Options.backendNames()))
                .append(" (default: the best available here, ")
                .append(bestBackend()).append("); all but rules take -v|--verbose.\n")
                .append("Exit status: 0 done, 1 failed, 2 bad arguments; each command's --help says more.\n");
        return b.toString();
    }

    /**
     * Returns what {@code iomux --version} prints: the release (from the {@code pom.properties} Maven
     * writes into every jar it builds, so that the version lives in the pom only), the Java running it,
     * the system, and the backend a command would choose here.
     */
    static String version() {
        List<String> available = new ArrayList<>();
        for (SelectorProvider p : Selectors.providers()) {
            if (p.isAvailable()) {
                available.add(p.name());
            }
        }
        available.sort(null);
        return "iomux " + release() + "\n"
                + "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + "), "
                + System.getProperty("java.home") + "\n"
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch") + "\n"
                + "backend " + bestBackend() + " (of " + String.join(", ", available) + ")\n";
    }

    private static String release() {
        try (InputStream in = Iomux.class.getResourceAsStream("/META-INF/maven/dev.iomux/examples/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null) {
                    return v;
                }
            }
        } catch (IOException unreadable) {
            // as if absent
        }
        return "(version unknown: run from compiled classes, not from a jar Maven built)";
    }

    private static String bestBackend() {
        for (SelectorProvider p : Selectors.providers()) {
            if (p.isAvailable()) {
                return p.name();
            }
        }
        return "none";
    }
}
