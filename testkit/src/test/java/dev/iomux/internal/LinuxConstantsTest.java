package dev.iomux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.iomux.testing.LeakCheck;
import jnr.constants.Constant;
import jnr.constants.platform.AddressFamily;
import jnr.constants.platform.Errno;
import jnr.constants.platform.Fcntl;
import jnr.constants.platform.IPProto;
import jnr.constants.platform.OpenFlags;
import jnr.constants.platform.RLIMIT;
import jnr.constants.platform.Shutdown;
import jnr.constants.platform.Sock;
import jnr.constants.platform.SocketLevel;
import jnr.constants.platform.SocketMessage;
import jnr.constants.platform.SocketOption;
import jnr.constants.platform.TCP;
import jnr.ffi.Platform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Linux}'s hand-written constants against jnr-constants' table for the running platform, so that a
 * wrong number (or a CPU that renumbers socket options) is caught here rather than as a strange errno.
 */
@ExtendWith(LeakCheck.class)
class LinuxConstantsTest {

    /** Every constant of {@link Linux} that jnr-constants also defines, with jnr's counterpart. */
    private static Map<String, Object[]> crossChecked() {
        Map<String, Object[]> m = new LinkedHashMap<>();
        // errno(3)
        m.put("EPERM", pair(Linux.EPERM, Errno.EPERM));
        m.put("ENOENT", pair(Linux.ENOENT, Errno.ENOENT));
        m.put("EINTR", pair(Linux.EINTR, Errno.EINTR));
        m.put("EBADF", pair(Linux.EBADF, Errno.EBADF));
        m.put("EFAULT", pair(Linux.EFAULT, Errno.EFAULT));
        m.put("ENOSYS", pair(Linux.ENOSYS, Errno.ENOSYS));
        m.put("EAGAIN", pair(Linux.EAGAIN, Errno.EAGAIN));
        m.put("ENOMEM", pair(Linux.ENOMEM, Errno.ENOMEM));
        m.put("EEXIST", pair(Linux.EEXIST, Errno.EEXIST));
        m.put("EINVAL", pair(Linux.EINVAL, Errno.EINVAL));
        m.put("EMFILE", pair(Linux.EMFILE, Errno.EMFILE));
        m.put("ENOSPC", pair(Linux.ENOSPC, Errno.ENOSPC));
        m.put("EPIPE", pair(Linux.EPIPE, Errno.EPIPE));
        m.put("ELOOP", pair(Linux.ELOOP, Errno.ELOOP));
        m.put("ENOPROTOOPT", pair(Linux.ENOPROTOOPT, Errno.ENOPROTOOPT));
        m.put("EADDRINUSE", pair(Linux.EADDRINUSE, Errno.EADDRINUSE));
        m.put("ECONNABORTED", pair(Linux.ECONNABORTED, Errno.ECONNABORTED));
        m.put("ECONNRESET", pair(Linux.ECONNRESET, Errno.ECONNRESET));
        m.put("EISCONN", pair(Linux.EISCONN, Errno.EISCONN));
        m.put("ENOTCONN", pair(Linux.ENOTCONN, Errno.ENOTCONN));
        m.put("ETIMEDOUT", pair(Linux.ETIMEDOUT, Errno.ETIMEDOUT));
        m.put("ECONNREFUSED", pair(Linux.ECONNREFUSED, Errno.ECONNREFUSED));
        m.put("EALREADY", pair(Linux.EALREADY, Errno.EALREADY));
        m.put("EINPROGRESS", pair(Linux.EINPROGRESS, Errno.EINPROGRESS));
        // open(2), fcntl(2)
        m.put("O_RDONLY", pair(Linux.O_RDONLY, OpenFlags.O_RDONLY));
        m.put("O_WRONLY", pair(Linux.O_WRONLY, OpenFlags.O_WRONLY));
        m.put("O_RDWR", pair(Linux.O_RDWR, OpenFlags.O_RDWR));
        m.put("O_CREAT", pair(Linux.O_CREAT, OpenFlags.O_CREAT));
        m.put("O_TRUNC", pair(Linux.O_TRUNC, OpenFlags.O_TRUNC));
        m.put("O_NONBLOCK", pair(Linux.O_NONBLOCK, OpenFlags.O_NONBLOCK));
        m.put("O_CLOEXEC", pair(Linux.O_CLOEXEC, OpenFlags.O_CLOEXEC));
        m.put("F_GETFD", pair(Linux.F_GETFD, Fcntl.F_GETFD));
        m.put("F_GETFL", pair(Linux.F_GETFL, Fcntl.F_GETFL));
        m.put("F_SETFL", pair(Linux.F_SETFL, Fcntl.F_SETFL));
        // socket(2), socket(7), tcp(7)
        m.put("AF_UNIX", pair(Linux.AF_UNIX, AddressFamily.AF_UNIX));
        m.put("AF_INET", pair(Linux.AF_INET, AddressFamily.AF_INET));
        m.put("AF_INET6", pair(Linux.AF_INET6, AddressFamily.AF_INET6));
        m.put("SOCK_STREAM", pair(Linux.SOCK_STREAM, Sock.SOCK_STREAM));
        m.put("SOCK_NONBLOCK", pair(Linux.SOCK_NONBLOCK, Sock.SOCK_NONBLOCK));
        m.put("SOCK_CLOEXEC", pair(Linux.SOCK_CLOEXEC, Sock.SOCK_CLOEXEC));
        m.put("SOL_SOCKET", pair(Linux.SOL_SOCKET, SocketLevel.SOL_SOCKET));
        m.put("SO_REUSEADDR", pair(Linux.SO_REUSEADDR, SocketOption.SO_REUSEADDR));
        m.put("SO_ERROR", pair(Linux.SO_ERROR, SocketOption.SO_ERROR));
        m.put("SO_SNDBUF", pair(Linux.SO_SNDBUF, SocketOption.SO_SNDBUF));
        m.put("SO_RCVBUF", pair(Linux.SO_RCVBUF, SocketOption.SO_RCVBUF));
        m.put("SO_OOBINLINE", pair(Linux.SO_OOBINLINE, SocketOption.SO_OOBINLINE));
        m.put("SO_LINGER", pair(Linux.SO_LINGER, SocketOption.SO_LINGER));
        m.put("SO_REUSEPORT", pair(Linux.SO_REUSEPORT, SocketOption.SO_REUSEPORT));
        m.put("SO_RCVLOWAT", pair(Linux.SO_RCVLOWAT, SocketOption.SO_RCVLOWAT));
        m.put("SO_SNDLOWAT", pair(Linux.SO_SNDLOWAT, SocketOption.SO_SNDLOWAT));
        m.put("IPPROTO_TCP", pair(Linux.IPPROTO_TCP, IPProto.IPPROTO_TCP));
        m.put("IPPROTO_IPV6", pair(Linux.IPPROTO_IPV6, IPProto.IPPROTO_IPV6));
        m.put("TCP_NODELAY", pair(Linux.TCP_NODELAY, TCP.TCP_NODELAY));
        m.put("MSG_OOB", pair(Linux.MSG_OOB, SocketMessage.MSG_OOB));
        m.put("MSG_PEEK", pair(Linux.MSG_PEEK, SocketMessage.MSG_PEEK));
        m.put("MSG_DONTWAIT", pair(Linux.MSG_DONTWAIT, SocketMessage.MSG_DONTWAIT));
        m.put("MSG_NOSIGNAL", pair(Linux.MSG_NOSIGNAL, SocketMessage.MSG_NOSIGNAL));
        m.put("SHUT_RD", pair(Linux.SHUT_RD, Shutdown.SHUT_RD));
        m.put("SHUT_WR", pair(Linux.SHUT_WR, Shutdown.SHUT_WR));
        m.put("SHUT_RDWR", pair(Linux.SHUT_RDWR, Shutdown.SHUT_RDWR));
        // getrlimit(2)
        m.put("RLIMIT_NOFILE", pair(Linux.RLIMIT_NOFILE, RLIMIT.RLIMIT_NOFILE));
        return m;
    }

