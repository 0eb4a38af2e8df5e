package dev.framepipe.pipeline;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.Kernels;
import dev.framepipe.kernel.ScalarFloatKernels;
import dev.framepipe.kernel.StatsAccumulator;
import dev.framepipe.kernel.reference.ReferenceStats;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.FrameDescriptor;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.codec.OpType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
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
        protected void complete(Frame frame, long nowNanos) {
        }

        @Override
        protected void endOfBatch() {
        }
    };

    private static Frame frameOf(byte[] bytes) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        int kind = FrameDescriptor.kind(buf, 0);
        int op = FrameDescriptor.op(buf, 0);
        return Frame.take(POOL_OF_FRAMES, NOBODY, buf, 0, bytes.length, kind, op, FrameDescriptor.id(buf, 0),
                OpType.of(kind, op), 0);
    }

    /** The answer's bytes as the I/O thread gets them, in a buffer the caller releases. */
    private static ByteBuf answerOf(Frame f) {
        FrameAnswers.prepare(f, PooledByteBufAllocator.DEFAULT);
        return FrameAnswers.take(f, PooledByteBufAllocator.DEFAULT);
    }

    /** The answer's bytes as copied into the I/O thread's batch buffer. */
    private static byte[] copiedAnswerOf(Frame f) {
        FrameAnswers.prepare(f, PooledByteBufAllocator.DEFAULT);
        byte[] out = new byte[FrameAnswers.size(f)];
        FrameAnswers.copyTo(f, MemorySegment.ofArray(out), 0);
        return out;
    }

    private static FrameProcessor processor(FloatKernels floats) {
        return new FrameProcessor(floats, Kernels.text(), PooledByteBufAllocator.DEFAULT, POOL, 1024);
    }

    private static void finish(Frame f) {
        f.releaseBuffers();
        f.recycle();
    }

    @Test
    void aKernelThatThrowsBecomesAnInternalErrorAnswerAndTheRequestIsStillReleased() {
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
        ByteBuf request = f.source;
        processor(broken).process(f);
        assertThat(f.error).isEqualTo(ErrorCode.INTERNAL);
        ByteBuf answer = answerOf(f);
        assertThat(FrameDescriptor.kind(answer, answer.readerIndex())).isEqualTo(0xFF);
        assertThat(answer.getUnsignedShortLE(answer.readerIndex() + 16)).isEqualTo(ErrorCode.INTERNAL.code());
        assertThat(f.closeAfter).isFalse();
        answer.release();
        finish(f);
        assertThat(request.refCnt()).isZero();
    }

    @Test
    void pingAndUnchangedTextAreAnsweredWithTheRequestsOwnMemory() {
        FrameProcessor p = processor(Kernels.floats());
        for (byte[] req : new byte[][] {frame(Kinds.PING, 0, 1, utf8("echo")), frame(Kinds.TEXT, Kinds.OP_UPPER, 2, utf8("ALREADY UPPER"))}) {
            Frame f = frameOf(req);
            long requestAddress = f.source.memoryAddress();
            p.process(f);
            assertThat(f.answer).isEqualTo(Frame.Answer.REQUEST);
            ByteBuf answer = answerOf(f);
            assertThat(answer.memoryAddress()).as("a view of the request, not a copy").isEqualTo(requestAddress);
            assertThat(answer.readableBytes()).isEqualTo(req.length);
            assertThat(FrameDescriptor.kind(answer, answer.readerIndex()) & FrameDescriptor.RESPONSE_BIT).isNotZero();
            answer.release();
            finish(f);
        }
    }

    @Test
    void workersUseOnlyTheFramesMemoryNeverItsBuffer() {
        // With the buffer hidden, any use of it on the worker would throw and turn into INTERNAL.
        FrameProcessor p = processor(Kernels.floats());
        byte[][] requests = {
            frame(Kinds.FLOATS, Kinds.OP_STATS, 1, floats(1, 2, 3)),
            frame(Kinds.FLOATS, Kinds.OP_SCALE, 2, scalePayload(2, 1, 1, 2)),
            frame(Kinds.TEXT, Kinds.OP_UPPER, 3, utf8("in place")),
            frame(Kinds.TEXT, Kinds.OP_UPPER, 4, utf8("ﬁne")),
            frame(Kinds.TEXT, Kinds.OP_LOWER, 5, utf8("Mixed")),
            frame(Kinds.TEXT, Kinds.OP_COUNT, 6, utf8("two words")),
            frame(Kinds.PING, 0, 7, utf8("echo")),
        };
        for (byte[] req : requests) {
            Frame f = frameOf(req);
            ByteBuf source = f.source;
            f.source = null;
            p.process(f);
            f.source = source;
            assertThat(f.error).as("op of frame %d", f.id).isNull();
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
        ByteBuf copiedRequest = copied.source;
        for (Frame f : new Frame[] {borrowed, inPlace, sameLength, copied, scaled}) {
            p.process(f);
        }
        assertThat(borrowed.path).isEqualTo(TransformPath.BORROWED);
        assertThat(inPlace.path).isEqualTo(TransformPath.IN_PLACE);
        assertThat(sameLength.path).isEqualTo(TransformPath.IN_PLACE);
        assertThat(copied.path).isEqualTo(TransformPath.COPIED);
        assertThat(copied.answer).isEqualTo(Frame.Answer.BUFFER);
        assertThat(copiedAnswerOf(copied)).isEqualTo(frame(Kinds.TEXT | FrameDescriptor.RESPONSE_BIT, Kinds.OP_UPPER, 3,
                utf8("FINE")));
        assertThat(scaled.path).isEqualTo(TransformPath.IN_PLACE);
        assertThat(copiedAnswerOf(scaled)).isEqualTo(frame(Kinds.FLOATS | FrameDescriptor.RESPONSE_BIT, Kinds.OP_SCALE, 4,
                floats(2, 4)));
        for (Frame f : new Frame[] {borrowed, inPlace, sameLength, copied, scaled}) {
            finish(f);
        }
        assertThat(copiedRequest.refCnt()).as("the request of a copied answer is released with the frame").isZero();
    }

    @Test
    void statsAndCountLeaveTheRequestUntouchedAndAreEncodedFromTheirValues() {
        FrameProcessor p = processor(Kernels.floats());
        byte[] roomyBytes = frame(Kinds.FLOATS, Kinds.OP_STATS, 1, floats(new float[12]));
        byte[] smallBytes = frame(Kinds.FLOATS, Kinds.OP_STATS, 2, floats(1, 2));
        byte[] countBytes = frame(Kinds.TEXT, Kinds.OP_COUNT, 3, utf8("one two\nthree"));
        Frame roomy = frameOf(roomyBytes);
        Frame small = frameOf(smallBytes);
        Frame count = frameOf(countBytes);
        for (Frame f : new Frame[] {roomy, small, count}) {
            p.process(f);
        }
        assertThat(roomy.answer).isEqualTo(Frame.Answer.STATS);
        assertThat(count.answer).isEqualTo(Frame.Answer.COUNT);
        assertThat(io.netty.buffer.ByteBufUtil.getBytes(roomy.source)).as("the worker wrote no answer bytes")
                .isEqualTo(roomyBytes);
        ByteBuf roomyAnswer = answerOf(roomy);
        assertThat(roomyAnswer.readableBytes()).isEqualTo(64);
        assertThat(roomyAnswer.getLongLE(16)).isEqualTo(12);
        byte[] smallAnswer = copiedAnswerOf(small);
        assertThat(smallAnswer).hasSize(64);
        ByteBuf smallView = io.netty.buffer.Unpooled.wrappedBuffer(smallAnswer);
        assertThat(FrameDescriptor.kind(smallView, 0)).isEqualTo(Kinds.FLOATS | FrameDescriptor.RESPONSE_BIT);
        assertThat(FrameDescriptor.id(smallView, 0)).isEqualTo(2);
        assertThat(smallView.getDoubleLE(16 + 8)).isEqualTo(3.0);
        ByteBuf countView = io.netty.buffer.Unpooled.wrappedBuffer(copiedAnswerOf(count));
        assertThat(countView.readableBytes()).isEqualTo(48);
        assertThat(FrameDescriptor.kind(countView, 0)).isEqualTo(Kinds.TEXT | FrameDescriptor.RESPONSE_BIT);
        assertThat(countView.getLongLE(16 + 16)).as("words").isEqualTo(3);
        assertThat(countView.getLongLE(16 + 24)).as("lines: 0x0A bytes").isEqualTo(1);
        roomyAnswer.release();
        finish(roomy);
        finish(small);
        finish(count);
    }

    @Test
    void largeFloatFramesAreSplitAcrossThePoolIntoBlocksAndMeetTheExactBounds() {
        int n = 100_003;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.sin(i) * 1000 + 5e5f;
        }
        // Every piece the kernels are given, and the thread that ran it.
        List<long[]> pieces = Collections.synchronizedList(new ArrayList<>());
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        FloatKernels recording = new FloatKernels() {
            @Override
            public void stats(MemorySegment segment, long offset, int count, StatsAccumulator acc) {
                pieces.add(new long[] {offset, count});
                threads.add(Thread.currentThread());
                Kernels.floats().stats(segment, offset, count, acc);
            }

            @Override
            public void scale(MemorySegment segment, long offset, int count, float a, float b) {
                throw new AssertionError("not a SCALE frame");
            }
        };
        Frame split = frameOf(frame(Kinds.FLOATS, Kinds.OP_STATS, 1, floats(x)));
        long payload = split.address + FrameDescriptor.HEADER_LENGTH;
        processor(recording).process(split); // threshold 1024: pieces of at most one 2048-float block
        assertThat(split.error).isNull();

        // The split happened: the payload in whole blocks, each float exactly once, on the pool.
        pieces.sort(java.util.Comparator.comparingLong(p -> p[0]));
        assertThat(pieces).as("pieces").hasSizeGreaterThanOrEqualTo((n + ScalarFloatKernels.BLOCK - 1) / ScalarFloatKernels.BLOCK);
        long next = payload;
        for (long[] p : pieces) {
            assertThat(p[0]).as("a piece starts where the one before ended").isEqualTo(next);
            assertThat(p[1]).as("floats in a piece").isBetween(1L, (long) ScalarFloatKernels.BLOCK);
            next += 4 * p[1];
        }
        assertThat(next).as("the pieces end with the payload").isEqualTo(payload + 4L * n);
        assertThat(threads).as("pieces ran on the worker pool").allSatisfy(t ->
                assertThat(t instanceof ForkJoinWorkerThread w && w.getPool() == POOL).as("%s", t).isTrue());

        // The merged answer against the exact STATS of the same floats (the protocol's bounds).
        ByteBuf answer = answerOf(split);
        int at = answer.readerIndex() + FrameDescriptor.HEADER_LENGTH;
        ReferenceStats ref = ReferenceStats.of(x);
        double sum = answer.getDoubleLE(at + FrameDescriptor.STATS_SUM_OFFSET);
        double mean = answer.getDoubleLE(at + FrameDescriptor.STATS_MEAN_OFFSET);
        double variance = answer.getDoubleLE(at + FrameDescriptor.STATS_VARIANCE_OFFSET);
        assertThat(answer.getLongLE(at + FrameDescriptor.STATS_COUNT_OFFSET)).isEqualTo(n);
        assertThat(Math.abs(sum - ref.exactSum.doubleValue())).as("sum %s", sum).isLessThanOrEqualTo(1e-9 * ref.sumAbs);
        assertThat(answer.getDoubleLE(at + FrameDescriptor.STATS_MIN_OFFSET)).isEqualTo(ref.min);
        assertThat(answer.getDoubleLE(at + FrameDescriptor.STATS_MAX_OFFSET)).isEqualTo(ref.max);
        assertThat(Math.abs(mean - ref.exactMean)).as("mean %s", mean)
                .isLessThanOrEqualTo(1e-9 * ref.sumAbs / n + Math.ulp(ref.exactMean));
        assertThat(Math.abs(variance - ref.exactVariance)).as("variance %s against %s", variance, ref.exactVariance)
                .isLessThanOrEqualTo(1e-9 * ref.exactVariance + 1e-15 * ref.exactMean * ref.exactMean);
        answer.release();
        finish(split);
    }
}
