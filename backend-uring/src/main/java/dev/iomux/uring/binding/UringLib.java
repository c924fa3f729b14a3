package dev.iomux.uring.binding;

import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.annotations.SaveError;

/**
 * io_uring's system calls and mmap(2) through syscall(2) (glibc has no wrappers for the former), and
 * munmap. Not an API: public only because jnr-ffi implements it in an unnamed module of its own.
 *
 * <p>{@code syscall} is declared with seven parameters, never six: jnr-ffi 2.3 passes the sixth argument of
 * a six-argument function as garbage on x86-64 (jnr/jnr-ffi#181; seen here: libc's {@code mmap} bound
 * directly, with any parameter types, failed with EINVAL at a file offset of 4096, while a seven-argument
 * {@code syscall(SYS_mmap, ...)} mapped the right page; UringBindingTest checks it). Unused trailing
 * arguments are ignored by the kernel, and the calling conventions of x86-64, AArch64 and RISC-V pass an
 * int argument in a full register, so a {@code long} carrying it is what the callee reads.
 */
public interface UringLib {
    /**
     * The generic system call entry, with six arguments after the number (io_uring_enter takes six).
     *
     * @param number the system call number
     * @param a1     first argument
     * @param a2     second argument
     * @param a3     third argument
     * @param a4     fourth argument
     * @param a5     fifth argument
     * @param a6     sixth argument
     * @return what the call returned, -1 with errno set on failure
     */
    @SaveError long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    /**
     * munmap(2).
     *
     * @param addr   what mmap returned
     * @param length the mapped length
     * @return 0, or -1 with errno set
     */
    @SaveError long munmap(long addr, long length);

    /** The loaded binding. */
    final class Holder {
        /** libc, loaded once, errno saved only by the calls marked so. */
        public static final UringLib LIB =
                LibraryLoader.create(UringLib.class).option(LibraryOption.IgnoreError, true).load("c");

        private Holder() {
        }
    }
}
