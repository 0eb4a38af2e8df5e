package dev.framepipe.pipeline;

import dev.framepipe.ring.RingConsumer;
import dev.framepipe.ring.SpscRing;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The path of batches between one I/O thread and the workers, as wiring: a request ring whose
 * consumer runs on the ForkJoinPool ({@link BatchProcessor} answers each batch), and a
 * completion ring whose consumer runs on the I/O thread (each batch goes back to its connection,
 * which writes its answers). Both rings use {@link RingConsumer}'s one wake-up handshake.
 * A small batch, while none of the lane's batches is with the workers, skips both rings: the I/O
 * thread answers it itself at the end of the loop round ({@link #submit}).
 *
 * <pre>
 *   I/O thread                         worker (one drain at a time)            I/O thread
 *   submit(batch) --request ring-->    process(batch) --completion ring-->     owner.answered(batch)
 *   (one offer per pass,               (one offer per batch, one wake-up        then owner.endOfRound()
 *    one wake-up per loop round)        per drain batch)                        (flush, resume, close)
 * </pre>
 *
 * <p>Bounds: the I/O thread submits a batch only while fewer than {@link #capacity()} batches of
 * this lane are unanswered ({@link #inFlight}, touched by the I/O thread alone), so neither ring
 * can ever be full; a connection that finds the lane full stops reading until batches come back
 * ({@link #waitForRoom}).
 */
public final class Lane {

    private static final System.Logger LOG = System.getLogger(Lane.class.getName());

    /**
     * Batches of at least this many bytes wake the workers at once instead of at the end of the
     * loop round: one round may read megabytes from other connections, and with few large frames
     * in flight per connection that wait is the throughput (docs/performance.md, "Design choices").
     */
    static final int WAKE_AT_ONCE_BYTES = 64 * 1024;
    /**
     * How long the drain, on an empty request ring, keeps its pool thread parked for the next
     * batches before giving it back: longer than the gap between event-loop rounds under load, so
     * a busy lane's wake-up is one unpark, without the pool's spinning and re-submission
     * (docs/performance.md, "Design choices").
     */
    static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** How long answers a worker has made may wait for the rest of its drain batch ({@link Work}). */
    static final long ANSWER_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

    private final int index;
    private final EventLoop loop;
    /** Batches of at most this many request bytes may be answered on the I/O thread (see {@link #submit}). */
    private final long inlineMaxBytes;
    /** Answers batches on the I/O thread: a processor of its own (a processor's scratch state is one thread's). */
    private final Consumer<Batch> inlineProcess;
    private final RingConsumer<Batch> requests;
    private final RingConsumer<Batch> completions;
    private final int capacity;
    /** Resume reading paused connections once this many batch slots are free again. */
    private final int resumeThreshold;
    private final Runnable publish = this::publish;
    private final LaneCounters counters = new LaneCounters();
    private final BatchPool batches;

    // I/O thread only.
    private int inFlight;
    /** Batches handed to the workers and not yet back. */
    private int atWorkers;
    /** Batches offered to the request ring since the workers were last woken. */
    private boolean offeredSinceWake;
    /** Batches to answer on the I/O thread at the end of this loop round, in submission order. */
    private ArrayList<Batch> inline = new ArrayList<>();
    /** The list {@link #answerInline} works through; {@code inline} takes batches submitted meanwhile. */
    private ArrayList<Batch> inlineAnswering = new ArrayList<>();
    private final WriteBack writeBack = new WriteBack();
    /** A {@link #publish} task is queued on the I/O thread. */
    private boolean publishScheduled;
    private final ArrayList<BatchOwner> roundOwners = new ArrayList<>();
    private final ArrayList<Runnable> waitingForRoom = new ArrayList<>();

    /**
     * How long a lane's drain parks between bursts on a pool of {@code workers} threads shared
     * by {@code lanes} lanes: {@link #IDLE_PARK_NANOS} when every lane's drain can hold a pool
     * thread and at least one is left for other work (large frames' forked halves, a drain being
     * submitted), else 0. The pool does not know a parked drain is idle, so with fewer spare
     * threads one lane's parked drain could keep another lane's drain waiting in the queue.
     */
    public static long idleParkNanos(int workers, int lanes) {
        return workers > lanes ? IDLE_PARK_NANOS : 0;
    }

    /**
     * @param capacity batches in flight at most (power of two)
     * @param idleParkNanos how long the drain keeps its pool thread parked on an empty request
     *        ring ({@link #idleParkNanos(int, int)}); 0: it gives the thread back at once
     */
    public Lane(int index, EventLoop loop, ForkJoinPool pool, BatchProcessor processor, int capacity,
                long idleParkNanos) {
        this(index, loop, pool, processor::process, capacity, idleParkNanos, null, 0);
    }

    /**
     * @param inlineProcessor answers small batches on the I/O thread (a processor other than
     *        {@code processor}); null: every batch goes to the workers
     * @param inlineMaxBytes largest batch, in request bytes, that {@code inlineProcessor} answers
     */
    public Lane(int index, EventLoop loop, ForkJoinPool pool, BatchProcessor processor, int capacity,
                long idleParkNanos, BatchProcessor inlineProcessor, long inlineMaxBytes) {
        this(index, loop, pool, processor::process, capacity, idleParkNanos,
                inlineProcessor == null ? null : inlineProcessor::process, inlineMaxBytes);
    }

    /** With the workers' step (and the I/O thread's) given as functions (tests slow them down or block them). */
    Lane(int index, EventLoop loop, ForkJoinPool pool, Consumer<Batch> process, int capacity, long idleParkNanos,
         Consumer<Batch> inlineProcess, long inlineMaxBytes) {
        this.index = index;
        this.loop = loop;
        this.capacity = capacity;
        this.resumeThreshold = Math.max(1, capacity / 4);
        this.inlineProcess = inlineProcess;
        this.inlineMaxBytes = inlineProcess == null ? -1 : inlineMaxBytes;
        this.completions = new RingConsumer<>(new SpscRing<>(capacity), loop, writeBack, capacity);
        this.requests = new RingConsumer<>(new SpscRing<>(capacity), pool, new Work(process, completions),
                Math.min(capacity, 64), idleParkNanos);
        this.batches = new BatchPool(capacity);
    }

    public int index() {
        return index;
    }

    public EventLoop eventLoop() {
        return loop;
    }

    public LaneCounters counters() {
        return counters;
    }

    public int capacity() {
        return capacity;
    }

    /** How long the drain parks between bursts; 0 if it does not. */
    public long idleParkNanos() {
        return requests.idleParkNanos();
    }

    /** Batches waiting in the request ring (approximate; any thread). */
    public int occupancy() {
        return requests.ring().size();
    }

    /** A cleared batch for {@code owner}. I/O thread. */
    public Batch newBatch(BatchOwner owner) {
        Batch b = batches.acquire();
        b.owner = owner;
        return b;
    }

    /** Whether another batch can be submitted now. I/O thread. */
    public boolean hasRoom() {
        return inFlight < capacity;
    }

    /**
     * Hands a sealed batch to the workers, or keeps it on the I/O thread: a batch of at most
     * inline-max-bytes while no batch of this lane is with the workers is answered at the end of
     * this loop round by the I/O thread itself, so small frames cost no hand-off, no wake-up of
     * either thread and no cache lines moved between cores. A batch behind one at the workers
     * goes there too, so that no answer overtakes another. The caller checked {@link #hasRoom()}.
     * I/O thread.
     *
     * @param bytes the batch's request bytes (a large batch wakes the workers at once)
     */
    public void submit(Batch batch, long bytes) {
        inFlight++;
        if (bytes <= inlineMaxBytes && atWorkers == 0) {
            // No batch of this lane is with the workers, so none can be answered before it: the
            // I/O thread answers it itself at the end of the round, without a hand-off.
            inline.add(batch);
            schedulePublish();
            return;
        }
        atWorkers++;
        if (!requests.offerDeferred(batch)) {
            // Impossible while inFlight bounds the ring; failing loudly beats losing a batch.
            inFlight--;
            atWorkers--;
            throw new IllegalStateException("request ring full with " + inFlight + " batches in flight");
        }
        offeredSinceWake = true;
        if (bytes >= WAKE_AT_ONCE_BYTES && inline.isEmpty()) {
            wakeWorkers(); // its worker starts now; the round's publish finds the drain scheduled
        } else {
            // Behind a batch answered inline this round, it must not reach the workers first:
            // its answers could be written before that batch's.
            schedulePublish();
        }
    }

    private void schedulePublish() {
        if (!publishScheduled) {
            loop.execute(publish); // may throw if the loop is shutting down: then the flag stays clear
            publishScheduled = true;
        }
    }

    /**
     * Answers the round's inline batches, then wakes the workers once for every batch handed to
     * them since the last run. Queued by the first {@link #submit} after a run, it runs when the
     * event loop has handled this round of socket reads (Netty runs queued tasks after the I/O
     * events), so the batches of every connection read in one round cost one full fence and at
     * most one wake-up.
     */
    private void publish() {
        publishScheduled = false;
        if (!inline.isEmpty()) {
            answerInline();
        }
        if (offeredSinceWake) {
            wakeWorkers();
        }
    }

    private void answerInline() {
        // A connection that resumes reading at the end of this round may submit again before
        // this returns: its batches go to the other list and a publish of their own.
        ArrayList<Batch> batches = inline;
        inline = inlineAnswering;
        inlineAnswering = batches;
        try {
            for (int i = 0; i < batches.size(); i++) {
                inlineProcess.accept(batches.get(i));
            }
        } finally {
            // The answers leave as the workers' do: through the write-back, in order.
            for (int i = 0; i < batches.size(); i++) {
                writeBack.answered(batches.get(i));
            }
            batches.clear();
            writeBack.onBatchEnd();
        }
    }

    private void wakeWorkers() {
        offeredSinceWake = false;
        try {
            requests.wakeUp();
        } catch (RejectedExecutionException e) {
            // The pool is shut down: the server is stopping after its drain; nothing can run now.
            LOG.log(System.Logger.Level.WARNING, "lane " + index + ": worker pool refused a drain: " + e);
        }
    }

    /**
     * Releases the batches left in either ring: batches of connections cut while they were in
     * flight, when the I/O thread stopped before the workers handed them back. Only once the
     * worker pool and this lane's I/O thread have both terminated, so that no drain can run
     * (each drain run gives up its ring's consumer role when it ends; the caller's thread takes
     * it here).
     *
     * @return how many batches were released
     */
    public int releaseLeftovers() {
        int n = 0;
        for (ArrayList<Batch> list : List.of(inline, inlineAnswering)) {
            for (Batch b : list) {
                b.release();
                n++;
            }
            list.clear();
        }
        for (SpscRing<Batch> ring : List.of(requests.ring(), completions.ring())) {
            Batch b;
            while ((b = ring.poll()) != null) {
                b.release();
                n++;
            }
        }
        return n;
    }

    /** Runs {@code resume} on the I/O thread once the lane has room again. I/O thread. */
    public void waitForRoom(Runnable resume) {
        waitingForRoom.add(resume);
    }

    /**
     * Worker side: answers each batch and hands it back; one drain at a time. The I/O thread is
     * woken once per drain batch (up to 64 request batches), so that one wake-up and one flush
     * carry many batches' answers; but once answers made have waited {@link #ANSWER_WAIT_NANOS},
     * the next request batch to finish wakes it. Without that, a drain batch of slow batches
     * (large frames, or a worker starved of CPU) held every answer until its last batch was
     * done; now an answer waits behind one further batch at most.
     */
    private static final class Work implements RingConsumer.BatchHandler<Batch> {
        private final Consumer<Batch> process;
        private final RingConsumer<Batch> completions;
        /** When the oldest answer not yet announced to the I/O thread was offered; 0: none. Drain-private. */
        private long waitingSince;

        Work(Consumer<Batch> process, RingConsumer<Batch> completions) {
            this.process = process;
            this.completions = completions;
        }

        @Override
        public void onElement(Batch batch) {
            process.accept(batch);
            if (!completions.offerDeferred(batch)) {
                throw new IllegalStateException("completion ring full"); // bounded by inFlight, cannot happen
            }
            long now = System.nanoTime();
            if (waitingSince == 0) {
                waitingSince = now | 1; // never 0
            } else if (now - waitingSince >= ANSWER_WAIT_NANOS) {
                waitingSince = 0;
                announce();
            }
        }

        @Override
        public void onBatchEnd() {
            waitingSince = 0;
            // The next run may be on another pool thread; the drain's scheduling hand-off orders it.
            assert completions.ring().releaseProducerRole();
            announce();
        }

        private void announce() {
            try {
                completions.wakeUp();
            } catch (RejectedExecutionException e) {
                // The I/O thread has stopped (the server stops; it waited for the workers in
                // vain): the batches stay in the ring, and releaseLeftovers() frees them.
            }
        }
    }

    /** I/O thread side: hands each answered batch to its connection, then ends the round. */
    private final class WriteBack implements RingConsumer.BatchHandler<Batch> {
        private long now;

        @Override
        public void onElement(Batch batch) {
            atWorkers--;
            answered(batch);
        }

        void answered(Batch batch) {
            if (roundOwners.isEmpty()) {
                now = System.nanoTime(); // one clock read per round: its batches are written together
            }
            inFlight--;
            BatchOwner owner = batch.owner;
            if (!owner.inRound) {
                owner.inRound = true;
                roundOwners.add(owner);
            }
            owner.answered(batch, now);
            batch.release();
            owner.buffersReleased();
            batch.recycle();
        }

        @Override
        public void onBatchEnd() {
            for (int i = 0, n = roundOwners.size(); i < n; i++) {
                BatchOwner owner = roundOwners.get(i);
                owner.inRound = false;
                owner.endOfRound();
            }
            roundOwners.clear();
            if (!waitingForRoom.isEmpty() && capacity - inFlight >= resumeThreshold) {
                // A resumed connection that fills the lane again re-registers at the end of the
                // list, past n; only the entries actually run are removed.
                int n = waitingForRoom.size();
                int run = 0;
                while (run < n && hasRoom()) {
                    waitingForRoom.get(run++).run();
                }
                waitingForRoom.subList(0, run).clear();
            }
        }
    }
}
