package dev.framepipe.pipeline;

import dev.framepipe.metrics.PipelineCounters;
import dev.framepipe.ring.RingConsumer;
import dev.framepipe.ring.SpscRing;
import io.netty.channel.EventLoop;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The path of frames between one I/O thread and the workers: a request ring (the I/O thread
 * produces, a drain task on the ForkJoinPool consumes and processes), and a completion ring
 * going back (the drain task produces, a write-back task on the I/O thread consumes, writes
 * the answers and flushes each connection once per batch).
 *
 * <p>Bounds: the I/O thread admits a frame only while fewer than {@link #capacity()} frames of
 * this lane are unanswered ({@link #inFlight}, touched by the I/O thread alone), so neither
 * ring can ever be full; a connection that finds the lane full stops reading until answers
 * drain ({@link #waitForRoom}).
 */
public final class Lane implements RingConsumer.BatchHandler<Frame> {

    private static final System.Logger LOG = System.getLogger(Lane.class.getName());
    private static final VarHandle WRITE_BACK_SCHEDULED;

    static {
        try {
            WRITE_BACK_SCHEDULED = MethodHandles.lookup().findVarHandle(Lane.class, "writeBackScheduled", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int index;
    private final EventLoop loop;
    private final FrameProcessor processor;
    private final RingConsumer<Frame> requests;
    private final SpscRing<Frame> completions;
    private final int capacity;
    /** Resume reading paused connections once this many slots are free again. */
    private final int resumeThreshold;
    private final Runnable writeBack = this::writeBack;
    private final Runnable publish = this::publish;
    /**
     * Frames of at least this size wake the workers at once instead of at the end of the loop
     * round: one event-loop round may read megabytes from other connections, and with few large
     * frames in flight per connection that wait is the throughput (measured: see
     * docs/performance.md, large frames). Small frames gain from sharing a wake-up; a frame this
     * big costs far more than a wake-up to process anyway.
     */
    static final int WAKE_AT_ONCE_BYTES = 64 * 1024;
    /**
     * How long the drain, on an empty request ring, keeps its pool thread parked for the next
     * frames before giving it back: longer than the gap between event-loop rounds under load
     * (and than the I/O thread's waits for a CPU, which a 1 ms park did not outlast), so a busy
     * lane's wake-up is one unpark, without the pool's spinning and re-submission (measured:
     * see docs/performance.md, the parked drain).
     */
    static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** Per-frame counters, written by this lane's I/O thread only. */
    private final PipelineCounters counters = new PipelineCounters();
    /** Frames of this lane, taken and given back on its I/O thread. */
    private final FramePool frames;

    // I/O thread only.
    private int inFlight;
    /** A {@link #publish} task is queued on the I/O thread. */
    private boolean publishScheduled;
    private final ArrayList<FrameOwner> batchOwners = new ArrayList<>();
    private final ArrayList<Runnable> waitingForRoom = new ArrayList<>();

    /**
     * 1 while a write-back task is queued on the I/O thread or about to run. Set by the worker
     * with a CAS after it published completions; cleared by the write-back task before it polls
     * (a full fence orders the clear before the polls, and the worker's CAS orders its
     * completion stores before its read of the flag), so a completion is never left unseen.
     */
    @SuppressWarnings("unused")
    private volatile int writeBackScheduled;

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
     * @param idleParkNanos how long the drain keeps its pool thread parked on an empty request
     *        ring ({@link #idleParkNanos(int, int)}); 0: it gives the thread back at once
     */
    public Lane(int index, EventLoop loop, ForkJoinPool pool, FrameProcessor processor, int capacity,
                long idleParkNanos) {
        this.index = index;
        this.loop = loop;
        this.processor = processor;
        this.capacity = capacity;
        this.resumeThreshold = Math.max(1, capacity / 4);
        this.requests = new RingConsumer<>(new SpscRing<>(capacity), pool, this, Math.min(capacity, 256),
                idleParkNanos);
        this.completions = new SpscRing<>(capacity);
        this.frames = new FramePool(2 * capacity);
    }

    /** The pool frames of this lane come from. I/O thread. */
    public FramePool frames() {
        return frames;
    }

    public int index() {
        return index;
    }

    public EventLoop eventLoop() {
        return loop;
    }

    public PipelineCounters counters() {
        return counters;
    }

    public int capacity() {
        return capacity;
    }

    /** How long the drain parks between bursts; 0 if it does not. */
    public long idleParkNanos() {
        return requests.idleParkNanos();
    }

    /** Frames waiting in the request ring (approximate; any thread). */
    public int occupancy() {
        return requests.ring().size();
    }

    /** Whether another frame can be admitted now. I/O thread. */
    public boolean hasRoom() {
        return inFlight < capacity;
    }

    /**
     * Hands a frame to the workers. The caller checked {@link #hasRoom()}. I/O thread.
     */
    public void submit(Frame frame) {
        // Read before the offer: from then on the frame is the workers' (a running drain may
        // take it at once).
        boolean big = frame.length >= WAKE_AT_ONCE_BYTES;
        inFlight++;
        if (!requests.offerDeferred(frame)) {
            // Impossible while inFlight bounds the ring; failing loudly beats losing a frame.
            inFlight--;
            throw new IllegalStateException("request ring full with " + inFlight + " frames in flight");
        }
        if (big) {
            // A big frame took many socket reads; the rest of this round may take as long again.
            // Its worker starts now (the publish task then finds the drain already scheduled).
            wakeWorkers();
        } else if (!publishScheduled) {
            loop.execute(publish); // may throw if the loop is shutting down: then the flag stays clear
            publishScheduled = true; // the task runs on this thread, after this method returns
        }
    }

    /**
     * Wakes the workers once for every frame submitted since the last run. Queued by the first
     * {@link #submit} after a run, it runs when the event loop has handled this round of socket
     * reads (Netty runs queued tasks after the I/O events), so the frames of every connection
     * read in one round cost one full fence and at most one pool wake-up, instead of one each.
     * Measured: see docs/performance.md (wake-ups per frame).
     */
    private void publish() {
        publishScheduled = false;
        wakeWorkers();
    }

    private void wakeWorkers() {
        try {
            requests.wakeUp();
        } catch (RejectedExecutionException e) {
            // The pool is shut down: the server is stopping after its drain; nothing can run now.
            LOG.log(System.Logger.Level.WARNING, "lane " + index + ": worker pool refused a drain: " + e);
        }
    }

    /** Runs {@code resume} on the I/O thread once the lane has room again. I/O thread. */
    public void waitForRoom(Runnable resume) {
        waitingForRoom.add(resume);
    }

    // ---- worker side (one drain at a time, serialised by RingConsumer) ----

    @Override
    public void onElement(Frame frame) {
        processor.process(frame);
        if (!completions.offer(frame)) {
            throw new IllegalStateException("completion ring full"); // bounded by inFlight, cannot happen
        }
    }

    @Override
    public void onBatchEnd() {
        // The next batch may run on another pool thread; the drain's scheduling hand-off orders it.
        assert completions.releaseProducerRole();
        VarHandle.fullFence(); // completions published before the flag is read
        if ((int) WRITE_BACK_SCHEDULED.getVolatile(this) == 0
                && WRITE_BACK_SCHEDULED.compareAndSet(this, 0, 1)) {
            loop.execute(writeBack);
        }
    }

    // ---- I/O thread: answers out ----

    private void writeBack() {
        WRITE_BACK_SCHEDULED.setVolatile(this, 0);
        VarHandle.fullFence(); // the clear is visible before we look at the ring
        Frame frame;
        long now = System.nanoTime();
        while ((frame = completions.poll()) != null) {
            inFlight--;
            FrameOwner owner = frame.owner;
            if (!owner.inBatch) {
                owner.inBatch = true;
                batchOwners.add(owner);
            }
            owner.complete(frame, now);
        }
        for (int i = 0, n = batchOwners.size(); i < n; i++) {
            FrameOwner owner = batchOwners.get(i);
            owner.inBatch = false;
            owner.endOfBatch();
        }
        batchOwners.clear();
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
