package dev.iomux.select;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fd_set of the select backend (rule SELECT-FDSETSIZE): 1024 bits in 16 native words, bit
 * {@code fd % 64} of word {@code fd / 64}, every access bounds-checked so that nothing is ever written
 * past its 128 bytes (glibc's FD_SET does so silently without _FORTIFY_SOURCE: select(2) BUGS), and native memory released by free.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FdSetTest {
    private FdSet set;

    @BeforeEach
    void allocate() {
        set = new FdSet();
    }

    @AfterEach
    void release() {
        set.free();
    }

    private void assertAllWordsZeroExcept(FdSet s, int... words) {
        for (int w = 0; w < FdSet.WORDS; w++) {
            boolean expected = false;
            for (int x : words) {
                expected |= x == w;
            }
            if (!expected) {
                assertThat(s.wordAt(w)).as("word %d", w).isZero();
            }
        }
    }

    @Test
    void geometryIsFdSetSizeBitsIn16Words() {
        assertThat(FdSet.BITS).isEqualTo(1024);
        assertThat(FdSet.WORDS).isEqualTo(16);
        assertThat(set.address()).isNotZero();
        assertAllWordsZeroExcept(set); // allocated zeroed: FD_ZERO
    }

    // SELECT-FDSETSIZE: the bit of fd n is bit n % 64 of word n / 64.
    @Test
    void setClearAndIsSetAtTheWordBoundaries() {
        set.set(0);
        assertThat(set.isSet(0)).isTrue();
        assertThat(set.wordAt(0)).isEqualTo(1L);

        set.set(63);
        assertThat(set.isSet(63)).isTrue();
        assertThat(set.wordAt(0)).isEqualTo(1L | Long.MIN_VALUE);

        set.set(64);
        assertThat(set.isSet(64)).isTrue();
        assertThat(set.wordAt(1)).isEqualTo(1L);

        set.set(1023);
        assertThat(set.isSet(1023)).isTrue();
        assertThat(set.wordAt(15)).isEqualTo(Long.MIN_VALUE);
        assertAllWordsZeroExcept(set, 0, 1, 15);

        for (int fd : new int[] {1, 62, 65, 127, 128, 1022}) {
            assertThat(set.isSet(fd)).as("fd %d was never set", fd).isFalse();
        }

        set.set(64); // idempotent
        assertThat(set.wordAt(1)).isEqualTo(1L);

        set.clear(63);
        assertThat(set.isSet(63)).isFalse();
        assertThat(set.isSet(0)).isTrue();
        assertThat(set.wordAt(0)).isEqualTo(1L);

        set.clear(0);
        set.clear(64);
        set.clear(1023);
        set.clear(500); // never set: harmless
        for (int fd : new int[] {0, 63, 64, 1023, 500}) {
            assertThat(set.isSet(fd)).isFalse();
        }
        assertAllWordsZeroExcept(set);
    }

    // SELECT-FDSETSIZE: out-of-range descriptors are refused, and nothing is written anywhere.
    @Test
    void descriptorsOutsideTheSetAreRefusedAndNothingIsWritten() {
        set.set(5);
        set.set(1023);
        long w0 = set.wordAt(0);
        long w15 = set.wordAt(15);

        assertThatThrownBy(() -> set.set(1024)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1024").hasMessageContaining("0..1023");
        assertThatThrownBy(() -> set.set(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> set.clear(1024)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1024");
        assertThatThrownBy(() -> set.isSet(5000)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("5000");
        // fd 1500 is where glibc's FD_SET writes 59 bytes past the end (Rule 10); fd -64 would shift to
        // bit 0 of word -1 in C.
        assertThatThrownBy(() -> set.set(1500)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> set.set(-64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> set.clear(Integer.MIN_VALUE)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> set.isSet(Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class);

        assertThat(set.wordAt(0)).isEqualTo(w0);
        assertThat(set.wordAt(15)).isEqualTo(w15);
        assertAllWordsZeroExcept(set, 0, 15);
        // The block is exactly 128 bytes: a word past it is out of bounds, not someone else's memory.
        assertThatThrownBy(() -> set.wordAt(FdSet.WORDS)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> set.wordAt(-1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    // SELECT-VALUE-RESULT: implPrepare restores only the words up to nfds.
    @Test
    void copyFromCopiesOnlyTheRequestedWords() {
        FdSet master = new FdSet();
        try {
            master.set(1);
            master.set(64);
            master.set(130);
            master.set(1023);
            set.set(129); // word 2 of the destination: must survive a 2-word copy
            set.set(1000); // word 15

            set.copyFrom(master, 0);
            assertThat(set.isSet(1)).isFalse();
            assertThat(set.isSet(129)).isTrue();

            set.copyFrom(master, 2);
            assertThat(set.wordAt(0)).isEqualTo(master.wordAt(0));
            assertThat(set.wordAt(1)).isEqualTo(master.wordAt(1));
            assertThat(set.isSet(129)).as("word 2 was not requested").isTrue();
            assertThat(set.isSet(130)).as("word 2 was not requested").isFalse();
            assertThat(set.isSet(1000)).as("word 15 was not requested").isTrue();
            assertThat(set.isSet(1023)).as("word 15 was not requested").isFalse();

            set.copyFrom(master, FdSet.WORDS);
            for (int w = 0; w < FdSet.WORDS; w++) {
                assertThat(set.wordAt(w)).as("word %d after a full copy", w).isEqualTo(master.wordAt(w));
            }

            // More than 16 words would run past both blocks: refused before anything is copied.
            FdSet other = new FdSet();
            try {
                other.set(7);
                assertThatThrownBy(() -> other.copyFrom(master, FdSet.WORDS + 1))
                        .isInstanceOf(IndexOutOfBoundsException.class);
                assertThat(other.isSet(7)).isTrue();
                assertThat(other.isSet(1)).isFalse();
            } finally {
                other.free();
            }
        } finally {
            master.free();
        }
    }

    @Test
    void freeReleasesTheNativeBlockOnceAndLaterAccessFailsSafely() {
        long before = NativeBuffer.liveBlocks();
        FdSet s = new FdSet();
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(before + 1);
        s.set(3);
        s.free();
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(before);
        s.free(); // idempotent
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(before);
        assertThat(s.address()).isZero();
        // Freed memory is never touched: the view is empty now.
        assertThatThrownBy(() -> s.set(3)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> s.isSet(3)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    /**
     * The layout agrees with the kernel's: a real select(2) on an FdSet keeps exactly the bit of the
     * readable pipe, in a word other than 0, and clears the bit of the empty one (value-result).
     */
    @Test
    void theKernelReadsAndWritesTheSameBits() throws IOException {
        try (Fds fds = new Fds()) {
            int[] ready = fds.pipe();
            int[] empty = fds.pipe();
            int a = SelectTesting.freeFd(130, 190);
            assumeTrue(a >= 0, "a free descriptor in 130..190 (word 2)");
            SelectTesting.dupTo(fds, ready[0], a);
            int b = SelectTesting.freeFd(a + 1, 250);
            assumeTrue(b >= 0, () -> String.format("a free descriptor in %d..250", a + 1));
            SelectTesting.dupTo(fds, empty[0], b);
            Fds.write(ready[1], 1);

            set.set(a);
            set.set(b);
            NativeBuffer tv = NativeBuffer.allocate(16); // {0, 0}: poll
            try {
                int n = Kernel.select(b + 1, set.address(), 0, 0, tv.address());
                assertThat(n).isEqualTo(1);
            } finally {
                tv.free();
            }
            assertThat(set.isSet(a)).as("readable fd %d", a).isTrue();
            assertThat(set.isSet(b)).as("empty fd %d", b).isFalse();
            assertThat(set.wordAt(a / 64)).isEqualTo(1L << (a % 64));
        }
    }
}
