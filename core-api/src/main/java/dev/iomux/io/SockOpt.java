package dev.iomux.io;

import dev.iomux.internal.Linux;

/**
 * Integer socket options for {@link Sockets#getOption} and {@link Sockets#setOption}, with their level
 * and number (socket(7), tcp(7)). {@code SO_LINGER} takes a struct: {@link Sockets#setLinger}.
 */
public enum SockOpt {
    /** Bytes that must be queued before a TCP socket is readable (socket(7); ignored by AF_UNIX readiness). */
    SO_RCVLOWAT(Linux.SOL_SOCKET, Linux.SO_RCVLOWAT),
    /** Fixed at 1 on Linux: setting it fails with ENOPROTOOPT (rule WRITE-SNDLOWAT). */
    SO_SNDLOWAT(Linux.SOL_SOCKET, Linux.SO_SNDLOWAT),
    /** The pending socket error, cleared by reading it; read-only. */
    SO_ERROR(Linux.SOL_SOCKET, Linux.SO_ERROR),
    /** Urgent data inline in the normal stream (tcp(7)). */
    SO_OOBINLINE(Linux.SOL_SOCKET, Linux.SO_OOBINLINE),
    /** Send-buffer size; the kernel doubles what is set (socket(7)). */
    SO_SNDBUF(Linux.SOL_SOCKET, Linux.SO_SNDBUF),
    /** Receive-buffer size; the kernel doubles what is set. */
    SO_RCVBUF(Linux.SOL_SOCKET, Linux.SO_RCVBUF),
    /** Allow binding a port in TIME_WAIT. */
    SO_REUSEADDR(Linux.SOL_SOCKET, Linux.SO_REUSEADDR),
    /** Let several sockets bind one port; the kernel spreads connections over them. */
    SO_REUSEPORT(Linux.SOL_SOCKET, Linux.SO_REUSEPORT),
    /** Disable Nagle's algorithm (tcp(7)). */
    TCP_NODELAY(Linux.IPPROTO_TCP, Linux.TCP_NODELAY);

    final int level;
    final int option;

    SockOpt(int level, int option) {
        this.level = level;
        this.option = option;
    }
}
