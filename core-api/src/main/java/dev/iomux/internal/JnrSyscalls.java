package dev.iomux.internal;

import static dev.iomux.internal.Native.C;

/**
 * The hot system calls through jnr-ffi: {@link Syscalls}'s binding on JDK 17 to 21, and on later JDKs when
 * {@code -Ddev.iomux.native=jnr} asks for it or {@code java.lang.foreign} could not be linked. Each call
 * returns its result, or minus the errno, read right after the call (jnr-ffi's {@code @SaveError}).
 *
 * <p>read, write, poll, ppoll and epoll_wait go through {@code syscall(2)} where
 * {@link Native#DIRECT_SYSCALLS} says so (see there why), and through libc's wrappers otherwise.
 */
final class JnrSyscalls {
    private JnrSyscalls() {
    }

    static long read(int fd, long buf, long count) {
        long r = Native.DIRECT_SYSCALLS ? C.syscall(Native.SYS_READ, fd, buf, count, 0) : C.read(fd, buf, count);
        return r < 0 ? -Native.errno() : r;
    }

    static long write(int fd, long buf, long count) {
        long r = Native.DIRECT_SYSCALLS ? C.syscall(Native.SYS_WRITE, fd, buf, count, 0) : C.write(fd, buf, count);
        return r < 0 ? -Native.errno() : r;
    }

    static int epollWait(int epfd, long events, int maxEvents, int timeout) {
        int r = Native.DIRECT_SYSCALLS ? (int) C.syscall(Native.SYS_EPOLL_WAIT, epfd, events, maxEvents, timeout)
                : C.epoll_wait(epfd, events, maxEvents, timeout);
        return r < 0 ? -Native.errno() : r;
    }

    static int epollCtl(int epfd, int op, int fd, long event) {
        int r = C.epoll_ctl(epfd, op, fd, event);
        return r < 0 ? -Native.errno() : r;
    }

    static int poll(long fds, long nfds, int timeout) {
        int r = Native.DIRECT_SYSCALLS ? (int) C.syscall(Native.SYS_POLL, fds, nfds, timeout, 0)
                : C.poll(fds, nfds, timeout);
        return r < 0 ? -Native.errno() : r;
    }

    static int ppoll(long fds, long nfds, long timespec, long sigmask) {
        int r = Native.DIRECT_SYSCALLS
                ? (int) C.syscall(Native.SYS_PPOLL, fds, nfds, timespec, Native.pointer(sigmask), Linux.SIGSET_SIZE)
                : C.ppoll(fds, nfds, timespec, sigmask);
        return r < 0 ? -Native.errno() : r;
    }

    static int pselect(int nfds, long readfds, long writefds, long exceptfds, long timespec, long sigmask) {
        int r = C.pselect(nfds, readfds, writefds, exceptfds, timespec, Native.pointer(sigmask));
        return r < 0 ? -Native.errno() : r;
    }

    static int epollPwait2(int epfd, long events, int maxEvents, long timespec, long sigmask) {
        int r = C.epoll_pwait2(epfd, events, maxEvents, timespec, sigmask);
        return r < 0 ? -Native.errno() : r;
    }
}
