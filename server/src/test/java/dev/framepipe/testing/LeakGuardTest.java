package dev.framepipe.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The leak guard itself: a buffer dropped without release is reported (so the build would fail). */
class LeakGuardTest {

    @Test
    void aBufferDroppedWithoutReleaseIsReported() {
        leakOne();
        assertThat(LeakGuard.collectLeaks()).anySatisfy(report -> assertThat(report).contains("ByteBuf"));
    }

    @Test
    void releasedBuffersAreNotReported() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(32);
        b.writeLong(1);
        b.release();
        assertThat(LeakGuard.collectLeaks()).isEmpty();
    }

    private static void leakOne() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(32);
        b.writeLong(42);
        // dropped on purpose
    }
}