    /**
     * Constants jnr-constants 0.11.4 has no enum entry for (checked with javap). They are covered elsewhere:
     * the flag aliases and the poll/epoll equalities below, and by the kernel itself in DescriptorsTest and
     * SocketsTest (F_DUPFD_CLOEXEC, FIONREAD, SIOCATMARK, EFD_*).
     */
    private static final Set<String> NOT_IN_JNR_CONSTANTS = Set.of(
            "PR_SET_TIMERSLACK", "PR_GET_TIMERSLACK", "SIGSET_SIZE", "TIMESPEC_SIZE",
            "F_DUPFD_CLOEXEC", "IPV6_V6ONLY", "FIONREAD", "SIOCATMARK", "EFD_NONBLOCK", "EFD_CLOEXEC",
            "POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL", "POLLRDHUP",
            "EPOLL_CLOEXEC", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD",
            "EPOLLIN", "EPOLLPRI", "EPOLLOUT", "EPOLLERR", "EPOLLHUP", "EPOLLRDHUP",
            "EPOLLEXCLUSIVE", "EPOLLONESHOT", "EPOLLET", "FD_SETSIZE");

    private static Object[] pair(int ours, Constant theirs) {
        return new Object[] {ours, theirs};
    }

    @Test
    void constantsAgreeWithJnrConstantsOnThisPlatform() {
        Map<String, String> mismatches = new TreeMap<>();
        int compared = 0;
        for (Map.Entry<String, Object[]> e : crossChecked().entrySet()) {
            int ours = (Integer) e.getValue()[0];
            Constant theirs = (Constant) e.getValue()[1];
            if (!theirs.defined()) {
                continue; // jnr-constants does not know this one on this platform: nothing to compare with
            }
            compared++;
            if (ours != theirs.intValue()) {
                mismatches.put(e.getKey(), "ours " + ours + ", jnr-constants " + theirs.intValue());
            }
        }
        assertThat(mismatches).as("Linux constants that differ from jnr-constants on this platform").isEmpty();
        // On Linux x86-64/AArch64/RISC-V jnr-constants defines all of them: a silent skip would hide a gap.
        assertThat(compared).isEqualTo(crossChecked().size());
    }

