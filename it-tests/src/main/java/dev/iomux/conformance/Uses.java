package dev.iomux.conformance;

/** The kinds of descriptor (or of set-up) a scenario works on, as listed in the matrix. */
public enum Uses {
    /** TCP over 127.0.0.1. */
    TCP4,
    /** TCP over ::1. */
    TCP6,
    /** AF_UNIX stream sockets (socketpair or a socket file). */
    UNIX,
    /** A pipe. */
    PIPE,
    /** A regular file. */
    FILE,
    /** A directory. */
    DIRECTORY,
    /** /dev/null. */
    DEV_NULL,
    /** Channels of jnr-unixsocket and the JDK. */
    CHANNELS,
    /** Real signals sent to the selecting thread, or SIGSTOP/SIGCONT to a child JVM. */
    SIGNALS,
    /** Several threads. */
    THREADS
}
