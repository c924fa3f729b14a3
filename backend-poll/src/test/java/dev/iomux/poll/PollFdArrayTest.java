package dev.iomux.poll;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.PollBits;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The native {@code struct pollfd} array (8 bytes per entry: poll(2)'s struct pollfd),
 * checked against real poll(2) calls: what {@code set} writes is what the kernel reads, and what the
 * kernel writes back is what {@code revents} returns. A negative fd is skipped (Rule 14: revents 0).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollFdArrayTest {

    @Test
    void anEntryIsEightBytes() {
        assertThat(PollFdArray.SIZE).isEqualTo(8);
    }

    @Test
    void setFdAndReventsRoundTripThroughTheKernel() throws IOException {
        PollFdArray a = new PollFdArray(4);
        try (Fds fds = new Fds()) {
            assertThat(a.capacity()).isEqualTo(4);
            assertThat(a.address()).isNotZero();
            for (int i = 0; i < 4; i++) {
                assertThat(a.fd(i)).as("allocated zeroed").isZero();
                assertThat(a.revents(i)).isZero();
            }
            int[] p = fds.pipe();
            Fds.write(p[1], 1);
            a.set(0, p[0], PollBits.POLLIN);
            a.set(1, p[1], PollBits.POLLOUT | PollBits.POLLIN);
            a.set(2, ~p[0], PollBits.POLLIN); // negative: skipped by poll(2)
            a.set(3, Integer.MAX_VALUE, PollBits.POLLIN);
            assertThat(a.fd(0)).isEqualTo(p[0]);
            assertThat(a.fd(1)).isEqualTo(p[1]);
            assertThat(a.fd(2)).isEqualTo(~p[0]).isNegative();
            assertThat(a.fd(3)).isEqualTo(Integer.MAX_VALUE);

            int n = Kernel.poll(a.address(), 4, 0);
            assertThat(n).as("entries with revents set").isEqualTo(3);
            assertThat(a.revents(0)).isEqualTo(PollBits.POLLIN);
            assertThat(a.revents(1)).as("a write end is never readable").isEqualTo(PollBits.POLLOUT);
            assertThat(a.revents(2)).as("negative fd").isZero();
            assertThat(a.revents(3)).as("an fd that is not open").isEqualTo(PollBits.POLLNVAL);

            // set clears the kernel's last answer; the requested events are what the next poll uses.
            a.set(0, p[0], PollBits.POLLRDHUP | PollBits.POLLIN);
            assertThat(a.revents(0)).isZero();
            fds.close(p[1]);
            assertThat(Kernel.poll(a.address(), 1, 0)).isEqualTo(1);
            assertThat(a.revents(0)).as("writer closed, 1 byte left").isEqualTo(PollBits.POLLIN | PollBits.POLLHUP);
        } finally {
            a.free();
        }
    }

    @Test
    void copyMovesAWholeEntry() throws IOException {
        PollFdArray a = new PollFdArray(4);
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int[] q = fds.pipe();
            a.set(0, p[0], PollBits.POLLIN);
            a.set(1, q[1], PollBits.POLLOUT);
            a.set(2, q[0], PollBits.POLLIN);
            assertThat(Kernel.poll(a.address(), 3, 0)).isEqualTo(1);
            assertThat(a.revents(1)).isEqualTo(PollBits.POLLOUT);

            a.copy(1, 0); // swap-with-last: the last entry over the removed one
            assertThat(a.fd(0)).isEqualTo(q[1]);
            assertThat(a.revents(0)).as("revents travel along").isEqualTo(PollBits.POLLOUT);
            assertThat(a.fd(1)).as("the source is left as it was").isEqualTo(q[1]);
            assertThat(a.fd(2)).as("others untouched").isEqualTo(q[0]);
            // The events travel too: the kernel now asks entry 0 for POLLOUT on q's write end.
            assertThat(Kernel.poll(a.address(), 1, 0)).isEqualTo(1);
            assertThat(a.revents(0)).isEqualTo(PollBits.POLLOUT);

            a.copy(2, 2); // onto itself: harmless
            assertThat(a.fd(2)).isEqualTo(q[0]);
        } finally {
            a.free();
        }
    }

    @Test
    void ensureCapacityKeepsTheUsedEntriesAndFreesTheOldBlock() throws IOException {
        long blocks = NativeBuffer.liveBlocks();
        PollFdArray a = new PollFdArray(2);
        try (Fds fds = new Fds()) {
            assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks + 1);
            int[] p = fds.pipe();
            a.set(0, p[0], PollBits.POLLIN);
            a.set(1, p[1], PollBits.POLLOUT);
            long address = a.address();

            a.ensureCapacity(2, 2);
            assertThat(a.capacity()).as("enough room: unchanged").isEqualTo(2);
            assertThat(a.address()).isEqualTo(address);

            a.ensureCapacity(3, 2);
            assertThat(a.capacity()).as("grows by doubling").isEqualTo(4);
            assertThat(a.address()).isNotEqualTo(address);
            assertThat(NativeBuffer.liveBlocks()).as("the old block is freed").isEqualTo(blocks + 1);
            assertThat(a.fd(0)).isEqualTo(p[0]);
            assertThat(a.fd(1)).isEqualTo(p[1]);
            assertThat(a.fd(2)).isZero();
            assertThat(Kernel.poll(a.address(), 2, 0)).as("the kernel reads the moved entries").isEqualTo(1);
            assertThat(a.revents(1)).isEqualTo(PollBits.POLLOUT);

            a.set(2, 77, PollBits.POLLIN);
            a.set(3, 78, PollBits.POLLIN);
            a.ensureCapacity(20, 2); // only the first 2 are in use
            assertThat(a.capacity()).as("a jump past double goes straight to what is needed").isEqualTo(20);
            assertThat(a.fd(0)).isEqualTo(p[0]);
            assertThat(a.fd(1)).isEqualTo(p[1]);
            assertThat(a.fd(2)).as("entries past 'used' are not copied").isZero();
            assertThat(a.fd(3)).isZero();
            a.set(19, p[1], PollBits.POLLOUT);
            assertThat(a.fd(19)).isEqualTo(p[1]);
            assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks + 1);
        } finally {
            a.free();
        }
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks);
    }

    @Test
    void shrinkKeepsTheUsedEntriesAndFreesTheOldBlock() throws IOException {
        long blocks = NativeBuffer.liveBlocks();
        PollFdArray a = new PollFdArray(2);
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            a.ensureCapacity(40, 0);
            a.set(0, p[0], PollBits.POLLIN);
            a.set(1, p[1], PollBits.POLLOUT);
            a.set(30, 77, PollBits.POLLIN);
            long address = a.address();

            a.shrink(40, 2);
            assertThat(a.capacity()).as("to its own size: unchanged").isEqualTo(40);
            assertThat(a.address()).isEqualTo(address);

            a.shrink(4, 2);
            assertThat(a.capacity()).isEqualTo(4);
            assertThat(a.address()).isNotEqualTo(address);
            assertThat(NativeBuffer.liveBlocks()).as("the old block is freed").isEqualTo(blocks + 1);
            assertThat(a.fd(0)).isEqualTo(p[0]);
            assertThat(a.fd(1)).isEqualTo(p[1]);
            assertThat(a.fd(2)).as("entries past 'used' are not copied").isZero();
            assertThatThrownBy(() -> a.fd(4)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(Kernel.poll(a.address(), 2, 0)).as("the kernel reads the moved entries").isEqualTo(1);
            assertThat(a.revents(1)).isEqualTo(PollBits.POLLOUT);

            assertThatThrownBy(() -> a.shrink(1, 2)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("cannot shrink a pollfd array of 4 entries, 2 in use, to 1");
            assertThatThrownBy(() -> a.shrink(8, 2)).as("growing is ensureCapacity's")
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(a.capacity()).isEqualTo(4);
            assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks + 1);
        } finally {
            a.free();
        }
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks);
    }

    @Test
    void anIndexOutOfRangeThrowsInsteadOfTouchingForeignMemory() {
        PollFdArray a = new PollFdArray(4);
        try {
            assertThatThrownBy(() -> a.fd(4)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.fd(-1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.revents(4)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.revents(-1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.set(4, 1, PollBits.POLLIN)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.set(-1, 1, PollBits.POLLIN)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.copy(4, 0)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.copy(0, 4)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.copy(-1, 0)).isInstanceOf(IndexOutOfBoundsException.class);
            // An index whose offset wraps around int (2^29 + 1 entries of 8 bytes = 2^32 + 8 bytes) must
            // not land on entry 1.
            int wraps = (1 << 29) + 1;
            a.set(1, 5, PollBits.POLLIN);
            assertThatThrownBy(() -> a.fd(wraps)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.revents(wraps)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.set(wraps, 6, PollBits.POLLOUT)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.copy(wraps, 0)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> a.copy(0, wraps)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(a.fd(1)).as("entry 1 untouched").isEqualTo(5);
            a.set(3, 9, PollBits.POLLIN); // the last one is fine
            assertThat(a.fd(3)).isEqualTo(9);
            a.ensureCapacity(5, 4);
            a.set(7, 10, PollBits.POLLIN);
            assertThat(a.fd(7)).isEqualTo(10);
            assertThat(a.fd(3)).isEqualTo(9);
            assertThatThrownBy(() -> a.fd(8)).isInstanceOf(IndexOutOfBoundsException.class);
        } finally {
            a.free();
        }
    }

    @Test
    void freeReleasesTheBlockOnceAndLaterAccessFails() {
        long blocks = NativeBuffer.liveBlocks();
        PollFdArray a = new PollFdArray(64);
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks + 1);
        a.free();
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks);
        a.free(); // idempotent
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks);
        assertThat(a.address()).isZero();
        assertThatThrownBy(() -> a.fd(0)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void closingASelectorFreesItsGrownArray() throws IOException {
        long blocks = NativeBuffer.liveBlocks();
        try (Fds fds = new Fds()) {
            PollSelector sel = PollTesting.open();
            for (int i = 0; i < 100; i++) { // past 64 slots: the array is reallocated once
                sel.register(fds.pipe()[1], dev.iomux.Events.WRITE);
            }
            assertThat(sel.selectNow()).hasSize(100);
            sel.close();
        }
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks);
    }
}
