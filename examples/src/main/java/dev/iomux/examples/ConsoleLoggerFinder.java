package dev.iomux.examples;

import java.io.PrintStream;
import java.text.MessageFormat;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ResourceBundle;
import java.util.function.Supplier;

/**
 * Where the examples' {@link System.Logger} diagnostics go: one line each on standard error, INFO and
 * above, DEBUG too with {@code --verbose}.
 *
 * <p>Installed as the JVM's {@link System.LoggerFinder} through {@code META-INF/services}. Not
 * java.util.logging: its LogManager closes every handler in a shutdown hook of its own, so the lines a
 * server logs while it shuts down on SIGTERM would be lost, and those are the ones that matter then.
 */
public final class ConsoleLoggerFinder extends System.LoggerFinder {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static volatile System.Logger.Level threshold = System.Logger.Level.INFO;

    static {
        // Load the time-zone data now: a server out of descriptors (EMFILE) could not open tzdb.dat for
        // the first line it logs, and that line is the warning about being out of descriptors.
        LocalTime.now().format(TIME);
    }

    /** Called by {@link java.util.ServiceLoader}. */
    public ConsoleLoggerFinder() {
    }

    /**
     * Turns debug output on or off, for every logger.
     *
     * @param on true for DEBUG and above, false for INFO and above
     */
    public static void verbose(boolean on) {
        threshold = on ? System.Logger.Level.DEBUG : System.Logger.Level.INFO;
    }

    @Override
    public System.Logger getLogger(String name, Module module) {
        return new ConsoleLogger(name);
    }

    /** One logger; the name is shortened to its last dot-separated part. */
    private static final class ConsoleLogger implements System.Logger {
        private final String name;
        private final String shortName;

        ConsoleLogger(String name) {
            this.name = name;
            this.shortName = name.substring(name.lastIndexOf('.') + 1);
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            return level != Level.OFF && level.getSeverity() >= threshold.getSeverity();
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            if (isLoggable(level)) {
                write(level, msg, thrown);
            }
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            if (isLoggable(level)) {
                write(level, params == null || params.length == 0 ? format : MessageFormat.format(format, params), null);
            }
        }

        @Override
        public void log(Level level, Supplier<String> msgSupplier) {
            if (isLoggable(level)) {
                write(level, msgSupplier.get(), null);
            }
        }

        private void write(Level level, String msg, Throwable thrown) {
            PrintStream err = System.err;
            synchronized (err) {
                err.println(LocalTime.now().format(TIME) + " " + level.getName() + " " + shortName + ": " + msg);
                if (thrown != null) {
                    thrown.printStackTrace(err);
                }
                err.flush();
            }
        }
    }
}
