package dev.framepipe.ring;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.ForkJoinPool;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * The wake-up handshake of {@link RingConsumer}: the producer offers exactly as
 * {@code RingConsumer.offer} does (ring offer, then {@code claimDrain()}; a true result is where
 * offer would submit the drain task), while the other actor runs the REAL drain task's
 * {@code exec()} - batches, onBatchEnd, the empty check and {@code releaseDrain()} - as the pool
 * would. The drain is scheduled when the actors start (state SCHEDULED, ring empty or not): the
 * race is the drain unscheduling itself just as the producer offers.
 *
 * <p>Outcome r1: producer submissions; r2: elements the drain handed to onElement; r3: 1 if an
 * element was left in the ring with no drain scheduled (a lost wake-up); r4: 1 if the handler
 * saw a FIFO violation or a batch not closed by onBatchEnd.
 */
public final class RingConsumerHandshakeStress {

    private RingConsumerHandshakeStress() {
    }

    /** Counts elements; checks FIFO and that every batch is closed by onBatchEnd. */
    static final class Recorder implements RingConsumer.BatchHandler<Integer> {
        int next = 1;
        int handed;
        int open;
        boolean broken;

        @Override
        public void onElement(Integer e) {
            if (e != next++) {
                broken = true;
            }
            handed++;
            open++;
        }

        @Override
        public void onBatchEnd() {
            if (open == 0) {
                broken = true;
            }
            open = 0;
        }
    }

    abstract static class Handshake {
        // never used for submission here: claimDrain() only reports that offer() would submit
        final Recorder recorder = new Recorder();
        final RingConsumer<Integer> consumer;
        final SpscRing<Integer> ring;
        int submissions;

        Handshake(int capacity, int batchLimit, int preloaded) {
            this(capacity, batchLimit, preloaded, false);
        }

        /**
         * @param onExecutor the consumer of the completion direction: its drain runs on an
         *        executor (a Netty event loop in the service) instead of the pool, never parking
         */
        Handshake(int capacity, int batchLimit, int preloaded, boolean onExecutor) {
            ring = new SpscRing<>(capacity);
            consumer = onExecutor
                    ? new RingConsumer<>(ring, (java.util.concurrent.Executor) Runnable::run, recorder, batchLimit)
                    : new RingConsumer<>(ring, ForkJoinPool.commonPool(), recorder, batchLimit);
            for (int v = 1; v <= preloaded; v++) {
                ring.offer(v);
            }
            if (!consumer.claimDrain()) { // the drain is now "scheduled": the drain actor runs it
                throw new IllegalStateException("fresh consumer must be idle");
            }
        }

        /** The producer half of RingConsumer.offer, minus pool.execute. */
        void offer(int v) {
            if (!ring.offer(v)) {
                throw new IllegalStateException("test ring sized never to fill");
            }
            if (consumer.claimDrain()) {
                submissions++;
            }
        }

        /** RingConsumer.offerDeferred: the ring offer alone, no handshake. */
        void offerDeferred(int v) {
            if (!consumer.offerDeferred(v)) {
                throw new IllegalStateException("test ring sized never to fill");
            }
        }

        /** RingConsumer.wakeUp, minus pool.execute. */
        void wakeUp() {
            if (consumer.claimDrain()) {
                submissions++;
            }
        }

        // jcstress's processor looks at the test class's own methods only: each test declares
        // its actors and arbiter and delegates to these.
        void runDrain(IIII_Result r) {
            consumer.task.exec(); // the real drain run, to its unscheduling
            r.r2 = recorder.handed;
        }

        void judge(IIII_Result r) {
            r.r1 = submissions;
            // stranded: elements left but nobody will run a drain
            r.r3 = !ring.isEmpty() && !consumer.drainScheduled() ? 1 : 0;
            r.r4 = recorder.broken || recorder.open != 0 ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("RingConsumer: one offer racing the drain's unscheduling (empty ring)")
    @Outcome(id = "0, 1, 0, 0", expect = ACCEPTABLE, desc = "the running drain took it (before or after re-checking)")
    @Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE, desc = "the drain had gone idle; the producer submits a new one")
    @Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "drain took it, then went idle before the producer looked: one spurious wake-up")
    @Outcome(expect = FORBIDDEN, desc = "lost wake-up, double submission, or broken batches")
    @State
    public static class RingWakeUpSingleOffer extends Handshake {
        public RingWakeUpSingleOffer() {
            super(4, 4, 0);
        }

