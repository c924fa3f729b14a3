package dev.iomux.examples;

import java.io.PrintStream;

/**
 * One subcommand of the {@code iomux} command line: what {@link Iomux}'s table maps a name to.
 *
 * <p>The shape is the same for every subcommand so that adding one is a single table entry.
 */
@FunctionalInterface
public interface Command {
    /** Exit status: done. */
    int OK = 0;
    /** Exit status: it ran and failed (a refused connect, a kernel error). */
    int FAILED = 1;
    /** Exit status: bad arguments, or a request this machine cannot honour (a mode the backend lacks). */
    int USAGE = 2;
    /** The exit statuses of a server, for its usage; 130 and 143 are the JVM's 128 + SIGINT, SIGTERM. */
    String SERVER_EXIT = "  Exit status: 130 after SIGINT and 143 after SIGTERM (a clean stop either way), 1 if it cannot\n"
            + "  listen or fails, 2 for bad arguments.";

    /**
     * Runs the subcommand.
     *
     * @param args the arguments after the subcommand's name
     * @param out  where results go (the status line, tables, replies)
     * @param err  where messages for the user go (diagnostics go through {@link System.Logger})
     * @return the exit status: {@link #OK}, {@link #FAILED} or {@link #USAGE}
     * @throws UsageException if the arguments are wrong; the caller prints the message and the usage
     * @throws Exception      if it fails; the caller prints the message and exits with {@link #FAILED}
     */
    int run(String[] args, PrintStream out, PrintStream err) throws Exception;

    /** Bad arguments: the message says which and what to give instead. */
    final class UsageException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        /**
         * Creates one.
         *
         * @param message what is wrong and what to give instead
         */
        public UsageException(String message) {
            super(message);
        }
    }
}
