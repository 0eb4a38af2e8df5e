package dev.framepipe.pipeline;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.codec.OpType;
import dev.framepipe.codec.Responses;
import dev.framepipe.kernel.Kernels;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One socket read's worth of small frames through the batch path the I/O thread runs for it
 * (docs/performance.md, "Where the time per frame goes"), without the socket: the frames added to
 * a batch in place, the batch sealed, every frame run and answered into the output chunk, the
 * answers handed out in order and the batch released and recycled. Time per frame; the profile's
 * share of {@code BatchProcessor} and the kernels in a live server is this path.
 *
 * <pre>bin/framepipe bench 'BatchPathBench' -p mix=stats64,ping -f 1 -wi 3 -i 5</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {
        // as the service runs (cli.Main's defaults): Netty's per-access checks and leak detection off
        "-Dio.netty.buffer.checkAccessible=false", "-Dio.netty.buffer.checkBounds=false",
        "-Dio.netty.leakDetection.level=disabled"})
public class BatchPathBench {

    /** Frames per read: a blocking client's window of 128 in flight arrives in about one read. */
    static final int FRAMES = 128;

    /**
     * stats64: STATS of 64 floats; ping: empty PING (answered in place: setting the response bit
     * again on the next call changes nothing).
     */
    @Param({"stats64", "ping"})
    String mix;

    private final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final ForkJoinPool pool = new ForkJoinPool(1);
    private final BatchPool batches = new BatchPool(4);
    private final BatchOwner nobody = new BatchOwner() {
        @Override
        protected void answered(Batch batch, long nowNanos) {
        }

        @Override
        protected void endOfRound() {
        }
    };
    private BatchProcessor processor;
    private ByteBuf read;
    private int[] index;
    private int[] length;
    private OpType[] types;

    @Setup(Level.Trial)
    public void setUp() {
        processor = new BatchProcessor(Kernels.floats(), Kernels.text(), alloc, pool, 1 << 20);
        int kind;
        int op;
        int payload;
        switch (mix) {
            case "stats64" -> { kind = Kinds.FLOATS; op = Ops.STATS; payload = 64 * Float.BYTES; }
            case "ping" -> { kind = Kinds.PING; op = 0; payload = 0; }
            default -> throw new IllegalArgumentException(mix);
        }
        int frame = HEADER_LENGTH + payload;
        read = alloc.directBuffer(FRAMES * frame);
        index = new int[FRAMES];
        length = new int[FRAMES];
        types = new OpType[FRAMES];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < FRAMES; i++) {
            index[i] = read.writerIndex();
            length[i] = frame;
            types[i] = OpType.of(kind, op);
            read.writeIntLE(frame - LENGTH_FIELD_SIZE);
            read.writeByte(VERSION);
            read.writeByte(kind);
            read.writeShortLE(op);
            read.writeLongLE(i);
            for (int j = 0; j < payload; j += Float.BYTES) {
                read.writeFloatLE((float) (1000 + r.nextGaussian()));
            }
        }
        // measure answers, not error frames: one pass must answer every frame with its own kind
        int answerSize = "stats64".equals(mix) ? Responses.STATS_SIZE : HEADER_LENGTH;
        long[] bytes = {0};
        run(answer -> {
            for (int at = answer.readerIndex(); at < answer.writerIndex(); at += answerSize) {
                if (kind(answer, at) != (kind | RESPONSE_BIT)) {
                    throw new IllegalStateException("answer kind " + kind(answer, at) + " at " + at);
                }
            }
            bytes[0] += answer.readableBytes();
        });
        if (bytes[0] != (long) FRAMES * answerSize) {
            throw new IllegalStateException(bytes[0] + " answer bytes for " + FRAMES + " frames of " + mix);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        read.release();
        pool.shutdown();
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public void oneRead(Blackhole bh) {
        run(answer -> bh.consume(answer.readableBytes()));
    }

    private void run(Consumer<ByteBuf> eachAnswer) {
        Batch b = batches.acquire();
        b.owner = nobody;
        for (int i = 0; i < FRAMES; i++) {
            b.add(read, index[i], length[i], types[i], BatchProcessor.answerBound(types[i], length[i]));
        }
        b.seal(alloc, 0);
        processor.process(b);
        b.writeResponses((answer, charged) -> {
            eachAnswer.accept(answer);
            answer.release();
        });
        b.release();
        b.recycle();
    }
}
