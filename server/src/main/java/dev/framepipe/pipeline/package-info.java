/**
 * The path of a batch of frames from the I/O thread that read it to a worker and back:
 * {@link dev.framepipe.pipeline.Lane} (the wiring: two rings per I/O thread),
 * {@link dev.framepipe.pipeline.Batch} (what travels), {@link dev.framepipe.pipeline.BatchProcessor}
 * (what a worker, or for a small batch the I/O thread itself, does with it) and {@link dev.framepipe.pipeline.BatchOwner} (the connection
 * that gets the answers; {@code dev.framepipe.server.ResponseWriter} in the service).
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li><b>I/O threads</b> ({@code framepipe-io-*}, Netty event loops; {@code io-threads}, by
 *       default one per CPU). Each serves its connections and owns one {@code Lane}: it is the
 *       producer of the lane's request ring and the consumer of its completion ring.</li>
 *   <li><b>Workers</b> ({@code framepipe-worker-*}, one {@link java.util.concurrent.ForkJoinPool}
 *       shared by all lanes). A lane's request ring is drained by one drain task at a time on
 *       whichever worker runs it; that drain is the producer of the lane's completion ring. A
 *       large SCALE (or a large STATS that arrived in one read) is split across the same pool
 *       ({@code kernel.ParallelFloatKernels}).</li>
 * </ul>
 * Both rings are {@link dev.framepipe.ring.SpscRing}s drained by a
 * {@link dev.framepipe.ring.RingConsumer}: the request ring's on the pool (parking its thread up
 * to {@code Lane.IDLE_PARK_NANOS} between bursts when there are more workers than lanes), the
 * completion ring's on the I/O thread's event loop (never parking). One wake-up handshake,
 * proven by jcstress, serves both directions.
 *
 * <h2>The route of a batch</h2>
 * <pre>
 *  I/O thread                        worker (one drain per lane at a time)       I/O thread
 *  socket read -> FrameDecoder
 *    -> Admission.onFrame: Batch.add
 *    -> endOfPass: Batch.seal,
 *       Lane.submit --request ring--> BatchProcessor.process(batch)
 *                                     --completion ring-->                     Lane's write-back:
 *                                                                              ResponseWriter.answered
 *                                                                              (ctx.write per segment),
 *                                                                              Batch.release, recycle;
 *                                                                              endOfRound: one flush
 * </pre>
 * <ol>
 *   <li><b>In.</b> The socket reads into a pooled direct buffer (a frame too large for one read
 *       is assembled in a buffer of its own size, its bytes reserved first from the server's
 *       direct-memory budget; a STATS frame too large for one read is not assembled but folded
 *       read by read on the I/O thread, and only its answer enters a batch,
 *       {@link dev.framepipe.pipeline.Batch#addAnswer}). {@code codec.FrameDecoder} hands each complete frame in place to
 *       {@code server.Admission} (buffer, index, length, and the pass's {@code nanoTime}).
 *       Admission adds it to the batch of this decoding pass ({@link dev.framepipe.pipeline.Batch#add}:
 *       a header read and array stores), starting a new batch when the buffer changes or
 *       {@link dev.framepipe.pipeline.Batch#MAX_FRAMES} is reached.</li>
 *   <li><b>Hand-off, or none.</b> At the end of the pass Admission seals the batch (output chunk
 *       0 is allocated for its small answers) and hands it to {@link dev.framepipe.pipeline.Lane#submit}.
 *       A batch of at most {@code inline-max-bytes} (64 KiB) request bytes, while none of the
 *       lane's batches is with the workers, stays on the I/O thread: at the end of the loop round
 *       the lane runs it through a {@code BatchProcessor} of the I/O thread's own and hands it
 *       straight to the write-back ("Out" below), in submission order. For small frames that is
 *       the steady state: no ring, no wake-up, no second core touching the frame (measured in
 *       docs/performance.md). Any other batch is offered to the request ring without waking
 *       anyone; a batch behind one at the workers goes there too, so no answer overtakes
 *       another. The first submit of a loop round queues one
 *       task on the event loop, which runs after the round's reads and wakes the drain once for
 *       every connection's batches; a batch of at least {@code Lane.WAKE_AT_ONCE_BYTES} wakes it
 *       at once (unless a batch answered inline this round is ahead of it).</li>
 *   <li><b>Work.</b> The drain hands each batch to {@code BatchProcessor.process}, which runs every
 *       frame's kernel and writes the answers in order: answers of up to
 *       {@link dev.framepipe.pipeline.BatchProcessor#COPY_LIMIT} bytes back to back into the
 *       output chunk (STATS and COUNT values encoded there by {@code codec.Responses}), larger ones
 *       left in the request's own memory (PING, SCALE and case mapping written in place) and
 *       recorded as a segment of it. It then offers the batch to the completion ring.</li>
 *   <li><b>Back.</b> The worker wakes the I/O thread once per drain batch (up to 64 request
 *       batches), so one wake-up and one flush carry many batches' answers. Once answers made
 *       have waited {@code Lane.ANSWER_WAIT_NANOS} (100 µs), the next request batch to finish
 *       wakes it instead: an answer made waits for the rest of the worker's drain batch at most
 *       {@code ANSWER_WAIT_NANOS} plus one batch.</li>
 *   <li><b>Out.</b> On the I/O thread the completion ring's drain gives each batch to its owner:
 *       {@code ResponseWriter.answered} writes its answer segments without flushing
 *       ({@link dev.framepipe.pipeline.Batch#writeResponses}); the lane then releases the batch's
 *       buffers, tells the owner ({@code buffersReleased}: a large frame's budget goes back now)
 *       and returns the batch to the lane's pool. After the drain batch, each connection that
 *       got answers is called once ({@code endOfRound}): one flush, reading resumed once its
 *       in-flight count has fallen to half the limit, the close check. Connections paused
 *       because the lane was full resume once a quarter of its capacity is free.</li>
 * </ol>
 *
 * <h2>Who owns which buffer when</h2>
 * <ul>
 *   <li><b>The read buffer</b> belongs to the decoder. The batch holds one reference to it
 *       ({@code retain} at its first frame), taken on the I/O thread and released there by
 *       {@code Batch.release} after the answers are written. Workers never touch a
 *       {@code ByteBuf}'s reference count or indices: they see the frames as a
 *       {@link java.lang.foreign.MemorySegment} and write answers through memory too.</li>
 *   <li><b>Output chunk 0</b> is allocated by the I/O thread at {@code seal}, written by the
 *       worker, and owned by the batch until written; further chunks (an answer that outgrows
 *       chunk 0, rare) are allocated by the worker and owned the same way.</li>
 *   <li><b>Answers</b> pass to the channel as buffers it then owns: a chunk used whole and once
 *       goes as it is; otherwise a retained slice of the chunk or of the read buffer. A large
 *       frame's budget reservation travels with its batch and is given back when its answer has
 *       left the process, or when the batch's buffers are released if no answer lies in them.</li>
 *   <li><b>The {@code Batch} object</b> is pooled per lane; taken and given back on the I/O thread
 *       only. Between {@code submit} and the completion ring's poll it belongs to the worker.</li>
 * </ul>
 *
 * <h2>Memory ordering</h2>
 * {@code Batch}'s fields are plain. The I/O thread writes the request side before the request
 * ring's release store and the worker reads it after its acquire load; the worker writes the
 * answer side before the completion ring's release store and the I/O thread reads it after its
 * acquire load. A lane's {@code inFlight} and {@code atWorkers}, its inline and round lists and
 * its {@code BatchPool} are the I/O thread's alone, and so is the inline {@code BatchProcessor}; {@code BatchProcessor}'s scratch state and the worker's
 * {@code waitingSince} belong to the drain, whose runs happen-before each other.
 * {@link dev.framepipe.pipeline.LaneCounters} are written by the I/O thread alone (plain
 * arithmetic, opaque stores) and read by scrapes with opaque loads. Since the I/O thread submits
 * only while fewer than the lane's capacity of batches are unanswered, neither ring is ever full.
 *
 * <h2>Stopping</h2>
 * The workers stop before the I/O threads, so batches in flight come back while an event loop
 * can still write or release them; {@link dev.framepipe.pipeline.Lane#releaseLeftovers} frees
 * any left in either ring once both have terminated.
 */
package dev.framepipe.pipeline;
