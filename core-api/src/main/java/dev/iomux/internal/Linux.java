package dev.iomux.internal;

/**
 * Linux ABI constants, defined once.
 *
 * <p>Internal. The values are those of the kernel's asm-generic headers and x86-64, which agree for
 * everything here on x86-64, AArch64 and RISC-V 64 ({@link Native#SUPPORTED_CPUS}); other architectures
 * (MIPS, SPARC, PowerPC, Alpha) renumber some socket options and are refused at load time rather than
 * given wrong numbers. {@code LinuxConstantsTest} checks these against jnr-constants on the running
 * platform. Values for the readiness calls are from poll(2), epoll_ctl(2), eventfd(2) and the kernel's
 * include/uapi headers.
 */
public final class Linux {
    private Linux() {
    }

    // errno(3)
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EFAULT = 14;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOSPC = 28;
    public static final int ENOSYS = 38;
    public static final int EPIPE = 32;
    public static final int ELOOP = 40;
    public static final int ENOPROTOOPT = 92;
    public static final int EADDRINUSE = 98;
    public static final int ECONNABORTED = 103;
    public static final int ECONNRESET = 104;
    public static final int EISCONN = 106;
    public static final int ENOTCONN = 107;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EALREADY = 114;
    public static final int EINPROGRESS = 115;

    // open(2), fcntl(2)
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_TRUNC = 0x200;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int F_GETFD = 1;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_DUPFD_CLOEXEC = 1030;

    // socket(2), socket(7), tcp(7), ipv6(7)
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_ERROR = 4;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_OOBINLINE = 10;
    public static final int SO_LINGER = 13;
    public static final int SO_REUSEPORT = 15;
    public static final int SO_RCVLOWAT = 18;
    public static final int SO_SNDLOWAT = 19;
    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_IPV6 = 41;
    public static final int TCP_NODELAY = 1;
    public static final int IPV6_V6ONLY = 26;
    public static final int MSG_OOB = 0x1;
    public static final int MSG_PEEK = 0x2;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;
    public static final int FIONREAD = 0x541B;
    public static final int SIOCATMARK = 0x8905;

    // eventfd(2)
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;

    // poll(2)
    public static final short POLLIN = 0x1;
    public static final short POLLPRI = 0x2;
    public static final short POLLOUT = 0x4;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;
    public static final short POLLNVAL = 0x20;
    public static final short POLLRDHUP = 0x2000;

    // epoll_create1(2), epoll_ctl(2)
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x1;
    public static final int EPOLLPRI = 0x2;
    public static final int EPOLLOUT = 0x4;
    public static final int EPOLLERR = 0x8;
    public static final int EPOLLHUP = 0x10;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLEXCLUSIVE = 1 << 28;
    public static final int EPOLLONESHOT = 1 << 30;
    public static final int EPOLLET = 1 << 31;

    // select(2): glibc's fd_set is a fixed bitmap of FD_SETSIZE bits.
    public static final int FD_SETSIZE = 1024;

    // prctl(2): a thread's timer slack, in nanoseconds
    public static final int PR_SET_TIMERSLACK = 29;
    public static final int PR_GET_TIMERSLACK = 30;

    // ppoll(2), pselect6, epoll_pwait2(2): the kernel's sigset_t is _NSIG / 8 = 8 bytes, and a sigsetsize
    // other than that is EINVAL (set_user_sigmask in kernel/signal.c).
    public static final int SIGSET_SIZE = 8;
    // struct timespec: tv_sec and tv_nsec, both 64-bit on every supported CPU.
    public static final int TIMESPEC_SIZE = 16;

    // getrlimit(2)
    public static final int RLIMIT_NOFILE = 7;
}
