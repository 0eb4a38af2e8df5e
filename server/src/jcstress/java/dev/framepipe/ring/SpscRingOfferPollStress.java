package dev.framepipe.ring;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/** Offer/poll races: one producer actor, one consumer actor, exact outcomes. */
public final class SpscRingOfferPollStress {

    private SpscRingOfferPollStress() {
    }

    /**
     * Capacity 1: the producer offers 1 then 2, the consumer polls twice (0 = null).
     * r1, r2: offers accepted; r3, r4: values polled.
     */
    @JCStressTest
    @Description("SpscRing capacity 1: offer 1, offer 2 against poll, poll")
    @Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE, desc = "consumer saw nothing; second offer found the ring full")
    @Outcome(id = {"1, 0, 1, 0", "1, 0, 0, 1"}, expect = ACCEPTABLE, desc = "1 taken after the second offer was refused")
    @Outcome(id = {"1, 1, 1, 0", "1, 1, 0, 1"}, expect = ACCEPTABLE, desc = "1 taken, 2 accepted but not yet seen")
    @Outcome(id = "1, 1, 1, 2", expect = ACCEPTABLE_INTERESTING, desc = "full hand-off: both through a single slot")
    @Outcome(expect = FORBIDDEN, desc = "lost, duplicated, reordered or over-capacity element")
    @State
    public static class RingCapacity1 {
        final SpscRing<Integer> ring = new SpscRing<>(1);

        @Actor
        public void producer(IIII_Result r) {
            r.r1 = ring.offer(1) ? 1 : 0;
            r.r2 = ring.offer(2) ? 1 : 0;
        }

        @Actor
        public void consumer(IIII_Result r) {
            Integer a = ring.poll();
            Integer b = ring.poll();
            r.r3 = a == null ? 0 : a;
            r.r4 = b == null ? 0 : b;
        }
    }

    /** Empty boundary: a single offer against a single poll on an empty ring. */
    @JCStressTest
    @Description("SpscRing empty boundary: offer against poll on an empty ring, then the arbiter polls")
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "consumer got it")
    @Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "consumer saw empty; the element is still there")
    @Outcome(expect = FORBIDDEN, desc = "lost or duplicated")
    @State
    public static class RingEmptyBoundary {
        final SpscRing<Integer> ring = new SpscRing<>(2);

        @Actor
        public void producer(org.openjdk.jcstress.infra.results.III_Result r) {
            r.r1 = ring.offer(1) ? 1 : 0;
        }

        @Actor
        public void consumer(org.openjdk.jcstress.infra.results.III_Result r) {
            Integer e = ring.poll();
            r.r2 = e == null ? 0 : e;
        }

        @Arbiter
        public void arbiter(org.openjdk.jcstress.infra.results.III_Result r) {
            Integer e = ring.poll();
            r.r3 = e == null ? 0 : e;
        }
    }

    /**
     * Full boundary: capacity 2 filled with 1, 2. The producer offers 3, the consumer polls
     * once; the arbiter encodes what is left (e.g. 23 = 2 then 3).
     */
    @JCStressTest
    @Description("SpscRing full boundary: offer into a full ring against a poll that frees a slot")
    @Outcome(id = "0, 1, 2", expect = ACCEPTABLE, desc = "offer saw the ring full")
    @Outcome(id = "1, 1, 23", expect = ACCEPTABLE_INTERESTING, desc = "offer saw the freed slot")
    @Outcome(expect = FORBIDDEN, desc = "over capacity, lost, duplicated or reordered")
    @State
    public static class RingFullBoundary {
        final SpscRing<Integer> ring = new SpscRing<>(2);

        public RingFullBoundary() {
            RingStressSupport.wind(ring, 1); // the slot that frees up is the last array slot
            ring.offer(1);
            ring.offer(2);
        }

        @Actor
        public void producer(org.openjdk.jcstress.infra.results.III_Result r) {
            r.r1 = ring.offer(3) ? 1 : 0;
        }

        @Actor
        public void consumer(org.openjdk.jcstress.infra.results.III_Result r) {
            Integer e = ring.poll();
            r.r2 = e == null ? 0 : e;
        }

        @Arbiter
        public void arbiter(org.openjdk.jcstress.infra.results.III_Result r) {
            int rest = 0;
            Integer e;
            while ((e = ring.poll()) != null) {
                rest = rest * 10 + e;
            }
            r.r3 = rest;
        }
    }

    /**
     * Sequences across the wrap-around: the producer offers 1..5, the consumer polls 5 times,
     * the arbiter checks the whole history (RingStressSupport.verdict).
     * r1: verdict (1 consistent), r2: how many the consumer actor took.
     */
    public abstract static class Sequence {
        static final int N = 5;
        final SpscRing<Integer> ring;
        final int[] taken = new int[N];
        int takenCount;
        int accepted;

        Sequence(int capacity, int wind) {
            ring = new SpscRing<>(capacity);
            RingStressSupport.wind(ring, wind);
        }

        // jcstress's processor looks at the test class's own methods only: each test declares
        // its actors and arbiter and delegates to these.
        void produce() {
            accepted = RingStressSupport.offerAll(ring, N);
        }

        void consume(II_Result r) {
            for (int i = 0; i < N; i++) {
                Integer e = ring.poll();
                if (e != null) {
                    taken[takenCount++] = e;
                }
            }
            r.r2 = takenCount;
        }

        void judge(II_Result r) {
            r.r1 = RingStressSupport.verdict(ring, accepted, N, taken, takenCount);
        }
    }

    @JCStressTest
    @Description("SpscRing capacity 1: 5 offers against 5 polls")
    @Outcome(id = {"1, 0", "1, 1", "1, 2", "1, 3", "1, 4"}, expect = ACCEPTABLE, desc = "consistent history")
    @Outcome(id = "1, 5", expect = ACCEPTABLE_INTERESTING, desc = "consistent, and the consumer kept pace with every offer")
    @Outcome(expect = FORBIDDEN, desc = "lost, duplicated, reordered, invented, retained or refused while not full")
    @State
    public static class RingSequenceCapacity1 extends Sequence {
        public RingSequenceCapacity1() {
            super(1, 0);
        }

        @Actor
        public void producer() {
            produce();
        }

        @Actor
        public void consumer(II_Result r) {
            consume(r);
        }

        @Arbiter
        public void arbiter(II_Result r) {
            judge(r);
        }
    }

    @JCStressTest
    @Description("SpscRing capacity 2, indices wound by 1: 5 offers against 5 polls across the wrap")
    @Outcome(id = {"1, 0", "1, 1", "1, 2", "1, 3", "1, 4"}, expect = ACCEPTABLE, desc = "consistent history")
    @Outcome(id = "1, 5", expect = ACCEPTABLE_INTERESTING, desc = "consistent, consumer took all")
    @Outcome(expect = FORBIDDEN, desc = "lost, duplicated, reordered, invented, retained or refused while not full")
    @State
    public static class RingSequenceCapacity2Wrapped extends Sequence {
        public RingSequenceCapacity2Wrapped() {
            super(2, 1);
        }

        @Actor
        public void producer() {
            produce();
        }

        @Actor
        public void consumer(II_Result r) {
            consume(r);
        }

        @Arbiter
        public void arbiter(II_Result r) {
            judge(r);
        }
    }

    @JCStressTest
    @Description("SpscRing capacity 4, indices wound by 3: 5 offers against 5 polls across the wrap")
    @Outcome(id = {"1, 0", "1, 1", "1, 2", "1, 3", "1, 4"}, expect = ACCEPTABLE, desc = "consistent history")
    @Outcome(id = "1, 5", expect = ACCEPTABLE_INTERESTING, desc = "consistent, consumer took all")
    @Outcome(expect = FORBIDDEN, desc = "lost, duplicated, reordered, invented, retained or refused while not full")
    @State
    public static class RingSequenceCapacity4Wrapped extends Sequence {
        public RingSequenceCapacity4Wrapped() {
            super(4, 3);
        }

        @Actor
        public void producer() {
            produce();
        }

        @Actor
        public void consumer(II_Result r) {
            consume(r);
        }

        @Arbiter
        public void arbiter(II_Result r) {
            judge(r);
        }
    }

    @JCStressTest
    @Description("SpscRing capacity 64 (larger than the burst), wound by 62: 5 offers against 5 polls")
    @Outcome(id = {"1, 0", "1, 1", "1, 2", "1, 3", "1, 4", "1, 5"}, expect = ACCEPTABLE, desc = "consistent history")
    @Outcome(expect = FORBIDDEN, desc = "lost, duplicated, reordered, invented, retained or refused while not full")
    @State
    public static class RingSequenceCapacity64Wrapped extends Sequence {
        public RingSequenceCapacity64Wrapped() {
            super(64, 62);
        }

        @Actor
        public void producer() {
            produce();
        }

        @Actor
        public void consumer(II_Result r) {
            consume(r);
        }

        @Arbiter
        public void arbiter(II_Result r) {
            judge(r);
        }
    }

    /**
     * size() read by each side while the other side races it (jcstress runs only as many actors
     * as there are CPUs; this machine has 2, so no third observer thread).
     * r1: size seen by the producer after its offers, r2: size seen by the consumer after its polls.
     */
    @JCStressTest
    @Description("SpscRing size() read by producer and consumer while racing stays within [0, capacity]")
    @Outcome(id = {"0, 0", "0, 1", "0, 2", "1, 0", "1, 1", "1, 2", "2, 0", "2, 1", "2, 2"},
            expect = ACCEPTABLE, desc = "in range")
    @Outcome(expect = FORBIDDEN, desc = "out of range")
    @State
    public static class RingSizeRace {
        final SpscRing<Integer> ring = new SpscRing<>(2);

        public RingSizeRace() {
            ring.offer(0);
        }

        @Actor
        public void producer(II_Result r) {
            ring.offer(1);
            ring.offer(2);
            r.r1 = ring.size();
        }

        @Actor
        public void consumer(II_Result r) {
            ring.poll();
            ring.poll();
            r.r2 = ring.size();
        }
    }
}
