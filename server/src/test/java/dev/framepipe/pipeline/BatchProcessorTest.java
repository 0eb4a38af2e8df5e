package dev.framepipe.pipeline;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.codec.OpType;
import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.Kernels;
import dev.framepipe.kernel.StatsAccumulator;
import dev.framepipe.kernel.reference.ReferenceStats;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.FrameDescriptor;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The worker's side of a batch: every frame answered in order, small answers copied into one
 * output chunk, large ones left in the request's memory, failures as error answers, and the
 * request buffer never touched by the worker.
 */
class BatchProcessorTest {

    static final ForkJoinPool POOL = new ForkJoinPool(2);
    static final BatchPool BATCHES = new BatchPool(4);
    static final BatchOwner NOBODY = new BatchOwner() {
        @Override
        protected void answered(Batch batch, long nowNanos) {
        }

        @Override
        protected void endOfRound() {
        }
    };

    @AfterAll
    static void stopPool() {
        POOL.shutdown();
    }

    private static BatchProcessor processor(FloatKernels floats, int parallelThreshold) {
        return new BatchProcessor(floats, Kernels.text(), PooledByteBufAllocator.DEFAULT, POOL, parallelThreshold);
    }

    /** The frames back to back in one pooled direct buffer, in one sealed batch, as the I/O thread makes it. */
    private static Batch batchOf(byte[]... frames) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] f : frames) {
            all.writeBytes(f);
        }
        byte[] bytes = all.toByteArray();
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        Batch b = BATCHES.acquire();
        b.owner = NOBODY;
        int at = 0;
        for (byte[] f : frames) {
            OpType type = OpType.of(FrameDescriptor.kind(buf, at), FrameDescriptor.op(buf, at));
            b.add(buf, at, f.length, type, BatchProcessor.answerBound(type, f.length));
            at += f.length;
        }
        buf.release(); // the batch holds its own reference
        b.seal(PooledByteBufAllocator.DEFAULT, 0);
        return b;
    }

    /** Everything the batch would write, in order, as bytes; then the batch is released. */
    private static byte[] written(Batch b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        b.writeResponses((answer, charged) -> {
            out.writeBytes(ByteBufUtil.getBytes(answer));
            answer.release();
        });
        b.release();
        b.recycle();
        return out.toByteArray();
    }

    private static byte[] answer(int kind, int op, long id, byte[] payload) {
        return frame(kind | FrameDescriptor.RESPONSE_BIT, op, id, payload);
    }

    @Test
    void everyFrameOfABatchIsAnsweredInOrderAsOneBufferWhenTheAnswersAreSmall() {
        Batch b = batchOf(
                frame(Kinds.PING, 0, 1, utf8("echo")),
                frame(Kinds.TEXT, Ops.UPPER, 2, utf8("straße")),
                frame(Kinds.FLOATS, Ops.SCALE, 3, scalePayload(2, 1, 1, 2)),
                frame(Kinds.TEXT, Ops.LOWER, 4, utf8("MiXeD")),
                frame(Kinds.TEXT, Ops.UPPER, 5, utf8("ﬁne")));
        processor(Kernels.floats(), 1 << 20).process(b);
        assertThat(b.segments).as("one write for the whole batch").isEqualTo(1);
        assertThat(written(b)).isEqualTo(concat(
                answer(Kinds.PING, 0, 1, utf8("echo")),
                answer(Kinds.TEXT, Ops.UPPER, 2, utf8("STRASSE")),
                answer(Kinds.FLOATS, Ops.SCALE, 3, floats(3, 5)),
                answer(Kinds.TEXT, Ops.LOWER, 4, utf8("mixed")),
                answer(Kinds.TEXT, Ops.UPPER, 5, utf8("FINE"))));
    }

    @Test
    void statsAndCountAreEncodedFromTheirValuesAgainstExactReferences() {
        float[] x = {1.5f, -2f, 1e7f, 3.25f, 0f, 7f, -1e-3f};
        Batch b = batchOf(frame(Kinds.FLOATS, Ops.STATS, 9, floats(x)),
                frame(Kinds.TEXT, Ops.COUNT, 10, utf8("one two\nthree ΟΔΟΣ\n")));
        processor(Kernels.floats(), 1 << 20).process(b);
        ByteBuf out = Unpooled.wrappedBuffer(written(b));
        ReferenceStats ref = ReferenceStats.of(x);
        assertThat(out.readableBytes()).isEqualTo(64 + 48);
        assertThat(FrameDescriptor.kind(out, 0)).isEqualTo(Kinds.FLOATS | FrameDescriptor.RESPONSE_BIT);
        assertThat(FrameDescriptor.id(out, 0)).isEqualTo(9);
        assertThat(out.getLongLE(16)).isEqualTo(x.length);
        assertThat(out.getDoubleLE(24)).isCloseTo(ref.exactSum.doubleValue(), org.assertj.core.data.Offset.offset(1e-9 * ref.sumAbs));
        assertThat(out.getDoubleLE(32)).isEqualTo(ref.min);
        assertThat(out.getDoubleLE(40)).isEqualTo(ref.max);
        assertThat(out.getDoubleLE(48)).isCloseTo(ref.exactMean, org.assertj.core.data.Offset.offset(1e-9 * Math.abs(ref.exactMean)));
        assertThat(out.getDoubleLE(56)).isCloseTo(ref.exactVariance,
                org.assertj.core.data.Offset.offset(1e-9 * ref.exactVariance + 1e-15 * ref.exactMean * ref.exactMean));
        int c = 64;
        assertThat(FrameDescriptor.kind(out, c)).isEqualTo(Kinds.TEXT | FrameDescriptor.RESPONSE_BIT);
        assertThat(out.getLongLE(c + 16)).as("bytes").isEqualTo(utf8("one two\nthree ΟΔΟΣ\n").length);
        assertThat(out.getLongLE(c + 24)).as("code points").isEqualTo("one two\nthree ΟΔΟΣ\n".length());
        assertThat(out.getLongLE(c + 32)).as("words").isEqualTo(4);
        assertThat(out.getLongLE(c + 40)).as("lines").isEqualTo(2);
    }

    @Test
    void largeAnswersStayInTheRequestsMemoryAndLeaveAsSlicesOfIt() {
        byte[] big = new byte[5000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        Batch b = batchOf(frame(Kinds.PING, 0, 1, utf8("small")), frame(Kinds.PING, 0, 2, big),
                frame(Kinds.PING, 0, 3, utf8("between")), frame(Kinds.TEXT, Ops.UPPER, 4, big),
                frame(Kinds.PING, 0, 5, utf8("small again")));
        long requestAddress = b.source.memoryAddress();
        processor(Kernels.floats(), 1 << 20).process(b);
        List<Long> addresses = new ArrayList<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        b.writeResponses((answer, charged) -> {
            addresses.add(answer.memoryAddress());
            out.writeBytes(ByteBufUtil.getBytes(answer));
            answer.release();
        });
        b.release();
        b.recycle();
        assertThat(addresses).as("small, large, small, large, small").hasSize(5);
        int first = 16 + 5;
        assertThat(addresses.get(1)).as("the PING's answer is the request itself").isEqualTo(requestAddress + first);
        assertThat(addresses.get(3)).as("the upper-cased text was written over the request")
                .isEqualTo(requestAddress + first + 16 + big.length + 16 + 7);
        assertThat(out.toByteArray()).isEqualTo(concat(answer(Kinds.PING, 0, 1, utf8("small")),
                answer(Kinds.PING, 0, 2, big), answer(Kinds.PING, 0, 3, utf8("between")),
                answer(Kinds.TEXT, Ops.UPPER, 4, utf8(new String(big, java.nio.charset.StandardCharsets.UTF_8)
                        .toUpperCase(java.util.Locale.ROOT))),
                answer(Kinds.PING, 0, 5, utf8("small again"))));
    }

    @Test
    void workersUseOnlyTheFramesMemoryNeverItsBuffer() {
        // With the buffer hidden, any use of it on the worker would throw and turn into INTERNAL.
        Batch b = batchOf(frame(Kinds.FLOATS, Ops.STATS, 1, floats(1, 2, 3)),
                frame(Kinds.FLOATS, Ops.SCALE, 2, scalePayload(2, 1, 1, 2)),
                frame(Kinds.TEXT, Ops.UPPER, 3, utf8("in place")),
                frame(Kinds.TEXT, Ops.UPPER, 4, utf8("ﬁne")),
                frame(Kinds.TEXT, Ops.COUNT, 6, utf8("two words")),
                frame(Kinds.PING, 0, 7, new byte[3000]));
        ByteBuf source = b.source;
        b.source = null;
        processor(Kernels.floats(), 1 << 20).process(b);
        b.source = source;
        assertThat(b.errors).as("error answers by code").containsOnly(0);
        written(b);
    }

    @Test
    void aKernelThatThrowsBecomesAnInternalErrorAnswerAndTheRestOfTheBatchIsAnswered() {
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
        Batch b = batchOf(frame(Kinds.FLOATS, Ops.STATS, 5, floats(1, 2)), frame(Kinds.PING, 0, 6, utf8("after")));
        ByteBuf request = b.source;
        processor(broken, 1 << 20).process(b);
        ByteBuf out = Unpooled.wrappedBuffer(written(b));
        assertThat(FrameDescriptor.kind(out, 0)).isEqualTo(0xFF);
        assertThat(FrameDescriptor.id(out, 0)).isEqualTo(5);
        assertThat(out.getUnsignedShortLE(16)).isEqualTo(ErrorCode.INTERNAL.code());
        int next = 4 + (int) FrameDescriptor.length(out, 0);
        assertThat(FrameDescriptor.id(out, next)).isEqualTo(6);
        assertThat(request.refCnt()).as("the request is released with the batch").isZero();
    }

    @Test
    void errorAnswersThatOutgrowTheOutputChunkTakeSpareChunksInOrder() {
        // Error answers are not in the I/O thread's bound: a batch of them takes spare chunks.
        List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            frames.add(frame(9, 1, i, new byte[0]));
        }
        Batch b = batchOf(frames.toArray(new byte[0][]));
        processor(Kernels.floats(), 1 << 20).process(b);
        ByteBuf out = Unpooled.wrappedBuffer(written(b));
        int at = 0;
        for (int i = 0; i < 200; i++) {
            assertThat(FrameDescriptor.kind(out, at)).isEqualTo(0xFF);
            assertThat(FrameDescriptor.id(out, at)).isEqualTo(i);
            assertThat(out.getUnsignedShortLE(at + 16)).isEqualTo(ErrorCode.UNKNOWN_KIND.code());
            at += 4 + (int) FrameDescriptor.length(out, at);
        }
        assertThat(at).isEqualTo(out.readableBytes());
    }

    @Test
    void transformsReportTheirPath() {
        Batch b = batchOf(frame(Kinds.TEXT, Ops.LOWER, 1, utf8("already lower")),
                frame(Kinds.TEXT, Ops.UPPER, 2, utf8("make me upper")),
                frame(Kinds.TEXT, Ops.UPPER, 5, utf8("straße")),
                frame(Kinds.TEXT, Ops.UPPER, 3, utf8("ﬁne")),
                frame(Kinds.FLOATS, Ops.SCALE, 4, scalePayload(2, 0, 1, 2)));
        processor(Kernels.floats(), 1 << 20).process(b);
        assertThat(b.paths[TransformPath.BORROWED.ordinal()]).isEqualTo(1);
        assertThat(b.paths[TransformPath.IN_PLACE.ordinal()]).as("same-length case maps and SCALE").isEqualTo(3);
        assertThat(b.paths[TransformPath.COPIED.ordinal()]).as("ﬁne -> FINE changes length").isEqualTo(1);
        written(b);
    }

    @Test
    void largeFloatFramesAreSplitAcrossThePoolAndMatchTheExactResult() {
        int n = 100_003;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.sin(i) * 1000 + 5e5f;
        }
        java.util.concurrent.atomic.AtomicInteger pieces = new java.util.concurrent.atomic.AtomicInteger();
        FloatKernels counting = new FloatKernels() {
            @Override
            public void stats(MemorySegment segment, long offset, int count, StatsAccumulator acc) {
                pieces.incrementAndGet();
                Kernels.floats().stats(segment, offset, count, acc);
            }

            @Override
            public void scale(MemorySegment segment, long offset, int count, float a, float b) {
                Kernels.floats().scale(segment, offset, count, a, b);
            }
        };
        Batch b = batchOf(frame(Kinds.FLOATS, Ops.STATS, 1, floats(x)));
        processor(counting, 1024).process(b); // threshold 1024: about 128 pieces
        ByteBuf out = Unpooled.wrappedBuffer(written(b));
        ReferenceStats ref = ReferenceStats.of(x);
        assertThat(out.getLongLE(16)).isEqualTo(n);
        assertThat(Math.abs(out.getDoubleLE(24) - ref.exactSum.doubleValue())).isLessThanOrEqualTo(1e-9 * ref.sumAbs);
        assertThat(out.getDoubleLE(32)).isEqualTo(ref.min);
        assertThat(out.getDoubleLE(40)).isEqualTo(ref.max);
        assertThat(Math.abs(out.getDoubleLE(56) - ref.exactVariance))
                .isLessThanOrEqualTo(1e-9 * ref.exactVariance + 1e-15 * ref.exactMean * ref.exactMean);
        assertThat(pieces.get()).as("kernel calls: the frame was split").isGreaterThan(16);
    }
}
