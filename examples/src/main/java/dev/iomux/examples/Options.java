package dev.iomux.examples;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;
import dev.iomux.examples.Command.UsageException;

/**
 * The command line of one subcommand: {@code --name value} or {@code --name=value} options, flags, and
 * positional arguments. Every subcommand takes {@code --backend} and {@code --verbose}; the servers also
 * {@code --host} and {@code --port}. The usual ones have a short form, as the usages show: {@code -b NAME},
 * {@code -p PORT} (or {@code -p1234}) and {@code -v}. Anything unknown or malformed is a
 * {@link UsageException} that says what to give instead.
 */
final class Options {
    /** Options every subcommand takes. */
    private static final Set<String> COMMON_VALUED = Set.of("backend");
    private static final Set<String> COMMON_FLAGS = Set.of("verbose");
    /** The short forms, each of a long option; a command has one only if it takes the long one. */
    private static final Map<Character, String> SHORT = Map.of('b', "backend", 'p', "port", 'v', "verbose");

    private final String command;
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new TreeSet<>();
    private final List<String> positional = new ArrayList<>();

    private Options(String command) {
        this.command = command;
    }

    /**
     * Parses arguments.
     *
     * @param command the subcommand, for {@link #toString()}
     * @param args    the arguments after it
     * @param valued  the options that take a value, besides {@code --backend}
     * @param flagged the flags, besides {@code --verbose}
     * @return the options; {@code --verbose} has already turned on debug logging
     * @throws UsageException on an unknown option, a missing value or a repeated option
     */
    static Options parse(String command, String[] args, Set<String> valued, Set<String> flagged) {
        Options o = new Options(command);
        Set<String> known = new TreeSet<>(COMMON_VALUED);
        known.addAll(COMMON_FLAGS);
        known.addAll(valued);
        known.addAll(flagged);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--")) {
                o.positional.addAll(List.of(args).subList(i + 1, args.length));
                break;
            }
            if (!arg.startsWith("-") || arg.equals("-")) {
                o.positional.add(arg);
                continue;
            }
            String name;
            String value = null;
            if (arg.startsWith("--")) {
                name = arg.substring(2);
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
            } else {
                // -p 1234 or -p1234, as getopt(3) takes them.
                name = SHORT.get(arg.charAt(1));
                if (name == null || !known.contains(name)) {
                    throw unknown(arg, known);
                }
                if (arg.length() > 2) {
                    value = arg.substring(2);
                }
            }
            if (COMMON_FLAGS.contains(name) || flagged.contains(name)) {
                if (value != null) {
                    throw new UsageException("--" + name + " is a switch and takes no value (got '" + arg + "')");
                }
                o.flags.add(name);
            } else if (COMMON_VALUED.contains(name) || valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new UsageException("--" + name + " needs a value");
                    }
                    value = args[++i];
                }
                if (o.values.put(name, value) != null) {
                    throw new UsageException("--" + name + " is given twice");
                }
            } else {
                throw unknown(arg, known);
            }
        }
        ConsoleLoggerFinder.verbose(o.flag("verbose"));
        o.backendName(); // checked now, so that a typo is a usage error before anything is opened
        return o;
    }

    private static UsageException unknown(String arg, Set<String> known) {
        List<String> shown = new ArrayList<>();
        for (String name : known) {
            String form = "--" + name;
            for (Map.Entry<Character, String> e : SHORT.entrySet()) {
                if (e.getValue().equals(name)) {
                    form = "-" + e.getKey() + "/" + form;
                }
            }
            shown.add(form);
        }
        return new UsageException("unknown option '" + arg + "' (the options: " + String.join(", ", shown) + ")");
    }

    /** @return whether a flag was given */
    boolean flag(String name) {
        return flags.contains(name);
    }

    /** @return an option's value, or the default */
    String string(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    /** @return the positional arguments */
    List<String> positional() {
        return positional;
    }

    /**
     * Checks that no positional argument was given.
     *
     * @return this
     * @throws UsageException if one was
     */
    Options noPositional() {
        if (!positional.isEmpty()) {
            throw new UsageException("unexpected argument '" + positional.get(0) + "': this command takes options only");
        }
        return this;
    }

    /**
     * Returns an integer option.
     *
     * @throws UsageException if it is not a number within [min, max]
     */
    int integer(String name, int defaultValue, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException notANumber) {
            // falls through to the message
        }
        throw new UsageException("--" + name + " must be a whole number from " + min + " to " + max
                + " (got '" + v + "')");
    }

    /**
     * Returns a duration option: {@code 250ms}, {@code 3s}, or a number of milliseconds.
     *
     * @throws UsageException if it is not such a duration, or not positive
     */
    Duration duration(String name, Duration defaultValue) {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        String s = v.trim().toLowerCase(Locale.ROOT);
        try {
            Duration d = s.endsWith("ms") ? Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)))
                    : s.endsWith("s") ? Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000))
                    : Duration.ofMillis(Long.parseLong(s));
            if (!d.isNegative() && !d.isZero()) {
                return d;
            }
        } catch (NumberFormatException notANumber) {
            // falls through to the message
        }
        throw new UsageException("--" + name + " must be a positive duration such as 500ms or 3s (got '" + v + "')");
    }

    /**
     * Returns the address a server listens on: {@code --host} (a loopback address, 127.0.0.1 by default)
     * and {@code --port} (0 picks a free port; the status line says which).
     *
     * @throws UsageException if the host is not a loopback address or the port is out of range
     */
    InetSocketAddress listenAddress(int defaultPort) {
        String host = string("host", "127.0.0.1");
        int port = integer("port", defaultPort, 0, 65535);
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new UsageException("--host '" + host + "' is not an address: give a loopback address such as 127.0.0.1 or ::1");
        }
        if (!address.isLoopbackAddress()) {
            // The examples are demonstrations, not hardened servers: they stay on this machine.
            throw new UsageException("--host " + host + " is not a loopback address; the examples listen on "
                    + "127.0.0.0/8 or ::1 only");
        }
        return new InetSocketAddress(address, port);
    }

    /**
     * Opens a selector on the {@code --backend} given, or the best available one.
     *
     * @throws UnsupportedOperationException if that backend cannot work here, saying why
     */
    Selector openSelector() throws IOException {
        String name = backendName();
        return name == null ? Selectors.open() : Selectors.open(name);
    }

    /**
     * Returns the backend {@link #openSelector()} opens, without opening it.
     *
     * @throws UnsupportedOperationException if no backend is available here
     */
    SelectorProvider provider() {
        String name = backendName();
        return name == null ? Selectors.defaultProvider() : Selectors.provider(name);
    }

    /** @return the names of the backends on the class path, available here or not */
    static List<String> backendNames() {
        List<String> names = new ArrayList<>();
        for (SelectorProvider p : Selectors.providers()) {
            names.add(p.name());
        }
        return names;
    }

    /** @return the backend asked for, or null for the default */
    String backendName() {
        String name = values.get("backend");
        if (name == null) {
            return null;
        }
        List<String> names = backendNames();
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        if (!names.contains(wanted)) {
            throw new UsageException("--backend must be one of " + String.join(", ", names) + " (got '" + name + "')");
        }
        return wanted;
    }

    @Override
    public String toString() {
        return command + " " + values + " " + flags + " " + positional;
    }
}
