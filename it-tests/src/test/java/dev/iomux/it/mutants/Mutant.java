package dev.iomux.it.mutants;

import java.util.List;

import dev.iomux.SelectorProvider;
import dev.iomux.conformance.Mechanism;

/**
 * One planted bug of the ports {@link PollPort} and {@link EpollPort}, each of a distinct class, with the
 * rules of the kit most likely to catch it (tried first; {@link KitMutationTest} falls back to every rule).
 *
 * <p>Candidate bugs left out because they are equivalent to the clean code, so no test could tell them
 * apart:
 * <ul>
 * <li>returning 0 instead of {@code INTERRUPTED} on EINTR: the base loops on an empty result with the
 *     time left just as it does on {@code INTERRUPTED}, and a zero timeout returns either way;</li>
 * <li>not clearing {@code revents} before poll(2): the kernel writes every entry's {@code revents},
 *     0 included, and a negative fd's is set to 0 too (poll(2));</li>
 * <li>a hang-up made READ only, not WRITE: equivalent on every socket and pipe, so for every descriptor
 *     the kit has. tcp_poll and unix_poll report POLLOUT along with POLLHUP to a writer (the send side
 *     is shut or has room once the peer is gone), and a pipe's write end gets POLLERR, never POLLHUP. It
 *     differs only where POLLHUP comes without POLLOUT, as on a terminal whose other side closed.</li>
 * </ul>
 *
 * <p>Bugs the SPI leaves no room for, since the base does that part for a port whose sets are passed
 * whole to each wait ({@code Updates.AT_NEXT_WAIT}): a register that does not check the descriptor is
 * open, a register or modify from another thread that does not wake the blocked select, a re-arming
 * modify that is not applied, and one report per direction delivering a key twice (the base merges).
 */
enum Mutant {
    // --- What is asked of the kernel ------------------------------------------------------------
    REQUEST_BIT_SWAPPED(Port.POLL, "interest mask: WRITE asks the kernel for POLLPRI (0x2) instead of POLLOUT (0x4)",
            "API-SELECT-RESULT", "WRITE-SPACE"),
    RDHUP_NOT_ASKED(Port.POLL, "READ asks for POLLIN without POLLRDHUP: a peer's FIN is R without RH",
            "READ-FIN"),
    PRIORITY_NOT_ASKED(Port.POLL, "PRIORITY asks the kernel for nothing: urgent data is never reported",
            "PRI-OOB"),
    BUSY_POLL_EVERYTHING(Port.POLL, "every key asks for POLLIN|POLLOUT|POLLPRI|POLLRDHUP and Java filters: "
            + "a READ key on a writable socket wakes every poll (a busy loop)", "REPORT-NO-SPIN", "CLOSED-FD"),
    WIDER_REQUEST(Port.POLL, "a WRITE key also asks for POLLIN: a writer blocked on a full buffer wakes for "
            + "every byte that arrives", "WRITE-SPACE"),

    // --- What is made of the kernel's answer ----------------------------------------------------
    REVENTS_FROM_EVENTS(Port.POLL, "revents read at the offset of events (4 instead of 6)", "READ-DATA"),
    HANGUP_DROPPED(Port.POLL, "POLLHUP not translated: no HANGUP, and an empty pipe without writers is never "
            + "readable", "PIPE-HUP"),
    HANGUP_NO_DIRECTION(Port.POLL, "POLLHUP gives the HANGUP flag but no direction: the base parks a READ key on "
            + "an empty pipe without writers, and its reader never sees the end", "PIPE-HUP"),
    ERROR_DROPPED(Port.POLL, "POLLERR not translated: a pipe without readers is W without E", "PIPE-EPIPE"),
    // CLOSED-FD and CLOSE-DUP accept an ERROR from whatever file holds the closed number at the next select:
    // the JVM opens files of its own on free numbers as it runs (seen: its cgroup's memory.stat), which poll
    // reported with POLLERR, so a single run lets this mutant pass about one time in two.
    NVAL_DROPPED(Port.POLL, "POLLNVAL not translated: a descriptor closed while registered is never reported",
            5, "CLOSED-FD", "CLOSE-DUP"),
    COLLECT_SCANS_COUNT_SLOTS(Port.POLL, "collect scans the first 'count' slots instead of all slots until "
            + "'count' ready ones were found", "READ-DATA"),
    NFDS_OFF_BY_ONE(Port.POLL, "poll(2) is passed nfds - 1: the highest slot is never watched", "READ-DATA"),

    // --- Wake-ups and changes from other threads ------------------------------------------------
    LOST_WAKEUP(Port.POLL, "the wake-up slot's report is skipped, never drained: wakeup() never returns a "
            + "blocked select", "WAKEUP"),
    UNCOALESCED_WAKEUPS(Port.POLL, "a byte written per wakeup() and one read per select: 1000 wakeups make "
            + "1000 selects return at once", "WAKEUP"),

