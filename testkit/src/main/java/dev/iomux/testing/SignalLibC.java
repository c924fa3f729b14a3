package dev.iomux.testing;

import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.types.intptr_t;

/**
 * The libc functions only tests call, to aim a signal at one thread ({@link Signals}). Bound here rather
 * than in core-api's {@code LibC}, so that the library binds only what it uses. Public only because
 * jnr-ffi defines the implementation in a class loader of its own, which cannot implement a
 * package-private interface; tests call {@link Signals}.
 */
public interface SignalLibC {
    /** The binding, loaded on first use. */
    SignalLibC C = LibraryLoader.create(SignalLibC.class).option(LibraryOption.IgnoreError, true).load("c");

    /** @return the calling thread's pthread_t, for {@link #pthread_kill} */
    @IgnoreError @intptr_t long pthread_self();

    /**
     * Sends a signal to one thread (pthread_kill(3)).
     *
     * @param thread its pthread_t, from {@link #pthread_self}
     * @param sig the signal number
     * @return 0, or an error number (not -1 and errno) on failure
     */
    @IgnoreError int pthread_kill(@intptr_t long thread, int sig);
}
