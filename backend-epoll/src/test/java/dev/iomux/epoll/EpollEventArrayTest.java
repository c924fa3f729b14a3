package dev.iomux.epoll;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.kenai.jffi.MemoryIO;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.PollBits;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import jnr.ffi.Platform;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * struct epoll_event in native memory (include/uapi/linux/eventpoll.h, EPOLL_PACKED: 12 bytes packed on x86-64,
 * data at offset 4; 16 bytes aligned elsewhere, data at offset 8).
 */
@ExtendWith(LeakCheck.class)
class EpollEventArrayTest {
    private static final MemoryIO RAW = MemoryIO.getInstance();

    /** Tokens with bits set in both halves, so that a wrong offset or a truncation shows. */
    private static final long[] TOKENS = {
        0x0123_4567_89AB_CDEFL, -1L, 0L, 1L, 0xFFFF_FFFF_0000_0000L, 0x0000_0001_FFFF_FFFFL, Long.MIN_VALUE,
    };

    @Test
    @DisplayName("Rule 22: PACKED is 12 bytes with data at offset 4, ALIGNED 16 bytes with data at offset 8")
    void layoutConstants() {
        assertThat(EpollEventArray.Layout.PACKED.size).isEqualTo(12);
        assertThat(EpollEventArray.Layout.PACKED.dataOffset).isEqualTo(4);
        assertThat(EpollEventArray.Layout.ALIGNED.size).isEqualTo(16);
        assertThat(EpollEventArray.Layout.ALIGNED.dataOffset).isEqualTo(8);
    }

    @Test
    @DisplayName("Rule 22: x86-64 uses the packed layout, AArch64, RISC-V 64 and the rest the aligned one")
    void layoutOfTheRunningPlatform() {
        Platform.CPU cpu = Platform.getNativePlatform().getCPU();
        assertThat(Kernel.EPOLL_EVENT_PACKED).as("struct epoll_event packed on %s", cpu)
                .isEqualTo(cpu == Platform.CPU.X86_64);
        EpollEventArray.Layout running = EpollEventArray.Layout.running();
        assertThat(running).as("the layout on %s", cpu).isEqualTo(
                Kernel.EPOLL_EVENT_PACKED ? EpollEventArray.Layout.PACKED : EpollEventArray.Layout.ALIGNED);
        assertThat(running.size).isEqualTo(Kernel.EPOLL_EVENT_PACKED ? 12 : 16);
        assertThat(running.dataOffset).isEqualTo(Kernel.EPOLL_EVENT_PACKED ? 4 : 8);
    }

    @ParameterizedTest
    @EnumSource(EpollEventArray.Layout.class)
    void setEventsDataRoundTripAtSeveralIndexes(EpollEventArray.Layout layout) {
        int capacity = 9;
        EpollEventArray a = new EpollEventArray(capacity, layout);
        try {
            assertThat(a.capacity()).isEqualTo(capacity);
            assertThat(a.layout()).isSameAs(layout);
            for (int i = 0; i < capacity; i++) {
                assertThat(a.events(i)).as("fresh entry %d is zeroed", i).isZero();
                assertThat(a.data(i)).as("fresh entry %d is zeroed", i).isZero();
            }
            // Every entry gets its own values: a write that spills into a neighbour shows.
            for (int i = 0; i < capacity; i++) {
                a.set(i, eventsFor(i), TOKENS[i % TOKENS.length] ^ i);
            }
            for (int i = 0; i < capacity; i++) {
                assertThat(a.events(i)).as("events of entry %d", i).isEqualTo(eventsFor(i));
                assertThat(a.data(i)).as("data of entry %d", i).isEqualTo(TOKENS[i % TOKENS.length] ^ i);
            }
            // Overwriting one entry leaves its neighbours alone.
            a.set(4, -1, -1L);
            assertThat(a.events(3)).isEqualTo(eventsFor(3));
            assertThat(a.data(3)).isEqualTo(TOKENS[3] ^ 3);
            assertThat(a.events(4)).isEqualTo(-1);
            assertThat(a.data(4)).isEqualTo(-1L);
            assertThat(a.events(5)).isEqualTo(eventsFor(5));
            assertThat(a.data(5)).isEqualTo(TOKENS[5] ^ 5);
            a.set(4, 0, 0L);
            assertThat(a.events(4)).isZero();
            assertThat(a.data(4)).isZero();
        } finally {
            a.free();
        }
    }

