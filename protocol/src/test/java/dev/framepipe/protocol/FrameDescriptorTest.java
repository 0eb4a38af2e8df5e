package dev.framepipe.protocol;

import static dev.framepipe.protocol.FrameDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** Header reads: every field unsigned (or full 64-bit), the same from direct and heap buffers and slices. */
class FrameDescriptorTest {

    /** A header with every field's top bit set, at {@code at} in {@code buf}. */
    private static void putExtremeHeader(ByteBuf buf, int at) {
        buf.setIntLE(at + LENGTH_OFFSET, 0xFFFF_FFF0); // unsigned: 4,294,967,280
        buf.setByte(at + VERSION_OFFSET, 0x81);
        buf.setByte(at + KIND_OFFSET, 0xFE);
        buf.setShortLE(at + OP_OFFSET, 0xFFFE);
        buf.setLongLE(at + ID_OFFSET, 0x8000_0000_0000_0001L);
    }

    private static void assertExtremeHeader(ByteBuf buf, int at) {
        assertThat(length(buf, at)).isEqualTo(0xFFFF_FFF0L);
        assertThat(version(buf, at)).isEqualTo(0x81);
        assertThat(kind(buf, at)).isEqualTo(0xFE);
        assertThat(op(buf, at)).isEqualTo(0xFFFE);
        assertThat(id(buf, at)).isEqualTo(0x8000_0000_0000_0001L);
    }

    @Test
    void directAndHeapBuffersReadTheSameUnsignedFieldsAtAnyOffset() {
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        ByteBuf heap = Unpooled.buffer(64);
        try {
            for (ByteBuf buf : new ByteBuf[] {direct, heap}) {
                for (int at : new int[] {0, 3, 17}) {
                    buf.clear().writeZero(at + HEADER_LENGTH + 5).readerIndex(at);
                    putExtremeHeader(buf, at);
                    assertExtremeHeader(buf, at);
                    // a slice: reads are relative to the slice
                    ByteBuf slice = buf.slice(at, HEADER_LENGTH);
                    assertExtremeHeader(slice, 0);
                }
            }
        } finally {
            direct.release();
            heap.release();
        }
    }
}