    @Test
    void crossCheckedNamesMatchTheJnrNames() {
        for (Map.Entry<String, Object[]> e : crossChecked().entrySet()) {
            assertThat(((Constant) e.getValue()[1]).name()).isEqualTo(e.getKey());
        }
    }

    /** A constant added to Linux.java must be added to one of the two lists here, so that none escapes. */
    @Test
    void everyConstantIsCrossCheckedOrListedAsMissingFromJnr() throws IllegalAccessException {
        Set<String> declared = new TreeSet<>();
        for (Field f : Linux.class.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (Modifier.isPublic(mod) && Modifier.isStatic(mod) && Modifier.isFinal(mod)) {
                declared.add(f.getName());
            }
        }
        Set<String> covered = new TreeSet<>(crossChecked().keySet());
        covered.addAll(NOT_IN_JNR_CONSTANTS);
        assertThat(declared).as("Linux constants vs the names this test covers").isEqualTo(covered);
        assertThat(crossChecked().keySet()).doesNotContainAnyElementsOf(NOT_IN_JNR_CONSTANTS);
    }

    /**
     * Aliases the kernel headers define: SOCK_NONBLOCK, EFD_NONBLOCK are O_NONBLOCK; SOCK_CLOEXEC,
     * EFD_CLOEXEC, EPOLL_CLOEXEC are O_CLOEXEC (socket(2), eventfd(2), epoll_create1(2) describe them as
     * the O_ flags' counterparts); POLL* and EPOLL* share values (include/uapi/asm-generic/poll.h, include/uapi/linux/eventpoll.h; PollBits relies on it).
     */
    @Test
    void flagAliasesAndPollEpollBitsAgree() {
        assertThat(Linux.SOCK_NONBLOCK).isEqualTo(OpenFlags.O_NONBLOCK.intValue());
        assertThat(Linux.EFD_NONBLOCK).isEqualTo(OpenFlags.O_NONBLOCK.intValue());
        assertThat(Linux.SOCK_CLOEXEC).isEqualTo(OpenFlags.O_CLOEXEC.intValue());
        assertThat(Linux.EFD_CLOEXEC).isEqualTo(OpenFlags.O_CLOEXEC.intValue());
        assertThat(Linux.EPOLL_CLOEXEC).isEqualTo(OpenFlags.O_CLOEXEC.intValue());

        assertThat(Linux.EPOLLIN).isEqualTo(Linux.POLLIN);
        assertThat(Linux.EPOLLPRI).isEqualTo(Linux.POLLPRI);
        assertThat(Linux.EPOLLOUT).isEqualTo(Linux.POLLOUT);
        assertThat(Linux.EPOLLERR).isEqualTo(Linux.POLLERR);
        assertThat(Linux.EPOLLHUP).isEqualTo(Linux.POLLHUP);
        assertThat(Linux.EPOLLRDHUP).isEqualTo(Linux.POLLRDHUP);
        // epoll_ctl(2), include/uapi/linux/eventpoll.h: the mode bits are the top bits of the 32-bit events field.
        assertThat(Linux.EPOLLET).isEqualTo(Integer.MIN_VALUE);
        assertThat(Linux.EPOLLONESHOT).isEqualTo(1 << 30);
        assertThat(Linux.EPOLLEXCLUSIVE).isEqualTo(1 << 28);
    }

    @Test
    void nativeBindingIsAvailableOnThisMachine() {
        assertThat(Native.unavailabilityCause()).isNull();
        assertThat(Native.C).isNotNull();
        // A call whose result is known: close(-1) fails with EBADF, and the binding saves that errno.
        assertThat(Native.C.close(-1)).isEqualTo(-1);
        assertThat(Native.errno()).isEqualTo(Linux.EBADF);
    }

    @Test
    void runningCpuIsSupported() {
        Platform p = Platform.getNativePlatform();
        assertThat(p.getOS()).isEqualTo(Platform.OS.LINUX);
        assertThat(Native.SUPPORTED_CPUS).contains(p.getCPU());
    }
}
