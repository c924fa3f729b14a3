package dev.iomux.it.reliability;

import java.util.List;

/**
 * One row of the misuse table in docs/RELIABILITY.md: a wrong call, the backends it is tried on, and
 * what it must get, an exception of exactly {@link #type} whose message contains {@link #message}
 * (with {@code {backend}} standing for the backend's name), or, when {@link #type} is null, the
 * behaviour described by {@link #outcome}, which the case's own assertions check.
 *
 * @param id      the row's id in RELIABILITY.md, e.g. "M01"
 * @param what    the misuse, as the table shows it
 * @param on      the backends it applies to ("select", "poll", "epoll"); {@link #ANY} for calls made
 *                before any selector exists
 * @param type    the exception type expected, exactly (not a subclass); null if the call is accepted
 * @param message a part of the message, {@code {backend}} replaced by the backend's name
 * @param namesFd whether the message must name the descriptor the case used
 * @param outcome for an accepted call, what happens instead of an exception
 * @param setup   makes the situation and returns the wrong call
 */
record Misuse(String id, String what, List<String> on, Class<? extends Throwable> type, String message,
              boolean namesFd, String outcome, Setup setup) {

    static final List<String> ALL = List.of("select", "poll", "epoll");
    static final List<String> ANY = List.of("any");

    /** Prepares a case on a fresh selector and returns the call to try. */
    @FunctionalInterface
    interface Setup {
        Call prepare(MisuseContext c) throws Exception;
    }

    /** The wrong call. */
    @FunctionalInterface
    interface Call {
        void run() throws Throwable;
    }

    static Misuse refused(String id, String what, List<String> on, Class<? extends Throwable> type,
                          String message, boolean namesFd, Setup setup) {
        return new Misuse(id, what, on, type, message, namesFd, null, setup);
    }

    static Misuse accepted(String id, String what, List<String> on, String outcome, Setup setup) {
        return new Misuse(id, what, on, null, null, false, outcome, setup);
    }
}
