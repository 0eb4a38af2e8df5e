package dev.framepipe.ring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Mailbox-style consumer of an {@link SpscRing}: when the ring turns non-empty the producer
 * submits ONE drain task to an executor (a {@link ForkJoinPool}, or a single-threaded executor
 * such as a Netty event loop); the task hands the elements to a {@link BatchHandler} in batches
 * and, once it finds the ring empty, unschedules itself. This is the pipeline's one wake-up
 * primitive: requests go to the workers through it, and answers come back to the I/O thread
 * through it (an event loop as the executor, without parking), so both directions rest on the
 * same handshake and the same jcstress proofs.
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>At most one drain runs at a time, so {@link BatchHandler#onElement} calls never overlap,
 *       and successive drain runs happen-before each other: the handler may keep plain state.</li>
 *   <li>Elements reach {@code onElement} in FIFO order, and every element that {@link #offer}
 *       accepted reaches it (no lost wake-up, see {@link #releaseDrain()}).</li>
 *   <li>{@link BatchHandler#onBatchEnd} follows each batch of 1 to {@code batchLimit} elements.</li>
 *   <li>While a drain is scheduled or running, offers make no pool submission (one per burst).
 *       A wake-up allocates nothing: the drain task is one reusable {@link ForkJoinTask}.</li>
 *   <li>Nobody spins. With {@code idleParkNanos} 0 a drain that finds the ring empty returns its
 *       pool thread at once. With {@code idleParkNanos > 0} it first parks that thread (no CPU)
 *       for up to that long, and an offer unparks it (see "Parking" below). Either way, with no
 *       elements no thread runs once the park has timed out.</li>
 *   <li>The handler may fork/join on the same pool: a drain never waits for the producer while
 *       the handler runs.</li>
 * </ul>
 *
 * <h2>Parking</h2>
 * Returning the pool thread after each burst is not free: a {@code ForkJoinPool} worker that runs
 * out of tasks scans the queues and spins ({@code Thread.onSpinWait}, up to 256 times, JDK 25's
 * {@code ForkJoinPool.deactivate}) before it parks, and the next burst pays a submission and the
 * pool's own wake-up. Under a steady stream of bursts (one per event-loop round) that spinning
 * was about a quarter of the worker's samples, on cores the I/O thread and clients need. A drain
 * that parks in place instead costs one {@code unpark} per burst and spins never; measured in
 * docs/performance.md. The trade: waking a parked thread is slower (tens of microseconds on a
 * VM) than handing a task to a pool worker that is still spinning, so for one element at a time
 * (a ping-pong) the mailbox without parking is faster; see docs/performance-ring.md. The park is
 * bounded, so an idle lane gives its pool thread back (and a pool being shut down is never held
 * for longer than the park).
 *
 * <h2>Threading contract</h2>
 * {@link #offer} is called by one producer thread (a Netty event loop). The ring's consumer side
 * belongs to this object: nobody else may poll or drain the ring.
 *
 * <h2>Handler failures</h2>
 * If {@code onElement} or {@code onBatchEnd} throws, the element it threw on is consumed, the
 * batch still ends with {@code onBatchEnd} (if it was not the one that threw), the throwable goes
 * to the pool thread's uncaught exception handler, and draining goes on.
 *
 * @param <E> element type
 */
public final class RingConsumer<E> {

    /** Receives the elements, one drain at a time. */
    public interface BatchHandler<E> {
        /** One element, in FIFO order. Never called concurrently with itself or onBatchEnd. */
        void onElement(E e);

        /** After each batch of at least one and at most batchLimit elements. */
        void onBatchEnd();
    }

    /**
     * A drain run hands over at most this many batches, then re-submits itself (staying
     * scheduled) so that other tasks queued on the pool get a worker too.
     */
    static final int BATCHES_PER_RUN = 64;

    /** {@link #signalDrain} results. */
    static final int SIGNAL_NONE = 0;
    static final int SIGNAL_CLAIMED = 1;
    static final int SIGNAL_UNPARKED = 2;

    private static final VarHandle PARKED;

    static {
        try {
            PARKED = MethodHandles.lookup().findVarHandle(RingConsumer.class, "parked", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final SpscRing<E> ring;
    /** Where the drain runs: a ForkJoinPool (the task is submitted as a ForkJoinTask, no wrapper), */
    private final ForkJoinPool pool;
    /** or any other executor (the task as a Runnable); exactly one of the two is set. */
    private final Executor executor;
    private final long idleParkNanos;
    final DrainTask<E> task; // package-private: jcstress runs its exec() directly

    /**
     * The drain's thread while it is parked or about to park on an empty ring, else null. Written
     * by the drain only: a release store then a full fence before it looks at the ring
     * ({@link #announcePark}), a plain-order (opaque) clear once it runs again. Read by the
     * producer with getAcquire after its full fence ({@link #signalDrain}).
     */
    @SuppressWarnings("unused")
    private volatile Thread parked;

    /**
     * @param ring the ring this consumer owns the consumer side of
     * @param pool pool the drain runs on
     * @param handler receives the elements
     * @param batchLimit maximum elements per batch, {@code >= 1}
     */
    public RingConsumer(SpscRing<E> ring, ForkJoinPool pool, BatchHandler<? super E> handler, int batchLimit) {
        this(ring, pool, handler, batchLimit, 0);
    }

    /**
     * @param ring the ring this consumer owns the consumer side of
     * @param pool pool the drain runs on
     * @param handler receives the elements
     * @param batchLimit maximum elements per batch, {@code >= 1}
     * @param idleParkNanos how long a drain that finds the ring empty parks its pool thread,
     *        waiting for the next offer, before it gives the thread back; 0: it gives it back at once
     */
    public RingConsumer(SpscRing<E> ring, ForkJoinPool pool, BatchHandler<? super E> handler, int batchLimit,
                        long idleParkNanos) {
        this(ring, Objects.requireNonNull(pool, "pool"), null, handler, batchLimit, idleParkNanos);
    }

    /**
     * A consumer whose drain runs on {@code executor} (for example a Netty event loop), one run
     * at a time, never parking: an executor's thread is not the drain's to hold.
     *
     * @param ring the ring this consumer owns the consumer side of
     * @param executor runs the drain task
     * @param handler receives the elements
     * @param batchLimit maximum elements per batch, {@code >= 1}
     */
    public RingConsumer(SpscRing<E> ring, Executor executor, BatchHandler<? super E> handler, int batchLimit) {
        this(ring, null, Objects.requireNonNull(executor, "executor"), handler, batchLimit, 0);
    }

    private RingConsumer(SpscRing<E> ring, ForkJoinPool pool, Executor executor, BatchHandler<? super E> handler,
                         int batchLimit, long idleParkNanos) {
        this.ring = Objects.requireNonNull(ring, "ring");
        this.pool = pool;
        this.executor = executor;
        Objects.requireNonNull(handler, "handler");
        if (batchLimit < 1) {
            throw new IllegalArgumentException("batchLimit must be >= 1, was " + batchLimit);
        }
        if (idleParkNanos < 0) {
            throw new IllegalArgumentException("idleParkNanos must be >= 0, was " + idleParkNanos);
        }
        this.idleParkNanos = idleParkNanos;
        this.task = new DrainTask<>(this, ring, handler, batchLimit);
    }

    /**
     * Producer thread only. Offers {@code e} to the ring and makes sure a drain is scheduled.
     *
     * @return false if the ring is full; a drain that will free slots is then scheduled or running
     * @throws NullPointerException if {@code e} is null
     * @throws RejectedExecutionException if the pool rejected the drain (shut down); the element
     *         stays in the ring and the next offer tries to schedule again
     */
    public boolean offer(E e) {
        final boolean offered = ring.offer(e);
        // Also when full: the ring is non-empty, so a drain must be scheduled. By induction one
        // already is (every accepted element went through this check), but the check is cheap.
        if (claimDrain()) {
            submit();
        }
        return offered;
    }

    /**
     * Producer thread only. Offers {@code e} to the ring WITHOUT making sure a drain is
     * scheduled: a producer that has several elements to hand over offers them all this way and
     * then calls {@link #wakeUp()} once, paying one full fence (and at most one pool submission)
     * per burst instead of per element. Until that {@code wakeUp()}, the element may sit in the
     * ring unseen (a drain already running may take it, but nothing guarantees one is).
     *
     * @return false if the ring is full
     * @throws NullPointerException if {@code e} is null
     */
    public boolean offerDeferred(E e) {
        return ring.offer(e);
    }

    /**
     * Producer thread only. Makes sure a drain will see every element offered before this call
     * (by {@link #offer} or {@link #offerDeferred}): the same handshake as {@code offer}'s.
     *
     * @throws RejectedExecutionException if the pool rejected the drain (shut down); a later
     *         offer or wakeUp tries again
     */
    public void wakeUp() {
        if (claimDrain()) {
            submit();
        }
    }

    /** How long a drain parks on an empty ring before it gives its pool thread back; 0: not at all. */
    public long idleParkNanos() {
        return idleParkNanos;
    }

    /** The ring; its producer side is the caller's, its consumer side this object's. */
    public SpscRing<E> ring() {
        return ring;
    }

    private void submit() {
        try {
            execute(task);
        } catch (RuntimeException | Error ex) {
            // Not scheduled after all: undo the claim so that a later offer retries.
            DrainTask.STATE.setRelease(task, DrainTask.IDLE);
            throw ex;
        }
    }

    /*
     * The scheduling handshake (a Dekker-style pair of "store, full fence, load"):
     *
     *   producer:  store element (release producerIndex)   drain:  store state = IDLE
     *              FULL FENCE                                       FULL FENCE
     *              load state; if IDLE, CAS IDLE->SCHEDULED          load producerIndex; if non-empty,
     *              and submit                                        CAS IDLE->SCHEDULED and go on
     *
     * Each side stores, then loads what the other side stored. With the fences (StoreLoad
     * barriers), at least one side sees the other's store: either the producer sees IDLE (and
     * submits a new drain) or the drain sees the element (and re-claims). Both may see each other;
     * then both CAS and exactly one wins, so there is never more than one drain, and the loser
     * simply leaves. Without the producer's fence the element store could sit in the store buffer
     * while the producer reads a stale SCHEDULED - and the element would be stranded.
     * The fence is the price of a wake-up guarantee on every offer: one locked instruction.
     * jcstress: RingConsumerHandshakeStress.
     *
     * A parked drain stays SCHEDULED, so the producer's CAS fails; the same fence then orders the
     * element store before its load of `parked`, and the drain orders its store of `parked`
     * before its load of producerIndex the same way (announcePark). Again one side sees the
     * other: the producer unparks the drain, or the drain finds the element and does not park.
     * An unpark that comes before the park (or after it timed out) leaves a permit, which costs
     * at most one spurious, re-checked wake-up. jcstress: RingConsumerParkStress.
     */

    /**
     * Producer side of the handshake, after the ring offer(s): the fence orders every element
     * store before it, so one call covers a whole burst. Package-private for jcstress.
     *
     * @return true if the caller won the right (and duty) to submit the drain task
     */
    boolean claimDrain() {
        return signalDrain() == SIGNAL_CLAIMED;
    }

    /**
     * The producer's handshake: claims an idle drain, or unparks a parked one. Package-private
     * for jcstress.
     *
     * @return {@link #SIGNAL_CLAIMED} if the caller must submit the drain task,
     *         {@link #SIGNAL_UNPARKED} if it unparked the drain, else {@link #SIGNAL_NONE}
     */
    int signalDrain() {
        VarHandle.fullFence(); // StoreLoad: the element store above before the loads below
        if ((int) DrainTask.STATE.getAcquire(task) == DrainTask.IDLE) {
            return DrainTask.STATE.compareAndSet(task, DrainTask.IDLE, DrainTask.SCHEDULED)
                    ? SIGNAL_CLAIMED : SIGNAL_NONE;
        }
        Thread drain = (Thread) PARKED.getAcquire(this);
        if (drain != null) {
            LockSupport.unpark(drain);
            return SIGNAL_UNPARKED;
        }
        return SIGNAL_NONE;
    }

    /**
     * Drain side of the parking handshake, on an empty ring: publishes the drain's thread, then
     * looks at the ring again. Package-private for jcstress.
     *
     * @return true if the ring is still empty: the caller may park, an offer from now on unparks it
     */
    boolean announcePark() {
        PARKED.setRelease(this, Thread.currentThread());
        VarHandle.fullFence(); // StoreLoad: the store above before the producerIndex load
        return ring.isEmpty();
    }

    private void execute(DrainTask<E> t) {
        if (pool != null) {
            pool.execute((ForkJoinTask<?>) t);
        } else {
            executor.execute(t);
        }
    }

    /** Package-private for tests: the drain's thread while it is parked (or about to park), else null. */
    Thread parkedDrain() {
        return (Thread) PARKED.getAcquire(this);
    }

    /** The drain runs again: offers need not unpark it. */
    void clearPark() {
        PARKED.setOpaque(this, null);
    }

    /**
     * Drain side of the handshake, once the ring was found empty. Package-private for jcstress.
     *
     * @return true if the ring turned non-empty and the caller re-claimed the drain (it must go
     *         on draining); false if it is unscheduled (a producer will, or already did, submit
     *         the next drain)
     */
    boolean releaseDrain() {
        assert ring.releaseConsumerRole();
        // Release: this run's handler writes happen-before the producer's CAS that reads IDLE,
        // and so before the next drain run, which the producer submits after that CAS.
        DrainTask.STATE.setRelease(task, DrainTask.IDLE);
        VarHandle.fullFence(); // StoreLoad: the state store above before the producerIndex load
        return !ring.isEmpty() && DrainTask.STATE.compareAndSet(task, DrainTask.IDLE, DrainTask.SCHEDULED);
    }

    /** Package-private for tests: true while a drain is scheduled or running. */
    boolean drainScheduled() {
        return (int) DrainTask.STATE.getAcquire(task) == DrainTask.SCHEDULED;
    }

    /**
     * The reusable drain task. {@link #exec()} always returns false, so the pool never marks it
     * done and it can be submitted again without allocation or reinitialize(); ForkJoinPool does
     * not touch a task after exec() returns false (ForkJoinTask.doExec), so a new run may even
     * start before the previous run's doExec frame has returned. This is how Akka's Mailbox
     * reuses itself. The state flag guarantees it is queued or running at most once.
     */
    static final class DrainTask<E> extends ForkJoinTask<Void> implements Consumer<E>, Runnable {
        static final int IDLE = 0;
        static final int SCHEDULED = 1;

        static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(DrainTask.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /**
         * IDLE or SCHEDULED (queued, running or parked). IDLE->SCHEDULED only by a successful CAS, by the
         * producer (which then submits) or by the drain re-claiming itself. SCHEDULED->IDLE only
         * by the running drain, with a release store followed by a full fence. The producer reads
         * it with getAcquire after a full fence.
         */
        private int state;

        private final RingConsumer<E> owner;
        private final SpscRing<E> ring;
        private final BatchHandler<? super E> handler;
        private final int batchLimit;

        /** Drain-private (plain): elements handed over in the current batch. */
        private int taken;

        DrainTask(RingConsumer<E> owner, SpscRing<E> ring, BatchHandler<? super E> handler, int batchLimit) {
            this.owner = owner;
            this.ring = ring;
            this.handler = handler;
            this.batchLimit = batchLimit;
        }

        @Override
        public void accept(E e) {
            taken++; // counted first: an element whose handler throws is still consumed
            handler.onElement(e);
        }

        /** The drain as a plain task, for executors other than a ForkJoinPool. */
        @Override
        public void run() {
            exec();
        }

        @Override
        protected boolean exec() {
            int batches = 0;
            for (;;) {
                taken = 0;
                Throwable failure = null;
                try {
                    ring.drain(this, batchLimit);
                } catch (Throwable t) {
                    failure = t;
                }
                if (taken > 0) {
                    try {
                        handler.onBatchEnd();
                    } catch (Throwable t) {
                        failure = chain(failure, t);
                    }
                }
                if (failure != null) {
                    report(failure);
                }
                if (taken == 0) {
                    if (owner.idleParkNanos > 0 && awaitOffer()) {
                        continue;
                    }
                    if (!owner.releaseDrain()) {
                        return false; // unscheduled; touch nothing from here on
                    }
                } else if (++batches >= BATCHES_PER_RUN && yieldWorker()) {
                    return false; // re-queued, still SCHEDULED; touch nothing from here on
                }
            }
        }

        /**
         * Parks this pool thread until an offer unparks it or {@code idleParkNanos} pass. The
         * drain stays SCHEDULED meanwhile, so offers unpark it instead of submitting.
         *
         * @return true if the ring turned non-empty (drain it), false if the park timed out
         *         (or the thread was interrupted: the pool is shutting down) with the ring empty
         */
        private boolean awaitOffer() {
            final long deadline = System.nanoTime() + owner.idleParkNanos;
            try {
                for (;;) {
                    if (!owner.announcePark()) {
                        return true;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || Thread.currentThread().isInterrupted()) {
                        return false; // releaseDrain() re-checks the ring after unscheduling
                    }
                    LockSupport.parkNanos(this, left);
                }
            } finally {
                owner.clearPark();
            }
        }

        /** Re-submits this task (state stays SCHEDULED). False if the pool refused: keep going. */
        private boolean yieldWorker() {
            assert ring.releaseConsumerRole();
            try {
                owner.execute(this);
                return true;
            } catch (RejectedExecutionException e) {
                return false;
            }
        }

        private static Throwable chain(Throwable first, Throwable second) {
            if (first == null) {
                return second;
            }
            if (first != second) {
                first.addSuppressed(second);
            }
            return first;
        }

        private static void report(Throwable failure) {
            final Thread thread = Thread.currentThread();
            try {
                thread.getUncaughtExceptionHandler().uncaughtException(thread, failure);
            } catch (Throwable ignored) {
                // nothing sensible left to do; the drain must go on
            }
        }

        @Override
        public Void getRawResult() {
            return null;
        }

        @Override
        protected void setRawResult(Void value) {
            // no result
        }
    }
}
