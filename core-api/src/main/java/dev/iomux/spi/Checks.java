package dev.iomux.spi;

import static dev.iomux.Events.EDGE;
import static dev.iomux.Events.EXCLUSIVE;
import static dev.iomux.Events.FLAGS;
import static dev.iomux.Events.INTERESTS;
import static dev.iomux.Events.MODES;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;

import java.time.Duration;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.ReadyHandler;

/**
 * The argument checks of register, modify and select, with their messages: each names the value and says what
 * to do instead. Checked before any lock is taken; none runs user code (no attachment's toString).
 */
final class Checks {
    private final String backend;
    private final Capabilities capabilities;

    Checks(String backend, Capabilities capabilities) {
        this.backend = backend;
        this.capabilities = capabilities;
    }

    static void notNegative(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("fd must not be negative, got " + fd);
        }
    }

    void events(int fd, int events) {
        int unknown = events & ~(INTERESTS | MODES);
        if ((unknown & FLAGS) != 0) {
            throw new IllegalArgumentException("event mask " + Events.toString(events) + " for fd " + fd
                    + " has " + Events.toString(unknown & FLAGS) + ", which a select reports but a key cannot "
                    + "register: register READ or WRITE and errors and hang-ups are reported with them");
        }
        if (unknown != 0) {
            throw new IllegalArgumentException("event mask 0x" + Integer.toHexString(events) + " for fd " + fd
                    + " has unknown bits 0x" + Integer.toHexString(unknown) + ": use the constants of Events");
        }
        if ((events & INTERESTS) == 0) {
            throw new IllegalArgumentException("event mask " + Events.toString(events) + " for fd " + fd
                    + " has no interest: register READ, WRITE or PRIORITY");
        }
        capability(events, PRIORITY, Capability.PRIORITY, fd);
        capability(events, EDGE, Capability.EDGE, fd);
        capability(events, ONESHOT, Capability.ONESHOT, fd);
        capability(events, EXCLUSIVE, Capability.EXCLUSIVE, fd);
        if ((events & EXCLUSIVE) != 0 && (events & (ONESHOT | PRIORITY)) != 0) {
            throw new IllegalArgumentException("event mask " + Events.toString(events) + " for fd " + fd
                    + ": EXCLUSIVE cannot be combined with ONESHOT or PRIORITY (epoll_ctl(2): EINVAL)");
        }
    }

    /** EXCLUSIVE is set at register only: epoll_ctl(2) refuses it in EPOLL_CTL_MOD (EINVAL). */
    static void modifiable(int fd, int oldEvents, int newEvents) {
        if ((oldEvents & EXCLUSIVE) != 0) {
            throw new IllegalStateException("fd " + fd + " is registered EXCLUSIVE, which epoll_ctl(2) "
                    + "cannot modify (EINVAL): unregister it and register again");
        }
        if ((newEvents & EXCLUSIVE) != 0) {
            throw new IllegalArgumentException("EXCLUSIVE can only be set when registering fd " + fd
                    + " (epoll_ctl(2) refuses it in EPOLL_CTL_MOD): unregister it and register again");
        }
    }

    private void capability(int events, int bit, Capability c, int fd) {
        if ((events & bit) != 0 && !capabilities.supports(c)) {
            throw new UnsupportedOperationException("the " + backend + " backend does not support "
                    + c.description() + ", asked for fd " + fd + "; it supports " + capabilities.supported()
                    + (c == Capability.EDGE || c == Capability.EXCLUSIVE ? ": use backend-epoll" : ""));
        }
    }

    static ReadyHandler handler(ReadyHandler handler) {
        if (handler == null) {
            throw new NullPointerException("handler must not be null: use select() for a list of ready keys");
        }
        return handler;
    }

    /** A select timeout in nanoseconds: zero or less is "do not wait", beyond a long is "forever". */
    static long timeoutNanos(Duration timeout) {
        if (timeout == null) {
            throw new NullPointerException("timeout must not be null: use select() to wait without one");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            return 0;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }
}
