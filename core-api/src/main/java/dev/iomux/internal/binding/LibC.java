package dev.iomux.internal.binding;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc functions iomux calls, bound once through jnr-ffi ({@link dev.iomux.internal.Native#C}).
 *
 * <p>Internal: the library's own calls go through {@code dev.iomux.internal.Native} and the SPI's
 * {@code Kernel}; users and backends should not use it. It is alone in its package because that package
 * is exported to every module: jnr-ffi defines the class implementing it in a class loader of its own,
 * in that loader's unnamed module, which a qualified export cannot name.
 *
 * <p>Pointers are passed as {@code @intptr_t long} addresses of memory we own
 * ({@link dev.iomux.spi.NativeBuffer}, {@code IoBuffers}' scratch memory, or a caller's direct
 * {@link java.nio.ByteBuffer} below JDK 22, where no Arena can free it under the call; from JDK 22 those go
 * through {@code ForeignIo}), which keeps jnr-ffi from marshalling anything (a direct address costs 35-60 ns
 * less per call than a {@code Struct[]} or a heap array).
 *
 * <p>The library is loaded with {@code LibraryOption.IgnoreError}; only calls marked {@link SaveError}
 * save errno, right after the native call, so {@code Native.errno()} read immediately after a failed
 * call is that call's errno and never a stale value from the JVM.
 *
 * <p>Six arguments: on x86-64 jnr-ffi compiles a call of at most six integer arguments and no object
 * into a stub of its own ({@code X86_64StubCompiler}), which loads the sixth from the wrong stack slot
 * (the return address): jnr/jnr-ffi#181, open, seen here as EINVAL from ppoll's sigsetsize and as
 * pselect ignoring its mask. A method with a {@link Pointer} parameter and more than four parameters is
 * never given that stub: jnr-ffi calls it through jffi's generic invoker (the path every call takes
 * with {@code -Djnr.ffi.x86asm.enabled=false}), which passes all six right, and a null or direct
 * Pointer allocates nothing. So a six-argument function here types one argument as {@link Pointer},
 * whatever flags the JVM runs with (no more than six: a seventh takes jnr-ffi's buffer path, which
 * allocates per call). NativeSyscallsTest checks both, and the sixth argument reaching the kernel.
 *
 * <p>{@code fcntl} and {@code ioctl} are variadic in C; they are declared with a fixed third argument,
 * which the x86-64, AArch64 and RISC-V calling conventions pass in the same register as a variadic
 * integer or pointer argument.
 */
public interface LibC {
    // --- descriptors -------------------------------------------------------------------------
    @SaveError int close(int fd);

    @SaveError int dup3(int oldfd, int newfd, int flags);

    @SaveError int fcntl(int fd, int cmd, int arg);

    @SaveError int open(String path, int flags, int mode);

    @SaveError @ssize_t long read(int fd, @intptr_t long buf, @size_t long count);

    @SaveError @ssize_t long write(int fd, @intptr_t long buf, @size_t long count);

    @SaveError int pipe2(@Out int[] fds, int flags);

    @SaveError int eventfd(int initval, int flags);

    // --- sockets -----------------------------------------------------------------------------
    @SaveError int socket(int domain, int type, int protocol);

    @SaveError int socketpair(int domain, int type, int protocol, @Out int[] sv);

    @SaveError int bind(int fd, @intptr_t long addr, int addrlen);

    @SaveError int listen(int fd, int backlog);

    @SaveError int accept4(int fd, @intptr_t long addr, @intptr_t long addrlen, int flags);

    @SaveError int connect(int fd, @intptr_t long addr, int addrlen);

    @SaveError int getsockname(int fd, @intptr_t long addr, @intptr_t long addrlen);

    @SaveError int getpeername(int fd, @intptr_t long addr, @intptr_t long addrlen);

    @SaveError int shutdown(int fd, int how);

    @SaveError @ssize_t long recv(int fd, @intptr_t long buf, @size_t long len, int flags);

    @SaveError @ssize_t long send(int fd, @intptr_t long buf, @size_t long len, int flags);

    @SaveError int setsockopt(int fd, int level, int optname, @intptr_t long optval, int optlen);

    @SaveError int getsockopt(int fd, int level, int optname, @intptr_t long optval, @intptr_t long optlen);

    @SaveError int ioctl(int fd, @intptr_t long request, @intptr_t long arg);

    // --- readiness ---------------------------------------------------------------------------
    @SaveError int select(int nfds, @intptr_t long readfds, @intptr_t long writefds,
                          @intptr_t long exceptfds, @intptr_t long timeout);

    @SaveError int poll(@intptr_t long fds, @intptr_t long nfds, int timeout);

    @SaveError int epoll_create1(int flags);

    @SaveError int epoll_ctl(int epfd, int op, int fd, @intptr_t long event);

    @SaveError int epoll_wait(int epfd, @intptr_t long events, int maxevents, int timeout);

    @SaveError int ppoll(@intptr_t long fds, @intptr_t long nfds, @intptr_t long timeout, @intptr_t long sigmask);

    /** Six arguments: {@code sigmask} is a Pointer, see the class comment (jnr/jnr-ffi#181). */
    @SaveError int pselect(int nfds, @intptr_t long readfds, @intptr_t long writefds, @intptr_t long exceptfds,
                           @intptr_t long timeout, Pointer sigmask);

    /** glibc 2.35 and later; with an older libc the call fails with UnsatisfiedLinkError. */
    @SaveError int epoll_pwait2(int epfd, @intptr_t long events, int maxevents, @intptr_t long timeout,
                                @intptr_t long sigmask);

    // --- process -----------------------------------------------------------------------------
    @SaveError int getrlimit(int resource, @intptr_t long rlim);

    @SaveError int setrlimit(int resource, @intptr_t long rlim);

    @SaveError int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    /**
     * The generic system call entry, variadic in C and declared here with four arguments after the number:
     * unused ones are ignored by the kernel, and x86-64 passes variadic integers in the same registers
     * as fixed ones. {@code Native} calls the hot system calls through it on x86-64.
     */
    @SaveError long syscall(long number, long a1, long a2, long a3, long a4);

    /**
     * {@link #syscall(long, long, long, long, long)} with a fifth argument after the number, six in all:
     * {@code a4} is a Pointer, see the class comment (jnr/jnr-ffi#181). For ppoll, whose fourth is the
     * signal mask.
     */
    @SaveError long syscall(long number, long a1, long a2, long a3, Pointer a4, long a5);
}
