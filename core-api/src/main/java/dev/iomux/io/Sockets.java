package dev.iomux.io;

import static dev.iomux.internal.Native.C;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import dev.iomux.NativeIOException;
import dev.iomux.internal.Linux;
import dev.iomux.internal.Native;
import dev.iomux.spi.NativeBuffer;

/**
 * Native stream sockets, TCP over IPv4 and IPv6 and Unix domain, at the level of the system calls.
 *
 * <p>These exist because {@code java.nio} hides what the readiness rules are about: it cannot set a
 * receive low-water mark, send urgent data, read SO_ERROR after a failed connect, or shut a socket down
 * and keep the descriptor. Every socket made here is non-blocking and close-on-exec; the descriptors are
 * plain ints, to register with any {@link dev.iomux.Selector} and to close with
 * {@link Descriptors#close(int)}.
 *
 * <p>Calls that would block return {@link Descriptors#WOULD_BLOCK} instead of throwing (EAGAIN); other
 * failures throw {@link NativeIOException} carrying the errno (ECONNRESET, ECONNREFUSED, EPIPE, ...).
 * {@link #recv} and {@link #send} take buffers as {@link Descriptors#read(int, ByteBuffer)} does, closed
 * arenas included.
 */
public final class Sockets {
    /** recv/send flag: urgent (out-of-band) data (tcp(7)). */
    public static final int MSG_OOB = Linux.MSG_OOB;
    /** recv flag: look at the data without taking it. */
    public static final int MSG_PEEK = Linux.MSG_PEEK;
    /** recv/send flag: do not block, whatever O_NONBLOCK says. */
    public static final int MSG_DONTWAIT = Linux.MSG_DONTWAIT;

    private static final int RECV_FLAGS = MSG_OOB | MSG_PEEK | MSG_DONTWAIT;
    private static final int SEND_FLAGS = MSG_OOB | MSG_DONTWAIT; // MSG_NOSIGNAL is always added

    private static final int SOCKADDR_MAX = 128; // sizeof(struct sockaddr_storage)
    private static final int SUN_PATH_MAX = 108;

    private Sockets() {
    }

    /**
     * Creates a non-blocking, close-on-exec stream socket.
     *
     * @param family {@link StandardProtocolFamily#INET}, {@code INET6} or {@code UNIX}
     * @return the descriptor
     * @throws NativeIOException if the kernel refuses (EMFILE, EAFNOSUPPORT)
     */
    public static int open(ProtocolFamily family) throws NativeIOException {
        int fd = C.socket(domain(family), Linux.SOCK_STREAM | Linux.SOCK_NONBLOCK | Linux.SOCK_CLOEXEC, 0);
        return Native.check(fd, "socket(" + family + ", SOCK_STREAM)");
    }

    /**
     * Creates a connected pair of non-blocking, close-on-exec Unix stream sockets (socketpair(2)).
     *
     * @return the two descriptors
     * @throws NativeIOException if the kernel refuses
     */
    public static int[] pair() throws NativeIOException {
        int[] sv = new int[2];
        Native.check(C.socketpair(Linux.AF_UNIX, Linux.SOCK_STREAM | Linux.SOCK_NONBLOCK | Linux.SOCK_CLOEXEC,
                0, sv), "socketpair(AF_UNIX, SOCK_STREAM)");
        return sv;
    }

