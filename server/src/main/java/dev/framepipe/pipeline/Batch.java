package dev.framepipe.pipeline;

import dev.framepipe.codec.MemoryViews;
import dev.framepipe.codec.OpType;
import io.netty.buffer.ByteBuf;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The frames one connection decoded in one pass (what one socket read brought in), travelling
 * as ONE element: through the request ring to a worker, which runs every frame and writes their
 * answers, and back through the completion ring to the I/O thread, which writes them with one
 * write (and one flush per connection and round). Instances are pooled per lane
 * ({@link BatchPool}): taken and given back on the lane's I/O thread.
 *
 * <h2>Who writes what</h2>
 * <ul>
 *   <li>The I/O thread fills the request side ({@link #add}, {@link #seal}) before the ring offer,
 *       and reads the answer side after the ring poll; the rings' release/acquire hand-offs
 *       publish the plain fields from one thread to the other.</li>
 *   <li>The worker reads the request side and writes the answer side ({@link BatchProcessor}).
 *       It never touches a {@code ByteBuf}'s reference count or indices: it sees the frames as
 *       {@link #memory} at {@link #base} and the output chunks as memory too. Only buffers it
 *       allocates itself (rare: answers that outgrow the output chunk) are its own.</li>
 * </ul>
 *
 * <h2>Buffer ownership</h2>
 * The batch holds one reference to {@link #source} (the buffer the frames arrived in) from
 * {@link #add}'s first frame until the I/O thread has written the answers ({@link #release});
 * output chunk 0 ({@link #chunk(int)}) is allocated by the I/O thread at {@link #seal} and owned
 * by the batch until written; chunks from 1 are allocated by the worker and owned the same way.
 * Writing an answer segment passes a retained slice (or the chunk itself) to the channel.
 */
public final class Batch {

    /** Most frames in one batch; a pass with more is split into several batches. */
    public static final int MAX_FRAMES = 256;

    /**
     * Flag in {@link #type}: the frame's bytes are already its answer, written out as they are (a
     * STATS frame folded while it arrived, {@link #addAnswer}).
     */
    static final byte ANSWERED = (byte) 0x80;
    /** Mask of the {@link OpType} ordinal in {@link #type}. */
    static final int TYPE_MASK = 0x7F;

    /** Kinds of answer segment ({@link #segmentKind}). */
    static final byte SEGMENT_CHUNK = 0;
    static final byte SEGMENT_SOURCE = 1;

    private final BatchPool home;

    // ---- request side: written by the I/O thread before submit ----

    /** Who gets the answers: the connection, on the I/O thread. */
    BatchOwner owner;
    /** The buffer the frames are in; the batch holds one reference. */
    ByteBuf source;
    /** The frames' bytes: byte {@code i} of {@link #source} is at {@code base + i} of {@code memory}. */
    MemorySegment memory;
    long base;
    int count;
    /** Index in {@link #source} of each frame's first byte (its length field). */
    int[] frameIndex = new int[16];
    /** Each frame's size in bytes, length field included. */
    int[] frameLength = new int[16];
    /** Each frame's {@link OpType} ordinal, with {@link #ANSWERED} set for a frame that is its own answer. */
    byte[] type = new byte[16];
    /** Room the small answers may need in chunk 0 ({@link BatchProcessor#answerBound}). */
    int outBound;
    /** System.nanoTime() of the decoding pass. */
    long startNanos;
    /** Budget bytes charged for {@link #source} (a large frame assembled in a buffer of its own). */
    long charged;

    // ---- answer side: written by the worker ----

    /** Output chunks: [0] from the I/O thread (may be null when nothing small is answered). */
    ByteBuf[] chunks = new ByteBuf[2];
    int chunkCount;
    /** Bytes written into each chunk. */
    int[] chunkUsed = new int[2];
    /** The answers in order, as segments: a range of a chunk, or a range of the source. */
    int segments;
    byte[] segmentKind = new byte[16];
    int[] segmentChunk = new int[16];
    int[] segmentStart = new int[16];
    int[] segmentLength = new int[16];
    /** Outcome tallies for the metrics (OpType ordinal, error code ordinal, transform path ordinal). */
    final int[] ok = new int[OpType.values().length];
    final int[] failed = new int[OpType.values().length];
    final int[] errors = new int[dev.framepipe.protocol.ErrorCode.values().length];
    final int[] paths = new int[TransformPath.values().length];
    /** Answer bytes, for the sent-bytes counter. */
    long answerBytes;

    Batch(BatchPool home) {
        this.home = home;
    }

    public int count() {
        return count;
    }

    public BatchOwner owner() {
        return owner;
    }

    public long startNanos() {
        return startNanos;
    }

    /** Bytes charged to the direct-memory budget for this batch's source (0 for most batches). */
    public long charged() {
        return charged;
    }

    /** The buffer this batch's frames are in (null before the first frame). I/O thread. */
    public ByteBuf sourceBuffer() {
        return source;
    }

    /** The source's reservation in the direct-memory budget passes to this batch. I/O thread. */
    public void charge(long bytes) {
        charged = bytes;
    }

    /** Whether no more frames fit. I/O thread. */
    public boolean full() {
        return count == MAX_FRAMES;
    }

    /**
     * Adds a frame of {@code buf} (the first frame retains {@code buf} for the batch; every later
     * one must be in the same buffer). I/O thread.
     */
    public void add(ByteBuf buf, int index, int length, OpType opType, int answerBound) {
        add(buf, index, length, (byte) opType.ordinal(), answerBound);
    }

    /**
     * Adds an answer computed already, {@code length} bytes of {@code buf} from {@code index},
     * that stands for a request of type {@code opType} (counted as one). Same rules as
     * {@link #add}. I/O thread.
     */
    public void addAnswer(ByteBuf buf, int index, int length, OpType opType) {
        add(buf, index, length, (byte) (opType.ordinal() | ANSWERED), length);
    }

    private void add(ByteBuf buf, int index, int length, byte typeAndFlags, int answerBound) {
        if (count == 0) {
            source = buf.retain();
            memory = MemoryViews.segment(buf, 0, buf.capacity());
            base = MemoryViews.offset(buf, 0);
        } else if (buf != source) {
            throw new IllegalStateException("a batch holds frames of one buffer");
        }
        if (count == frameIndex.length) {
            int n = Math.min(MAX_FRAMES, count * 2);
            frameIndex = Arrays.copyOf(frameIndex, n);
            frameLength = Arrays.copyOf(frameLength, n);
            type = Arrays.copyOf(type, n);
        }
        frameIndex[count] = index;
        frameLength[count] = length;
        type[count] = typeAndFlags;
        count++;
        outBound += answerBound;
    }

    /** Ready for the worker: allocates output chunk 0 for the small answers. I/O thread. */
    public void seal(io.netty.buffer.ByteBufAllocator alloc, long nowNanos) {
        startNanos = nowNanos;
        if (outBound > 0) {
            chunks[0] = alloc.directBuffer(outBound, outBound);
        }
        chunkUsed[0] = 0;
        chunkCount = 1;
    }

    /** The frame type of frame {@code i}. */
    OpType type(int i) {
        return OpType.values()[type[i] & TYPE_MASK];
    }

    ByteBuf chunk(int i) {
        return chunks[i];
    }

    /** Appends (or extends) an answer segment. Worker. */
    void segment(byte kind, int chunk, int start, int length) {
        int last = segments - 1;
        if (last >= 0 && segmentKind[last] == kind && segmentChunk[last] == chunk
                && segmentStart[last] + segmentLength[last] == start) {
            segmentLength[last] += length; // contiguous with the previous answer: one write
            return;
        }
        if (segments == segmentKind.length) {
            int n = segments * 2;
            segmentKind = Arrays.copyOf(segmentKind, n);
            segmentChunk = Arrays.copyOf(segmentChunk, n);
            segmentStart = Arrays.copyOf(segmentStart, n);
            segmentLength = Arrays.copyOf(segmentLength, n);
        }
        segmentKind[segments] = kind;
        segmentChunk[segments] = chunk;
        segmentStart[segments] = start;
        segmentLength[segments] = length;
        segments++;
    }

    /** Adds a chunk the worker allocated; returns its index. Worker. */
    int addChunk(ByteBuf chunk) {
        if (chunkCount == chunks.length) {
            chunks = Arrays.copyOf(chunks, chunkCount * 2);
            chunkUsed = Arrays.copyOf(chunkUsed, chunkCount * 2);
        }
        chunks[chunkCount] = chunk;
        chunkUsed[chunkCount] = 0;
        return chunkCount++;
    }

    /**
     * Hands the answers to {@code out} in order (each as a buffer the receiver owns) and gives
     * up the batch's own references. I/O thread, after the worker is done with the batch.
     */
    public void writeResponses(ResponseSink out) {
        for (int s = 0; s < segments; s++) {
            int start = segmentStart[s];
            int length = segmentLength[s];
            if (segmentKind[s] == SEGMENT_SOURCE) {
                out.answer(source.retainedSlice(start, length), charged > 0);
            } else {
                ByteBuf chunk = chunks[segmentChunk[s]];
                if (start == 0 && length == chunkUsed[segmentChunk[s]] && lastUseOf(segmentChunk[s], s)) {
                    chunks[segmentChunk[s]] = null; // the whole chunk, once: it goes as it is
                    out.answer(chunk.setIndex(0, length), false);
                } else {
                    out.answer(chunk.retainedSlice(start, length), false);
                }
            }
        }
    }

    private boolean lastUseOf(int chunk, int segment) {
        for (int s = segment + 1; s < segments; s++) {
            if (segmentKind[s] == SEGMENT_CHUNK && segmentChunk[s] == chunk) {
                return false;
            }
        }
        return true;
    }

    /** Releases whatever buffers the batch still holds. I/O thread. */
    public void release() {
        if (source != null) {
            source.release();
            source = null;
        }
        for (int i = 0; i < chunkCount; i++) {
            if (chunks[i] != null) {
                chunks[i].release();
                chunks[i] = null;
            }
        }
        chunkCount = 0;
    }

    /** Returns the batch to its pool; it must hold no buffer any more. I/O thread. */
    public void recycle() {
        owner = null;
        memory = null;
        count = 0;
        outBound = 0;
        charged = 0;
        segments = 0;
        answerBytes = 0;
        Arrays.fill(ok, 0);
        Arrays.fill(failed, 0);
        Arrays.fill(errors, 0);
        Arrays.fill(paths, 0);
        home.giveBack(this);
    }

    /** Receives a batch's answers in order, each a buffer it then owns. */
    public interface ResponseSink {
        /**
         * @param answer bytes to write, owned by the receiver from now on
         * @param inChargedSource whether they are in a source charged to the budget (the charge
         *        ends when they have left)
         */
        void answer(ByteBuf answer, boolean inChargedSource);
    }
}