    // --- Registrations and modes ----------------------------------------------------------------
    ONESHOT_NOT_DISARMED(Port.POLL, "a disarmed one-shot registration stays in the array: a fired ONESHOT key keeps firing",
            "EPOLL-ONESHOT"),
    UNDECLARED_ONESHOT_ACCEPTED(Port.POLL, "the provider declares no ONESHOT, its selectors accept it silently",
            "EPOLL-ONESHOT", "API-CAPABILITIES"),
    NO_PARKING(Port.POLL, "a parked registration stays in the array: a hang-up outside the interest is reported by every "
            + "poll, and dropped (a busy loop)", 5, "REPORT-NO-SPIN"),
    EDGE_NOT_PASSED(Port.EPOLL, "declares EDGE but never passes EPOLLET: edge-triggered keys are level-triggered",
            "EPOLL-ET"),
    EXCLUSIVE_NOT_PASSED(Port.EPOLL, "declares EXCLUSIVE but never passes EPOLLEXCLUSIVE: every selector wakes",
            "EPOLL-EXCLUSIVE"),
    DEL_SKIPPED(Port.EPOLL, "unregister never calls EPOLL_CTL_DEL: the descriptor stays in the interest list, "
            + "reported and refused (EEXIST) when registered again", "API-CAPABILITIES", "API-UNREGISTER"),

    // --- Memory and descriptors -----------------------------------------------------------------
    ARRAY_NOT_GROWN(Port.POLL, "the pollfd array is never grown past 64 entries: later registrations are not "
            + "watched", "API-MANY-FDS"),
    OLD_ARRAY_NOT_FREED(Port.POLL, "growing the pollfd array never frees the old block", "API-MANY-FDS"),
    ARRAY_LEAKED_ON_CLOSE(Port.POLL, "close never frees the pollfd array (a NativeBuffer)", "API-CLOSE"),
    EPFD_LEAKED_ON_CLOSE(Port.EPOLL, "close never closes the epoll descriptor", "API-CLOSE"),

    // --- Timeouts and signals -------------------------------------------------------------------
    TIMEOUT_IGNORED(Port.POLL, "a positive timeout is passed to poll(2) as 0: the base's loop waits out the "
            + "deadline in a busy loop", "CLOSED-FD", "REPORT-NO-SPIN"),
    NO_TIMEOUT_AS_ZERO(Port.POLL, "no timeout is passed to poll(2) as 0 instead of -1: a select without timeout "
            + "is a busy loop", "TIMEOUT-BLOCK"),
    TIMEOUT_ROUNDED_DOWN(Port.POLL, "nanoseconds to milliseconds rounded down: a sub-millisecond wait is a "
            + "poll(0), spun until the deadline", "TIMEOUT-POSITIVE"),
    TIMEOUT_IN_MILLISECONDS(Port.POLL, "a positive timeout rounded up to poll(2)'s milliseconds instead of passed "
            + "to ppoll(2) whole: a 50 us wait takes a millisecond", "TIMEOUT-POSITIVE"),
    TIMEOUT_INT_OVERFLOW(Port.POLL, "(int) nanos / 1e6, the cast first: timeouts over 2.1 s wrap, to a shorter "
            + "wait or to none at all (negative: no timeout)", "TIMEOUT-POSITIVE", "WAKEUP"),
    EINTR_SURFACED(Port.POLL, "EINTR thrown as an error instead of retried", "EINTR-RETRY"),
    EINTR_FULL_TIMEOUT(Port.POLL, "EINTR retried inside the port with the whole timeout again", "EINTR-RETRY");

    /** The port a mutant is planted in. */
    enum Port {
        POLL(Mechanism.POLL),
        EPOLL(Mechanism.EPOLL);

        final Mechanism mechanism;

        Port(Mechanism mechanism) {
            this.mechanism = mechanism;
        }
    }

    final Port port;
    final String bug;
    /**
     * Runs of {@link #rules} before falling back: more than 1 for a bug that only CPU time shows (a
     * loaded machine gives a spinning thread less than the half of a core that REPORT-NO-SPIN's check
     * needs), or that a rule sees only when a race goes its way.
     */
    final int attempts;
    final List<String> rules;

    Mutant(Port port, String bug, String... rules) {
        this(port, bug, 1, rules);
    }

    Mutant(Port port, String bug, int attempts, String... rules) {
        this.port = port;
        this.bug = bug;
        this.attempts = attempts;
        this.rules = List.of(rules);
    }

    /** @return a provider of the port with this bug planted */
    SelectorProvider provider() {
        return port == Port.POLL ? new PollPortProvider(this) : new EpollPortProvider(this);
    }
}