    /**
     * Opens a listening socket: socket, SO_REUSEADDR for TCP, bind, listen. Port 0 picks a free port;
     * {@link #localAddress(int)} tells which.
     *
     * @param address an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}
     * @param backlog the accept queue's length (listen(2); 0 allows one queued connection on Linux)
     * @return the listening descriptor
     * @throws NativeIOException if a step fails (EADDRINUSE); the socket is closed then
     */
    public static int listen(SocketAddress address, int backlog) throws NativeIOException {
        int fd = open(familyOf(address));
        try {
            if (address instanceof InetSocketAddress) {
                setOption(fd, SockOpt.SO_REUSEADDR, 1);
            }
            bind(fd, address);
            listen(fd, backlog);
            return fd;
        } catch (NativeIOException | RuntimeException e) {
            Native.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Opens a socket and starts a non-blocking connect. Watch it for {@link dev.iomux.Events#WRITE}, then
     * read {@link #pendingError(int)}: 0 means connected (rule WRITE-CONNECT).
     *
     * @param address where to connect
     * @return the descriptor, connected or connecting
     * @throws NativeIOException if the connect fails at once (ECONNREFUSED); the socket is closed then
     */
    public static int connect(SocketAddress address) throws NativeIOException {
        int fd = open(familyOf(address));
        try {
            connect(fd, address);
            return fd;
        } catch (NativeIOException | RuntimeException e) {
            Native.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Binds a socket (bind(2)).
     *
     * @param fd      the socket
     * @param address an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}
     * @throws NativeIOException if the kernel refuses (EADDRINUSE, EACCES)
     */
    public static void bind(int fd, SocketAddress address) throws NativeIOException {
        NativeBuffer sa = NativeBuffer.allocate(SOCKADDR_MAX);
        try {
            int len = encode(address, sa);
            Native.check(C.bind(fd, sa.address(), len), "bind(fd=" + fd + ", " + address + ")");
        } finally {
            sa.free();
        }
    }

    /**
     * Marks a socket as listening (listen(2)).
     *
     * @param fd      a bound socket
     * @param backlog the accept queue's length
     * @throws NativeIOException if the kernel refuses
     */
    public static void listen(int fd, int backlog) throws NativeIOException {
        Native.check(C.listen(fd, backlog), "listen(fd=" + fd + ", backlog=" + backlog + ")");
    }

    /**
     * Accepts a queued connection as a non-blocking, close-on-exec socket (accept4(2)).
     *
     * @param fd a listening socket
     * @return the connection's descriptor, or {@link Descriptors#WOULD_BLOCK} if none is queued
     * @throws NativeIOException on a failure other than EAGAIN (EMFILE when out of descriptors)
     */
    public static int accept(int fd) throws NativeIOException {
        int c;
        do {
            c = C.accept4(fd, 0, 0, Linux.SOCK_NONBLOCK | Linux.SOCK_CLOEXEC);
        } while (c < 0 && Native.errno() == Linux.EINTR);
        return c >= 0 ? c : Descriptors.wouldBlockOrThrow("accept4", fd);
    }

    /**
     * Starts connecting a non-blocking socket (connect(2)).
     *
     * @param fd      the socket
     * @param address where to connect
     * @return true if connected at once; false if the connect goes on in the background (EINPROGRESS,
     *         which is what loopback TCP always returned here)
     * @throws NativeIOException if the connect fails now: ECONNREFUSED, EALREADY while one is in
     *                           progress, EISCONN once connected
     */
    public static boolean connect(int fd, SocketAddress address) throws NativeIOException {
        NativeBuffer sa = NativeBuffer.allocate(SOCKADDR_MAX);
        try {
            int len = encode(address, sa);
            if (C.connect(fd, sa.address(), len) == 0) {
                return true;
            }
            int errno = Native.errno();
            // connect(2): EINTR leaves the connect going on asynchronously, like EINPROGRESS.
            if (errno == Linux.EINPROGRESS || errno == Linux.EINTR) {
                return false;
            }
            throw new NativeIOException("connect(fd=" + fd + ", " + address + ")", errno, null);
        } finally {
            sa.free();
        }
    }

    /**
     * Returns the address a socket is bound to (getsockname(2)).
     *
     * @param fd a socket
     * @return an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}
     * @throws NativeIOException if fd is not a socket
     */
    public static SocketAddress localAddress(int fd) throws NativeIOException {
        return name(fd, true);
    }

    /**
     * Returns the address of a connected socket's peer (getpeername(2)).
     *
     * @param fd a connected socket
     * @return an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}
     * @throws NativeIOException if not connected (ENOTCONN)
     */
    public static SocketAddress remoteAddress(int fd) throws NativeIOException {
        return name(fd, false);
    }

    /**
     * Shuts down the reading side (shutdown SHUT_RD).
     *
     * @param fd a socket
     * @throws NativeIOException if not connected
     */
    public static void shutdownInput(int fd) throws NativeIOException {
        Native.check(C.shutdown(fd, Linux.SHUT_RD), "shutdown(SHUT_RD)", fd);
    }

    /**
     * Shuts down the writing side: sends FIN, the peer reads end of stream (shutdown SHUT_WR).
     *
     * @param fd a socket
     * @throws NativeIOException if not connected
     */
    public static void shutdownOutput(int fd) throws NativeIOException {
        Native.check(C.shutdown(fd, Linux.SHUT_WR), "shutdown(SHUT_WR)", fd);
    }

    /**
     * Shuts down both sides (shutdown SHUT_RDWR): wakes every select waiting on the socket, unlike close.
     *
     * @param fd a socket
     * @throws NativeIOException if not connected
     */
    public static void shutdown(int fd) throws NativeIOException {
        Native.check(C.shutdown(fd, Linux.SHUT_RDWR), "shutdown(SHUT_RDWR)", fd);
    }

    /**
     * Receives into a buffer from its position, advancing it (recv(2)).
     *
     * @param fd    a socket
     * @param dst   the buffer
     * @param flags 0, or {@link #MSG_OOB}, {@link #MSG_PEEK}, {@link #MSG_DONTWAIT} OR-ed
     * @return bytes received, 0 at end of stream, or {@link Descriptors#WOULD_BLOCK}
     * @throws IllegalArgumentException if {@code flags} has any other bit (a negative value included);
     *                                  nothing is received then
     * @throws NativeIOException        on a failure other than EAGAIN (ECONNRESET; EINVAL for MSG_OOB with
     *                                  no urgent byte)
     * @throws java.nio.ReadOnlyBufferException if {@code dst} is read-only
     * @throws IllegalStateException    if {@code dst} is a view of a closed {@code Arena}'s memory (JDK
     *                                  22+); nothing is received
     */
    public static int recv(int fd, ByteBuffer dst, int flags) throws NativeIOException {
        checkFlags("recv", fd, flags, RECV_FLAGS, "MSG_OOB, MSG_PEEK, MSG_DONTWAIT");
        return Descriptors.transferIn(fd, dst, true, flags);
    }

    /**
     * Sends a buffer's remaining bytes, advancing it (send(2)); always with MSG_NOSIGNAL, so a broken
     * connection fails with EPIPE and raises no SIGPIPE.
     *
     * @param fd    a socket
     * @param src   the buffer
     * @param flags 0, or {@link #MSG_OOB}, {@link #MSG_DONTWAIT} OR-ed
     * @return bytes sent, or {@link Descriptors#WOULD_BLOCK}
     * @throws IllegalArgumentException if {@code flags} has any other bit (a negative value included);
     *                                  nothing is sent then
     * @throws NativeIOException        on a failure other than EAGAIN (EPIPE, ECONNRESET)
     * @throws IllegalStateException    if {@code src} is a view of a closed {@code Arena}'s memory (JDK
     *                                  22+); nothing is sent
     */
    public static int send(int fd, ByteBuffer src, int flags) throws NativeIOException {
        checkFlags("send", fd, flags, SEND_FLAGS, "MSG_OOB, MSG_DONTWAIT");
        return Descriptors.transferOut(fd, src, true, flags | Linux.MSG_NOSIGNAL);
    }

    /**
     * Refuses flags a call does not document. recv(2) and send(2) take many more (MSG_WAITALL would block
     * a non-blocking loop, MSG_TRUNC changes what the count means), and a negative int sets them all.
     */
    private static void checkFlags(String call, int fd, int flags, int allowed, String names) {
        int unknown = flags & ~allowed;
        if (unknown != 0) {
            throw new IllegalArgumentException(String.format("%s flags %#x for fd %d have bits %s does not "
                    + "take (%#x): use 0, or Sockets.%s OR-ed", call, flags, fd, call, unknown, names));
        }
    }

    /**
     * Reads an integer socket option (getsockopt(2)).
     *
     * @param fd     a socket
     * @param option the option
     * @return its value
     * @throws NativeIOException if the kernel refuses
     */
    public static int getOption(int fd, SockOpt option) throws NativeIOException {
        NativeBuffer buf = NativeBuffer.allocate(8);
        try {
            buf.putInt(4, 4);
            Native.check(C.getsockopt(fd, option.level, option.option, buf.address(), buf.address() + 4),
                    "getsockopt(fd=" + fd + ", " + option + ")");
            return buf.getInt(0);
        } finally {
            buf.free();
        }
    }

    /**
     * Sets an integer socket option (setsockopt(2)).
     *
     * @param fd     a socket
     * @param option the option
     * @param value  its new value (booleans: 0 or 1)
     * @throws NativeIOException if the kernel refuses (ENOPROTOOPT for SO_SNDLOWAT on Linux)
     */
    public static void setOption(int fd, SockOpt option, int value) throws NativeIOException {
        NativeBuffer buf = NativeBuffer.allocate(4);
        try {
            buf.putInt(0, value);
            Native.check(C.setsockopt(fd, option.level, option.option, buf.address(), 4),
                    "setsockopt(fd=" + fd + ", " + option + ", " + value + ")");
        } finally {
            buf.free();
        }
    }

    /**
     * Sets SO_LINGER. {@code setLinger(fd, true, 0)} then close sends a reset instead of a FIN: the
     * standard way to make the peer see ECONNRESET (rule READ-ERROR).
     *
     * @param fd      a socket
     * @param on      whether close lingers
     * @param seconds how long
     * @throws NativeIOException if the kernel refuses
     */
    public static void setLinger(int fd, boolean on, int seconds) throws NativeIOException {
        NativeBuffer buf = NativeBuffer.allocate(8);
        try {
            buf.putInt(0, on ? 1 : 0);
            buf.putInt(4, seconds);
            Native.check(C.setsockopt(fd, Linux.SOL_SOCKET, Linux.SO_LINGER, buf.address(), 8),
                    "setsockopt(fd=" + fd + ", SO_LINGER)");
        } finally {
            buf.free();
        }
    }

    /**
     * Reads and clears the pending socket error (getsockopt SO_ERROR): after a non-blocking connect
     * reports writable, 0 means connected and anything else is the errno it failed with.
     *
     * @param fd a socket
     * @return the pending errno, or 0
     * @throws NativeIOException if fd is not a socket
     */
    public static int pendingError(int fd) throws NativeIOException {
        return getOption(fd, SockOpt.SO_ERROR);
    }

    /**
     * Returns the bytes queued for reading (ioctl FIONREAD).
     *
     * @param fd a socket or pipe
     * @return the count
     * @throws NativeIOException if the kernel refuses
     */
    public static int available(int fd) throws NativeIOException {
        return intIoctl(fd, Linux.FIONREAD, "FIONREAD");
    }

    /**
     * Returns whether the read position is at the urgent mark (ioctl SIOCATMARK, tcp(7)).
     *
     * @param fd a TCP socket
     * @return true at the mark
     * @throws NativeIOException if the kernel refuses
     */
    public static boolean atMark(int fd) throws NativeIOException {
        return intIoctl(fd, Linux.SIOCATMARK, "SIOCATMARK") != 0;
    }

    private static int intIoctl(int fd, int request, String name) throws NativeIOException {
        NativeBuffer buf = NativeBuffer.allocate(4);
        try {
            Native.check(C.ioctl(fd, request, buf.address()), "ioctl(fd=" + fd + ", " + name + ")");
            return buf.getInt(0);
        } finally {
            buf.free();
        }
    }

    private static SocketAddress name(int fd, boolean local) throws NativeIOException {
        NativeBuffer sa = NativeBuffer.allocate(SOCKADDR_MAX + 4);
        try {
            sa.putInt(SOCKADDR_MAX, SOCKADDR_MAX);
            long lenPtr = sa.address() + SOCKADDR_MAX;
            int rc = local ? C.getsockname(fd, sa.address(), lenPtr) : C.getpeername(fd, sa.address(), lenPtr);
            Native.check(rc, (local ? "getsockname" : "getpeername"), fd);
            return decode(sa, Math.min(sa.getInt(SOCKADDR_MAX), SOCKADDR_MAX));
        } finally {
            sa.free();
        }
    }

    private static int domain(ProtocolFamily family) {
        if (family == StandardProtocolFamily.INET) {
            return Linux.AF_INET;
        }
        if (family == StandardProtocolFamily.INET6) {
            return Linux.AF_INET6;
        }
        if (family == StandardProtocolFamily.UNIX) {
            return Linux.AF_UNIX;
        }
        throw new IllegalArgumentException("unsupported protocol family " + family + ": use INET, INET6 or UNIX");
    }

    private static ProtocolFamily familyOf(SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress) {
            return StandardProtocolFamily.UNIX;
        }
        InetAddress a = inet(address).getAddress();
        return a instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    }

    private static InetSocketAddress inet(SocketAddress address) {
        if (!(address instanceof InetSocketAddress)) {
            throw new IllegalArgumentException("unsupported address " + address
                    + ": use an InetSocketAddress or a UnixDomainSocketAddress");
        }
        InetSocketAddress isa = (InetSocketAddress) address;
        if (isa.isUnresolved()) {
            throw new IllegalArgumentException("address " + address + " is unresolved: resolve it first");
        }
        return isa;
    }

    /** Writes a struct sockaddr_in, sockaddr_in6 or sockaddr_un; returns its length. */
    private static int encode(SocketAddress address, NativeBuffer sa) {
        if (address instanceof UnixDomainSocketAddress) {
            byte[] path = ((UnixDomainSocketAddress) address).getPath().toString().getBytes(StandardCharsets.UTF_8);
            if (path.length >= SUN_PATH_MAX) {
                throw new IllegalArgumentException("Unix socket path " + address + " is " + path.length
                        + " bytes; sun_path holds at most " + (SUN_PATH_MAX - 1) + " (unix(7))");
            }
            sa.putShort(0, (short) Linux.AF_UNIX);
            if (path.length == 0) {
                // The JDK's empty path means "unnamed": only sa_family, so that bind autobinds (unix(7)),
                // not a one-byte abstract name.
                return 2;
            }
            sa.put(2, path, 0, path.length); // the buffer is zeroed: the path ends with NUL
            return 2 + path.length + 1;
        }
        InetSocketAddress isa = inet(address);
        InetAddress a = isa.getAddress();
        int port = isa.getPort();
        sa.putByte(2, (byte) (port >>> 8)); // sin_port / sin6_port: network byte order
        sa.putByte(3, (byte) port);
        if (a instanceof Inet4Address) {
            sa.putShort(0, (short) Linux.AF_INET);
            sa.put(4, a.getAddress(), 0, 4);
            return 16;
        }
        sa.putShort(0, (short) Linux.AF_INET6);
        sa.put(8, a.getAddress(), 0, 16);
        sa.putInt(24, ((Inet6Address) a).getScopeId());
        return 28;
    }

    private static SocketAddress decode(NativeBuffer sa, int len) {
        int family = sa.getShort(0) & 0xffff;
        int port = ((sa.getByte(2) & 0xff) << 8) | (sa.getByte(3) & 0xff);
        try {
            if (family == Linux.AF_INET) {
                byte[] a = new byte[4];
                sa.get(4, a, 0, 4);
                return new InetSocketAddress(InetAddress.getByAddress(a), port);
            }
            if (family == Linux.AF_INET6) {
                byte[] a = new byte[16];
                sa.get(8, a, 0, 16);
                int scope = sa.getInt(24);
                InetAddress addr = scope == 0 ? InetAddress.getByAddress(a) : Inet6Address.getByAddress(null, a, scope);
                return new InetSocketAddress(addr, port);
            }
        } catch (UnknownHostException cannotHappen) {
            throw new IllegalStateException("address of wrong length", cannotHappen);
        }
        if (family == Linux.AF_UNIX) {
            int n = Math.max(0, len - 2);
            byte[] path = new byte[n];
            sa.get(2, path, 0, n);
            int end = 0;
            while (end < n && path[end] != 0) {
                end++;
            }
            // An unnamed socket (socketpair, an unbound client) has an empty path; so, for want of a way
            // to say it with UnixDomainSocketAddress (no NUL in a Path), has an abstract one.
            return UnixDomainSocketAddress.of(new String(path, 0, end, StandardCharsets.UTF_8));
        }
        throw new IllegalStateException("unexpected address family " + family);
    }
}
