package dev.framepipe.codec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.protocol.FrameDescriptor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FrameLayoutTest {

    /**
     * The decoder reads length, version, kind and op with one load ({@link FrameLayout#head}):
     * from a direct buffer's address, or through Netty on a heap buffer. Both must split into
     * exactly what the descriptor's field getters read, at any index (unaligned too).
     */
    @Test
    void theHeadWordSplitsIntoTheHeaderFieldsOnDirectAndHeapBuffers() {
        SplittableRandom random = new SplittableRandom(7);
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        ByteBuf heap = Unpooled.buffer(64);
        try {
            assertThat(direct.hasMemoryAddress()).as("the pooled direct buffers the server reads into").isTrue();
            for (int i = 0; i < 2000; i++) {
                byte[] bytes = new byte[64];
                random.nextBytes(bytes);
                int index = random.nextInt(64 - FrameDescriptor.HEADER_LENGTH + 1);
                for (ByteBuf buf : new ByteBuf[] {direct, heap}) {
                    buf.clear().writeBytes(bytes);
                    long head = FrameLayout.head(buf, index);
                    assertThat(FrameLayout.length(head)).isEqualTo(FrameDescriptor.length(buf, index));
                    assertThat(FrameLayout.version(head)).isEqualTo(FrameDescriptor.version(buf, index));
                    assertThat(FrameLayout.kind(head)).isEqualTo(FrameDescriptor.kind(buf, index));
                    assertThat(FrameLayout.op(head)).isEqualTo(FrameDescriptor.op(buf, index));
                }
            }
        } finally {
            direct.release();
            heap.release();
        }
    }
}
