package dev.iomux.internal;

import java.lang.reflect.Proxy;
import java.util.EnumSet;
import java.util.Set;

import dev.iomux.NativeIOException;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.Platform;
import jnr.ffi.Runtime;

/**
 * The libc binding, loaded once, and the errno funnel every native call goes through.
 *
 * <p>Internal. On a platform iomux does not support, {@link #C} is a stand-in whose every method throws
 * {@link UnsupportedOperationException} naming the reason, and {@link #unavailabilityCause()} returns it;
 * backends report it from {@code unavailabilityCause()}.
 */
public final class Native {
    /** CPUs whose Linux ABI matches {@link Linux}'s constants (asm-generic numbering). */
    public static final Set<Platform.CPU> SUPPORTED_CPUS =
            EnumSet.of(Platform.CPU.X86_64, Platform.CPU.AARCH64, Platform.CPU.RISCV64);

    /** The binding. Never null; see the class comment for unsupported platforms. */
    public static final LibC C;

    private static final Runtime RUNTIME;
    private static final Throwable UNAVAILABLE;

    static {
        LibC lib = null;
        Runtime runtime = null;
        Throwable cause = null;
        try {
            Platform p = Platform.getNativePlatform();
            if (p.getOS() != Platform.OS.LINUX) {
                throw new UnsupportedOperationException(
                        "iomux binds Linux system calls (select, poll, epoll); this is " + p.getOSName());
            }
            if (!SUPPORTED_CPUS.contains(p.getCPU())) {
                throw new UnsupportedOperationException("iomux supports Linux on " + SUPPORTED_CPUS
                        + ", whose socket constants it knows; this is " + p.getCPU());
            }
            lib = LibraryLoader.create(LibC.class).option(LibraryOption.IgnoreError, true).load("c");
            runtime = Runtime.getRuntime(lib);
        } catch (Throwable t) {
            cause = t;
            lib = unavailable(t);
        }
        C = lib;
        RUNTIME = runtime;
        UNAVAILABLE = cause;
    }

    private Native() {
    }

    /**
     * Returns why the binding could not be loaded.
     *
     * @return the failure, or null when {@link #C} is usable
     */
    public static Throwable unavailabilityCause() {
        return UNAVAILABLE;
    }

    /**
     * Returns the errno saved by the last {@code @SaveError} call on this thread. Read it right after the
     * failing call: the next saving call overwrites it.
     *
     * @return the errno value
     */
    public static int errno() {
        return LastError.getLastError(RUNTIME);
    }

    /**
     * Turns the errno of the call that just failed into an exception. Reads errno first thing.
     *
     * @param syscall the call with its arguments, e.g. {@code "epoll_ctl(ADD, fd=7)"}
     * @return the exception to throw
     */
    public static NativeIOException error(String syscall) {
        return new NativeIOException(syscall, errno(), null);
    }

    /**
     * Checks an int result: negative means failure with errno set.
     *
     * @param rc      the call's return value
     * @param syscall the call's name for the message
     * @return {@code rc} when not negative
     * @throws NativeIOException when {@code rc < 0}
     */
    public static int check(int rc, String syscall) throws NativeIOException {
        if (rc < 0) {
            throw error(syscall);
        }
        return rc;
    }

    /**
     * Checks an int result of a call on one descriptor; the message names the descriptor.
     *
     * @param rc      the call's return value
     * @param syscall the call's name
     * @param fd      the descriptor it was called on
     * @return {@code rc} when not negative
     * @throws NativeIOException when {@code rc < 0}
     */
    public static int check(int rc, String syscall, int fd) throws NativeIOException {
        if (rc < 0) {
            throw error(withFd(syscall, fd));
        }
        return rc;
    }

    /** {@code "close"} becomes {@code "close(fd=3)"}, {@code "fcntl(F_GETFL)"} {@code "fcntl(fd=3, F_GETFL)"}. */
    private static String withFd(String syscall, int fd) {
        int paren = syscall.indexOf('(');
        return paren < 0 ? syscall + "(fd=" + fd + ")"
                : syscall.substring(0, paren + 1) + "fd=" + fd + ", " + syscall.substring(paren + 1);
    }

    /**
     * Closes a descriptor we own, ignoring errors: for clean-up paths where a failure has nothing left to
     * tell (close(2): the descriptor is released even when close reports an error).
     *
     * @param fd the descriptor; negative values are ignored
     */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            C.close(fd);
        }
    }

    private static LibC unavailable(Throwable cause) {
        return (LibC) Proxy.newProxyInstance(LibC.class.getClassLoader(), new Class<?>[] {LibC.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "toString": return "LibC(unavailable)";
                        case "hashCode": return System.identityHashCode(proxy);
                        case "equals": return proxy == args[0];
                        default: break;
                    }
                    throw new UnsupportedOperationException(
                            "libc is not available to iomux: " + cause.getMessage(), cause);
                });
    }
}
