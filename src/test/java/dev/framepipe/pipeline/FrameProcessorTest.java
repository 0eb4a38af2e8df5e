package dev.framepipe.pipeline;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.Kernels;
import dev.framepipe.kernel.StatsAccumulator;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.FrameDescriptor;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.OpType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The worker's side of a frame: answers, the memory they reuse, and failures. */
class FrameProcessorTest {

    static final ForkJoinPool POOL = new ForkJoinPool(2);
    static final FramePool POOL_OF_FRAMES = new FramePool(16);

    @AfterAll
    static void stopPool() {
        POOL.shutdown();
    }

    private static final FrameOwner NOBODY = new FrameOwner() {
        @Override
        protected void complete(Frame frame) {
        }

        @Override
        protected void endOfBatch() {
        }
    };

    private static Frame frameOf(byte[] bytes) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        int kind = FrameDescriptor.kind(buf, 0);
        int op = FrameDescriptor.op(buf, 0);
        return Frame.take(POOL_OF_FRAMES, NOBODY, buf, kind, op, FrameDescriptor.id(buf, 0), OpType.of(kind, op), 0);
    }

    private static FrameProcessor processor(FloatKernels floats) {
        return new FrameProcessor(floats, Kernels.text(), PooledByteBufAllocator.DEFAULT, POOL, 1024);
    }

    private static void finish(Frame f) {
        f.releaseBuffers();
        f.recycle();
    }

    @Test
    void aKernelThatThrowsBecomesAnInternalErrorAndReleasesTheRequest() {
        FloatKernels broken = new FloatKernels() {
            @Override
            public void stats(MemorySegment segment, long offset, int count, StatsAccumulator acc) {
                throw new IllegalStateException("boom");
            }

            @Override
            public void scale(MemorySegment segment, long offset, int count, float a, float b) {
                throw new IllegalStateException("boom");
            }
        };
        Frame f = frameOf(frame(Kinds.FLOATS, Kinds.OP_STATS, 5, floats(1, 2)));
        ByteBuf request = f.request;
        processor(broken).process(f);
        FrameAnswers.encode(f, PooledByteBufAllocator.DEFAULT);
        assertThat(f.error).isEqualTo(ErrorCode.INTERNAL);
        assertThat(request.refCnt()).isZero();
        assertThat(FrameDescriptor.kind(f.response, f.response.readerIndex())).isEqualTo(0xFF);
        assertThat(f.response.getUnsignedShortLE(f.response.readerIndex() + 16)).isEqualTo(ErrorCode.INTERNAL.code());
        assertThat(f.closeAfter).isFalse();
        finish(f);
    }

    @Test
    void pingAndUnchangedTextAreAnsweredWithTheRequestsOwnBuffer() {
        FrameProcessor p = processor(Kernels.floats());
        for (byte[] req : new byte[][] {frame(Kinds.PING, 0, 1, utf8("echo")), frame(Kinds.TEXT, Kinds.OP_UPPER, 2, utf8("ALREADY UPPER"))}) {
            Frame f = frameOf(req);
            ByteBuf request = f.request;
            p.process(f);
            assertThat(f.response).isSameAs(request);
            finish(f);
        }
    }

    @Test
    void transformsReportTheirPath() {
        FrameProcessor p = processor(Kernels.floats());
        Frame borrowed = frameOf(frame(Kinds.TEXT, Kinds.OP_LOWER, 1, utf8("already lower")));
        Frame inPlace = frameOf(frame(Kinds.TEXT, Kinds.OP_UPPER, 2, utf8("make me upper")));
        Frame sameLength = frameOf(frame(Kinds.TEXT, Kinds.OP_UPPER, 5, utf8("straße"))); // 7 bytes -> "STRASSE", 7
        Frame copied = frameOf(frame(Kinds.TEXT, Kinds.OP_UPPER, 3, utf8("ﬁne"))); // 5 bytes -> "FINE", 4
        Frame scaled = frameOf(frame(Kinds.FLOATS, Kinds.OP_SCALE, 4, scalePayload(2, 0, 1, 2)));
        ByteBuf copiedRequest = copied.request;
        for (Frame f : new Frame[] {borrowed, inPlace, sameLength, copied, scaled}) {
            p.process(f);
        }
        assertThat(borrowed.path).isEqualTo(TransformPath.BORROWED);
        assertThat(inPlace.path).isEqualTo(TransformPath.IN_PLACE);
        assertThat(sameLength.path).isEqualTo(TransformPath.IN_PLACE);
        assertThat(copied.path).isEqualTo(TransformPath.COPIED);
        assertThat(copiedRequest.refCnt()).as("the request of a copied answer is released").isZero();
        assertThat(scaled.path).isEqualTo(TransformPath.IN_PLACE);
        for (Frame f : new Frame[] {borrowed, inPlace, sameLength, copied, scaled}) {
            finish(f);
        }
    }

    @Test
    void fixedSizeAnswersAreWrittenOverARequestWithRoomAndGetANewBufferOtherwise() {
        FrameProcessor p = processor(Kernels.floats());
        Frame roomy = frameOf(frame(Kinds.FLOATS, Kinds.OP_STATS, 1, floats(new float[12])));
        Frame small = frameOf(frame(Kinds.FLOATS, Kinds.OP_STATS, 2, floats(1, 2)));
        ByteBuf roomyRequest = roomy.request;
        ByteBuf smallRequest = small.request;
        p.process(roomy);
        p.process(small);
        FrameAnswers.encode(roomy, PooledByteBufAllocator.DEFAULT);
        FrameAnswers.encode(small, PooledByteBufAllocator.DEFAULT);
        assertThat(roomy.response).isSameAs(roomyRequest);
        assertThat(roomy.response.readableBytes()).isEqualTo(64);
        assertThat(roomy.response.getLongLE(16)).isEqualTo(12);
        assertThat(small.response).isNotSameAs(smallRequest);
        assertThat(smallRequest.refCnt()).isZero();
        assertThat(small.response.getDoubleLE(16 + 8)).isEqualTo(3.0);
        finish(roomy);
        finish(small);
    }

    @Test
    void largeFloatFramesAreSplitAcrossThePoolAndMergeToTheSingleThreadResult() {
        int n = 100_003;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.sin(i) * 1000 + 5e5f;
        }
        Frame split = frameOf(frame(Kinds.FLOATS, Kinds.OP_STATS, 1, floats(x)));
        processor(Kernels.floats()).process(split); // threshold 1024: about 128 pieces
        FrameAnswers.encode(split, PooledByteBufAllocator.DEFAULT);
        Frame whole = frameOf(frame(Kinds.FLOATS, Kinds.OP_STATS, 1, floats(x)));
        new FrameProcessor(Kernels.floats(), Kernels.text(), PooledByteBufAllocator.DEFAULT, POOL, Integer.MAX_VALUE)
                .process(whole);
        FrameAnswers.encode(whole, PooledByteBufAllocator.DEFAULT);
        int at = FrameDescriptor.HEADER_LENGTH;
        assertThat(split.response.getLongLE(at)).isEqualTo(n);
        double sumSplit = split.response.getDoubleLE(at + 8);
        double sumWhole = whole.response.getDoubleLE(at + 8);
        double absSum = 0;
        for (float v : x) {
            absSum += Math.abs(v);
        }
        assertThat(Math.abs(sumSplit - sumWhole)).isLessThanOrEqualTo(2e-9 * absSum);
        double varSplit = split.response.getDoubleLE(at + 40);
        double varWhole = whole.response.getDoubleLE(at + 40);
        assertThat(Math.abs(varSplit - varWhole)).isLessThanOrEqualTo(2e-9 * varWhole + 1e-15 * 5e5 * 5e5);
        assertThat(split.response.getDoubleLE(at + 16)).isEqualTo(whole.response.getDoubleLE(at + 16));
        assertThat(split.response.getDoubleLE(at + 24)).isEqualTo(whole.response.getDoubleLE(at + 24));
        finish(split);
        finish(whole);
    }
}
