package dev.iomux.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link NativeBuffer}: zeroed allocation, bounds-checked access in native byte order, free and the live
 * counters that {@link LeakCheck} relies on.
 */
@ExtendWith(LeakCheck.class)
class NativeBufferTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 4096, 65_537})
    void allocateIsZeroed(int size) {
        NativeBuffer b = NativeBuffer.allocate(size);
        try {
            assertThat(b.size()).isEqualTo(size);
            assertThat(b.address()).isNotZero();
            assertThat(b.isFreed()).isFalse();
            byte[] all = new byte[size];
            java.util.Arrays.fill(all, (byte) 0x55);
            b.get(0, all, 0, size);
            assertThat(all).containsOnly((byte) 0);
        } finally {
            b.free();
        }
    }

    @Test
    void primitivesRoundTripInNativeOrder() {
        NativeBuffer b = NativeBuffer.allocate(32);
        try {
            b.putInt(0, 0x12345678);
            b.putShort(4, (short) 0xBEEF);
            b.putByte(6, (byte) -2);
            b.putLong(8, 0x0102030405060708L);
            b.putLong(16, -1L);
            b.putInt(28, Integer.MIN_VALUE);

            assertThat(b.getInt(0)).isEqualTo(0x12345678);
            assertThat(b.getShort(4)).isEqualTo((short) 0xBEEF);
            assertThat(b.getByte(6)).isEqualTo((byte) -2);
            assertThat(b.getByte(7)).isZero();
            assertThat(b.getLong(8)).isEqualTo(0x0102030405060708L);
            assertThat(b.getLong(16)).isEqualTo(-1L);
            assertThat(b.getInt(28)).isEqualTo(Integer.MIN_VALUE);

            // The layout a system call sees is native order: the bytes of the int at 0 as the CPU stores them.
            byte[] raw = new byte[4];
            b.get(0, raw, 0, 4);
            assertThat(ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder()).getInt()).isEqualTo(0x12345678);
        } finally {
            b.free();
        }
    }

    @Test
    void byteArraysCopyInAndOutWithOffsets() {
        NativeBuffer b = NativeBuffer.allocate(16);
        try {
            byte[] src = {9, 8, 7, 6, 5, 4, 3};
            b.put(10, src, 2, 5); // 7 6 5 4 3 at 10..14
            byte[] dst = new byte[8];
            b.get(9, dst, 1, 7);
            assertThat(dst).containsExactly(0, 0, 7, 6, 5, 4, 3, 0);
        } finally {
            b.free();
        }
    }

    @Test
    void outOfBoundsAccessThrows() {
        NativeBuffer b = NativeBuffer.allocate(16);
        try {
            int size = b.size();
            assertThatThrownBy(() -> b.getInt(size - 3)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.putInt(size - 3, 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.getLong(size - 7)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.putLong(size - 1, 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.getShort(size - 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.getByte(size)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.putByte(size, (byte) 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.getInt(-1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.putShort(-2, (short) 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.getByte(-1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.getLong(Integer.MIN_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.put(12, new byte[8], 0, 5)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.get(-1, new byte[8], 0, 2)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.get(0, new byte[4], 2, 3)).isInstanceOf(IndexOutOfBoundsException.class);

            // The last valid positions still work, and nothing next to them was touched.
            b.putInt(size - 4, 0xCAFEBABE);
            b.putLong(0, 42L);
            assertThat(b.getInt(size - 4)).isEqualTo(0xCAFEBABE);
            assertThat(b.getLong(0)).isEqualTo(42L);
            assertThat(b.getInt(8)).isZero();
        } finally {
            b.free();
        }
    }

    @Test
    void everyAccessThrowsAfterFree() {
        NativeBuffer b = NativeBuffer.allocate(64);
        b.putInt(0, 1);
        b.free();

        assertThat(b.address()).isZero();
        assertThat(b.isFreed()).isTrue();
        assertThat(b.size()).isEqualTo(64);
        assertThat(b).hasToString("NativeBuffer[64 bytes, freed]");
        assertThatThrownBy(() -> b.getInt(0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.putInt(0, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.getShort(0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.putShort(0, (short) 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.getLong(0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.putLong(0, 1L)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.getByte(0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.putByte(0, (byte) 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.put(0, new byte[1], 0, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.get(0, new byte[1], 0, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.clear(0, 1)).isInstanceOf(IndexOutOfBoundsException.class);

        NativeBuffer other = NativeBuffer.allocate(8);
        try {
            assertThatThrownBy(() -> b.copyFrom(other, 0, 0, 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> other.copyFrom(b, 0, 0, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        } finally {
            other.free();
        }
    }

    @Test
    void freeIsIdempotentAndCountersFollowAllocateAndFree() {
        long blocks = NativeBuffer.liveBlocks();
        long bytes = NativeBuffer.liveBytes();

        NativeBuffer a = NativeBuffer.allocate(100);
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks + 1);
        assertThat(NativeBuffer.liveBytes()).isEqualTo(bytes + 100);

        NativeBuffer c = NativeBuffer.allocate(28);
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks + 2);
        assertThat(NativeBuffer.liveBytes()).isEqualTo(bytes + 128);
        assertThat(a).hasToString("NativeBuffer[100 bytes]");

        a.free();
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks + 1);
        assertThat(NativeBuffer.liveBytes()).isEqualTo(bytes + 28);

        a.free(); // second free: no effect on the counters, no double free of the memory
        a.free();
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks + 1);
        assertThat(NativeBuffer.liveBytes()).isEqualTo(bytes + 28);

        c.free();
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks);
        assertThat(NativeBuffer.liveBytes()).isEqualTo(bytes);
    }

    @Test
    void copyFromCopiesAndRespectsBothBounds() {
        NativeBuffer src = NativeBuffer.allocate(16);
        NativeBuffer dst = NativeBuffer.allocate(8);
        try {
            for (int i = 0; i < 16; i++) {
                src.putByte(i, (byte) (i + 1));
            }
            dst.copyFrom(src, 10, 2, 4); // bytes 11 12 13 14 at 2..5
            byte[] out = new byte[8];
            dst.get(0, out, 0, 8);
            assertThat(out).containsExactly(0, 0, 11, 12, 13, 14, 0, 0);

            dst.copyFrom(src, 8, 0, 8); // exactly up to both ends
            dst.get(0, out, 0, 8);
            assertThat(out).containsExactly(9, 10, 11, 12, 13, 14, 15, 16);

            assertThatThrownBy(() -> dst.copyFrom(src, 0, 1, 8)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> dst.copyFrom(src, 9, 0, 8)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> dst.copyFrom(src, -1, 0, 2)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> dst.copyFrom(src, 0, -1, 2)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> dst.copyFrom(src, 0, 0, -1)).isInstanceOf(IndexOutOfBoundsException.class);
            // A failed copy wrote nothing.
            dst.get(0, out, 0, 8);
            assertThat(out).containsExactly(9, 10, 11, 12, 13, 14, 15, 16);
        } finally {
            src.free();
            dst.free();
        }
    }

    @Test
    void clearZeroesTheRangeAndRespectsBounds() {
        NativeBuffer b = NativeBuffer.allocate(8);
        try {
            b.putLong(0, -1L);
            b.clear(2, 3);
            byte[] out = new byte[8];
            b.get(0, out, 0, 8);
            assertThat(out).containsExactly(-1, -1, 0, 0, 0, -1, -1, -1);

            assertThatThrownBy(() -> b.clear(6, 3)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.clear(-1, 2)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.clear(0, 9)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> b.clear(0, -1)).isInstanceOf(IndexOutOfBoundsException.class);
            b.get(0, out, 0, 8);
            assertThat(out).containsExactly(-1, -1, 0, 0, 0, -1, -1, -1);

            b.clear(0, 8);
            assertThat(b.getLong(0)).isZero();
        } finally {
            b.free();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void nonPositiveSizesAreRejected(int size) {
        long blocks = NativeBuffer.liveBlocks();
        assertThatThrownBy(() -> NativeBuffer.allocate(size))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Integer.toString(size));
        assertThat(NativeBuffer.liveBlocks()).isEqualTo(blocks);
    }
}
