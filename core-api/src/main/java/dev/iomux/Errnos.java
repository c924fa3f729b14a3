package dev.iomux;

import java.util.HashMap;
import java.util.Map;

import jnr.constants.platform.Errno;

/** errno values to names and descriptions, from jnr-constants' table for the running platform. */
final class Errnos {
    private static final Map<Integer, Errno> BY_VALUE = new HashMap<>();

    static {
        for (Errno e : Errno.values()) {
            // Aliases share a value with the name the man pages use; jnr-constants lists some aliases
            // first (EWOULDBLOCK before EAGAIN), so they are skipped by name.
            if (e.defined() && e != Errno.EWOULDBLOCK && e != Errno.EDEADLOCK && e != Errno.ENOTSUP) {
                BY_VALUE.putIfAbsent(e.intValue(), e);
            }
        }
    }

    private Errnos() {
    }

    static String name(int errno) {
        Errno e = BY_VALUE.get(errno);
        return e != null ? e.name() : "errno " + errno;
    }

    static String description(int errno) {
        Errno e = BY_VALUE.get(errno);
        return e != null ? e.description() : "unknown error";
    }
}
