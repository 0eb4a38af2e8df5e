package dev.framepipe.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * The socket's read buffers for a frame connection: Netty's own choice (the delegate, adaptive
 * sizes), except while a large frame is arriving ({@link FrameDecoder#readTarget()}): a frame
 * being assembled is read straight into the rest of its assembly buffer, so its bytes are copied
 * once, by the kernel, and never again in user space; a STATS frame being folded is read in
 * buffers of {@link FrameDecoder#FOLD_READ_BYTES} at most, folded while they are in the cache.
 * No read takes more than the frame's remaining bytes, so the next frame starts in a buffer of
 * its own. One instance per channel (it knows that channel's decoder).
 */
public final class FrameReadAllocator implements RecvByteBufAllocator {

    private final RecvByteBufAllocator delegate;
    private final FrameDecoder decoder;

    public FrameReadAllocator(RecvByteBufAllocator delegate, FrameDecoder decoder) {
        this.delegate = delegate;
        this.decoder = decoder;
    }

    @Override
    public Handle newHandle() {
        return new FrameReadHandle((ExtendedHandle) delegate.newHandle(), decoder);
    }

    private static final class FrameReadHandle extends DelegatingHandle implements ExtendedHandle {
        private final FrameDecoder decoder;

        FrameReadHandle(ExtendedHandle delegate, FrameDecoder decoder) {
            super(delegate);
            this.decoder = decoder;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            ByteBuf target = decoder.readTarget();
            return target != null ? target : super.allocate(alloc);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return ((ExtendedHandle) delegate()).continueReading(maybeMoreDataSupplier);
        }
    }
}