        @Actor
        public void producer() {
            offer(1);
        }

        @Actor
        public void drain(IIII_Result r) {
            runDrain(r);
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            judge(r);
        }
    }

    @JCStressTest
    @Description("RingConsumer: a burst of two offers racing a drain with 1 element left, batch limit 1")
    @Outcome(id = {"0, 3, 0, 0"}, expect = ACCEPTABLE, desc = "the running drain took all three")
    @Outcome(id = {"1, 1, 0, 0", "1, 2, 0, 0"}, expect = ACCEPTABLE,
            desc = "the drain went idle with elements still to come; exactly one new drain submitted")
    @Outcome(id = {"1, 3, 0, 0"}, expect = ACCEPTABLE_INTERESTING, desc = "one spurious wake-up")
    @Outcome(expect = FORBIDDEN, desc = "lost wake-up, more than one submission per burst, or broken batches")
    @State
    public static class RingWakeUpBurst extends Handshake {
        public RingWakeUpBurst() {
            super(4, 1, 1);
        }

        @Actor
        public void producer() {
            offer(2);
            offer(3);
        }

        @Actor
        public void drain(IIII_Result r) {
            runDrain(r);
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            judge(r);
        }
    }

    @JCStressTest
    @Description("RingConsumer: two deferred offers and one wakeUp racing a drain with 1 element left, batch limit 1")
    @Outcome(id = {"0, 3, 0, 0"}, expect = ACCEPTABLE, desc = "the running drain took all three")
    @Outcome(id = {"1, 1, 0, 0", "1, 2, 0, 0"}, expect = ACCEPTABLE,
            desc = "the drain went idle with elements still to come; the wake-up submitted one new drain")
    @Outcome(id = {"1, 3, 0, 0"}, expect = ACCEPTABLE_INTERESTING, desc = "one spurious wake-up")
    @Outcome(expect = FORBIDDEN, desc = "lost wake-up (an element stranded), a second submission, or broken batches")
    @State
    public static class RingWakeUpDeferredBurst extends Handshake {
        public RingWakeUpDeferredBurst() {
            super(4, 1, 1);
        }

        @Actor
        public void producer() {
            offerDeferred(2);
            offerDeferred(3);
            wakeUp();
        }

        @Actor
        public void drain(IIII_Result r) {
            runDrain(r);
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            judge(r);
        }
    }

    @JCStressTest
    @Description("The completion direction (pipeline.Lane: workers hand answered batches back to the I/O thread):"
            + " two deferred offers and one wakeUp by the worker racing the event loop's drain with 1 batch left")
    @Outcome(id = {"0, 3, 0, 0"}, expect = ACCEPTABLE, desc = "the running drain took all three")
    @Outcome(id = {"1, 1, 0, 0", "1, 2, 0, 0"}, expect = ACCEPTABLE,
            desc = "the drain went idle with batches still to come; the wake-up scheduled one new drain")
    @Outcome(id = {"1, 3, 0, 0"}, expect = ACCEPTABLE_INTERESTING, desc = "one spurious wake-up")
    @Outcome(expect = FORBIDDEN, desc = "lost wake-up (a batch stranded), a second drain, or broken batches")
    @State
    public static class WriteBackWakeUpDeferredBurst extends Handshake {
        public WriteBackWakeUpDeferredBurst() {
            super(4, 1, 1, true);
        }

        @Actor
        public void worker() {
            offerDeferred(2);
            offerDeferred(3);
            wakeUp();
        }

        @Actor
        public void eventLoop(IIII_Result r) {
            runDrain(r);
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            judge(r);
        }
    }
}
