package dev.iomux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;

import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link ForeignIo}: linked on every JDK from 22 (a silent fall-back to raw addresses would bring back
 * reads into a closed Arena's freed memory), absent below it, and moving the same bytes and errno values
 * as the jnr-ffi path.
 */
@ExtendWith(LeakCheck.class)
class ForeignIoTest {

    @Test
    void availableExactlyFromJdk22() {
        if (Runtime.version().feature() >= 22) {
            assertThat(ForeignIo.unavailabilityCause()).as("why ForeignIo did not link").isNull();
            assertThat(ForeignIo.AVAILABLE).isTrue();
        } else {
            assertThat(ForeignIo.AVAILABLE).isFalse();
            assertThat(ForeignIo.unavailabilityCause()).hasMessageContaining("JDK 22");
        }
    }

    @Test
    void bytesAndErrnoAsTheSystemCallsGiveThem() throws Exception {
        if (!ForeignIo.AVAILABLE) {
            return; // nothing to compare below JDK 22
        }
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int[] s = fds.socketPair();
            ByteBuffer src = ByteBuffer.allocateDirect(16).put(new byte[] {9, 8, 7, 6, 5}).flip().position(1);
            assertThat(ForeignIo.out(p[1], src, 4, false, 0)).isEqualTo(4);
            assertThat(src.position()).as("position is the caller's business").isOne();
            ByteBuffer dst = ByteBuffer.allocateDirect(16).position(2);
            assertThat(ForeignIo.in(p[0], dst, 14, false, 0)).isEqualTo(4);
            assertThat(dst.get(2)).isEqualTo((byte) 8);
            assertThat(dst.get(5)).isEqualTo((byte) 5);
            assertThat(ForeignIo.in(p[0], dst.clear(), 16, false, 0)).isEqualTo(-Linux.EAGAIN);

            assertThat(ForeignIo.out(s[0], src, 4, true, Linux.MSG_NOSIGNAL)).isEqualTo(4);
            assertThat(ForeignIo.in(s[1], dst.clear(), 16, true, Linux.MSG_PEEK)).isEqualTo(4);
            assertThat(ForeignIo.in(s[1], dst.clear(), 16, true, 0)).isEqualTo(4);
            assertThat(ForeignIo.in(s[1], dst.clear(), 16, true, Linux.MSG_DONTWAIT)).isEqualTo(-Linux.EAGAIN);
            assertThat(ForeignIo.in(p[0], dst.clear(), 16, true, 0)).as("recv on a pipe")
                    .isEqualTo(-88); // ENOTSOCK (asm-generic errno)

            fds.close(p[0]);
            assertThat(ForeignIo.out(p[1], src, 4, false, 0)).isEqualTo(-Linux.EPIPE);
            assertThat(ForeignIo.in(p[0], dst.clear(), 16, false, 0)).as("a closed descriptor")
                    .isEqualTo(-Linux.EBADF);
        }
    }
}