    @ParameterizedTest
    @EnumSource(EpollEventArray.Layout.class)
    @DisplayName("Rule 22: entries are size bytes apart; events at offset 0, data at dataOffset, in memory")
    void addressSpacingAndByteLayout(EpollEventArray.Layout layout) {
        EpollEventArray a = new EpollEventArray(5, layout);
        try {
            long base = a.address(0);
            assertThat(base).isNotZero();
            for (int i = 0; i < 5; i++) {
                assertThat(a.address(i) - base).as("offset of entry %d", i).isEqualTo((long) i * layout.size);
            }
            for (int i = 0; i < 5; i++) {
                a.set(i, 0x1000 + i, 0x1111_2222_3333_4444L + i);
            }
            for (int i = 0; i < 5; i++) {
                long at = a.address(i);
                assertThat(RAW.getInt(at)).as("native events of entry %d", i).isEqualTo(0x1000 + i);
                assertThat(RAW.getLong(at + layout.dataOffset)).as("native data of entry %d", i)
                        .isEqualTo(0x1111_2222_3333_4444L + i);
            }
        } finally {
            a.free();
        }
    }

    @ParameterizedTest
    @EnumSource(EpollEventArray.Layout.class)
    void anIndexOutOfRangeThrows(EpollEventArray.Layout layout) {
        EpollEventArray a = new EpollEventArray(3, layout);
        try {
            for (int bad : new int[] {3, 4, 100, -1, -2, Integer.MAX_VALUE}) {
                assertThatThrownBy(() -> a.events(bad)).as("events(%d)", bad)
                        .isInstanceOf(IndexOutOfBoundsException.class);
                assertThatThrownBy(() -> a.data(bad)).as("data(%d)", bad)
                        .isInstanceOf(IndexOutOfBoundsException.class);
                assertThatThrownBy(() -> a.set(bad, 1, 1L)).as("set(%d)", bad)
                        .isInstanceOf(IndexOutOfBoundsException.class);
            }
            // The last entry is in range, and the failed calls above wrote nothing.
            a.set(2, 7, 8L);
            assertThat(a.events(2)).isEqualTo(7);
            assertThat(a.data(2)).isEqualTo(8L);
            assertThat(a.events(0)).isZero();
            assertThat(a.data(0)).isZero();
        } finally {
            a.free();
        }
    }

