package dev.iomux;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link NativeIOException} and {@link Errnos}: the message format and errno naming. */
@ExtendWith(LeakCheck.class)
class NativeIOExceptionTest {

    @Test
    void messageIsSyscallNameAndDescription() {
        NativeIOException e = new NativeIOException("epoll_ctl(ADD, fd=7)", 1, null);
        assertThat(e).isInstanceOf(IOException.class);
        assertThat(e).hasMessage("epoll_ctl(ADD, fd=7): EPERM (Operation not permitted)");
        assertThat(e.errno()).isEqualTo(1);
        assertThat(e.errnoName()).isEqualTo("EPERM");
        assertThat(e.syscall()).isEqualTo("epoll_ctl(ADD, fd=7)");
        assertThat(e).hasNoCause();
    }

    @Test
    void hintIsAppended() {
        NativeIOException e = new NativeIOException("epoll_ctl(ADD, fd=3)", 1, "regular files cannot be watched");
        assertThat(e).hasMessage(
                "epoll_ctl(ADD, fd=3): EPERM (Operation not permitted): regular files cannot be watched");
        assertThat(e.syscall()).isEqualTo("epoll_ctl(ADD, fd=3)");
    }

    @ParameterizedTest
    @CsvSource({
        "2, ENOENT, No such file or directory",
        "9, EBADF, Bad file descriptor",
        "32, EPIPE, Broken pipe",
        "104, ECONNRESET, Connection reset by peer",
        "111, ECONNREFUSED, Connection refused",
    })
    void namesAndDescriptionsOfCommonErrnos(int errno, String name, String description) {
        NativeIOException e = new NativeIOException("call", errno, null);
        assertThat(e.errnoName()).isEqualTo(name);
        assertThat(e).hasMessage("call: " + name + " (" + description + ")");
    }

    /**
     * EAGAIN and EWOULDBLOCK are both 11 on Linux (errno(3)); iomux names it EAGAIN, the name POSIX and the
     * kernel use, and the one every Linux errno table lists first.
     */
    @Test
    void elevenIsEagainNotEwouldblock() {
        assertThat(Errnos.name(11)).isEqualTo("EAGAIN");
        assertThat(new NativeIOException("read(fd=5)", 11, null).errnoName()).isEqualTo("EAGAIN");
        assertThat(new NativeIOException("read(fd=5)", 11, null).getMessage()).startsWith("read(fd=5): EAGAIN (");
    }

    /** Other aliases (errno(3)): EDEADLOCK is EDEADLK, ENOTSUP is EOPNOTSUPP on Linux. */
    @Test
    void aliasesGetTheCanonicalName() {
        assertThat(Errnos.name(35)).isEqualTo("EDEADLK");
        assertThat(Errnos.name(95)).isEqualTo("EOPNOTSUPP");
    }

    @Test
    void unknownErrnoIsNamedByNumber() {
        NativeIOException e = new NativeIOException("ioctl(fd=3, X)", 4711, null);
        assertThat(e.errno()).isEqualTo(4711);
        assertThat(e.errnoName()).isEqualTo("errno 4711");
        assertThat(e).hasMessage("ioctl(fd=3, X): errno 4711 (unknown error)");
        assertThat(Errnos.name(0)).isEqualTo("errno 0");
        assertThat(Errnos.name(-1)).isEqualTo("errno -1");
        assertThat(Errnos.description(-1)).isEqualTo("unknown error");
    }
}