    /**
     * An index whose byte offset overflows int wraps into the array: 357_913_942 * 12 = 2^32 + 8, so
     * events(357_913_942) reads entry 0's data on the packed layout (and set writes there) instead of
     * throwing; 268_435_456 and Integer.MIN_VALUE wrap to offset 0 on both layouts. EpollEventArray computes {@code i * layout.size} in int arithmetic without checking i.
     */
    @ParameterizedTest
    @ValueSource(ints = {357_913_942, 357_913_943, 268_435_456, 268_435_457, Integer.MIN_VALUE})
    void anIndexWhoseOffsetOverflowsThrowsInsteadOfWrapping(int bad) {
        for (EpollEventArray.Layout layout : EpollEventArray.Layout.values()) {
            EpollEventArray a = new EpollEventArray(4, layout);
            try {
                assertThatThrownBy(() -> a.events(bad)).as("%s events(%d)", layout, bad)
                        .isInstanceOf(IndexOutOfBoundsException.class);
                assertThatThrownBy(() -> a.data(bad)).as("%s data(%d)", layout, bad)
                        .isInstanceOf(IndexOutOfBoundsException.class);
                assertThatThrownBy(() -> a.set(bad, -1, -1L)).as("%s set(%d)", layout, bad)
                        .isInstanceOf(IndexOutOfBoundsException.class);
                for (int i = 0; i < 4; i++) {
                    assertThat(a.events(i)).as("%s entry %d untouched", layout, i).isZero();
                    assertThat(a.data(i)).as("%s entry %d untouched", layout, i).isZero();
                }
            } finally {
                a.free();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void aCapacityBelowOneIsRefusedAndAllocatesNothing(int capacity) {
        long blocks = NativeBuffer.liveBlocks();
        for (EpollEventArray.Layout layout : EpollEventArray.Layout.values()) {
            assertThatThrownBy(() -> new EpollEventArray(capacity, layout))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(String.valueOf(capacity));
        }
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks);
    }

    @Test
    void freeIsIdempotentAndReleasesTheBlock() {
        long blocks = NativeBuffer.liveBlocks();
        EpollEventArray a = new EpollEventArray(2, EpollEventArray.Layout.running());
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks + 1);
        a.free();
        a.free();
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks);
        assertThatThrownBy(() -> a.events(0)).as("a freed array is not readable")
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    @DisplayName("Rule 22: the running platform's layout round-trips data tokens through a real epoll instance")
    void realRoundTripThroughTheKernel() throws IOException {
        EpollEventArray.Layout layout = EpollEventArray.Layout.running();
        long[] tokens = {0x0123_4567_89AB_CDEFL, 0xFEDC_BA98_7654_3210L, 0x0000_0007_0000_0009L};
        int ep = Kernel.epollCreate();
        EpollEventArray ctl = new EpollEventArray(1, layout);
        EpollEventArray out = new EpollEventArray(8, layout);
        try (Fds fds = new Fds()) {
            List<int[]> pipes = new ArrayList<>();
            for (long token : tokens) {
                int[] p = fds.pipe();
                pipes.add(p);
                ctl.set(0, PollBits.POLLIN, token);
                Kernel.epollCtl(ep, Kernel.EPOLL_CTL_ADD, p[0], ctl.address(0));
            }
            assertThat(Kernel.epollWait(ep, out.address(0), out.capacity(), 0)).as("nothing written yet").isZero();

            Fds.write(pipes.get(0)[1], 1);
            int n = Kernel.epollWait(ep, out.address(0), out.capacity(), 5_000_000_000L);
            assertThat(n).isEqualTo(1);
            assertThat(out.events(0)).isEqualTo(PollBits.POLLIN);
            assertThat(out.data(0)).isEqualTo(tokens[0]);

            Fds.write(pipes.get(1)[1], 1);
            Fds.write(pipes.get(2)[1], 1);
            n = Kernel.epollWait(ep, out.address(0), out.capacity(), 5_000_000_000L);
            assertThat(n).isEqualTo(3);
            List<Long> got = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                assertThat(out.events(i)).as("events of entry %d", i).isEqualTo(PollBits.POLLIN);
                got.add(out.data(i));
            }
            assertThat(got).containsExactlyInAnyOrder(tokens[0], tokens[1], tokens[2]);
        } finally {
            Kernel.closeQuietly(ep);
            ctl.free();
            out.free();
        }
    }

    @Test
    @DisplayName("Rule 22: the other layout does not match the kernel's struct (the test can tell them apart)")
    void theOtherLayoutMisreadsWhatTheKernelWrites() throws IOException {
        EpollEventArray.Layout right = EpollEventArray.Layout.running();
        EpollEventArray.Layout wrong = right == EpollEventArray.Layout.PACKED
                ? EpollEventArray.Layout.ALIGNED : EpollEventArray.Layout.PACKED;
        long token = 0x0123_4567_89AB_CDEFL;
        int ep = Kernel.epollCreate();
        EpollEventArray ctl = new EpollEventArray(1, right);
        EpollEventArray out = new EpollEventArray(2, wrong);
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            ctl.set(0, PollBits.POLLIN, token);
            Kernel.epollCtl(ep, Kernel.EPOLL_CTL_ADD, p[0], ctl.address(0));
            Fds.write(p[1], 1);
            assertThat(Kernel.epollWait(ep, out.address(0), 1, 5_000_000_000L)).isEqualTo(1);
            assertThat(out.events(0)).isEqualTo(PollBits.POLLIN);
            assertThat(out.data(0)).as("data read with the %s layout", wrong).isNotEqualTo(token);
        } finally {
            Kernel.closeQuietly(ep);
            ctl.free();
            out.free();
        }
    }

    private static int eventsFor(int i) {
        return (i * 0x0101_0101) ^ 0x8000_0001;
    }
}
