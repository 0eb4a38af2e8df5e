package dev.framepipe.ring;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/** Batch drain against concurrent offers. */
public final class SpscRingDrainStress {

    private SpscRingDrainStress() {
    }

    /**
     * Capacity 4 wound by 3, holding 1 and 2 (crossing the wrap). The producer offers 3..6 (at
     * most two fit unless the drain frees slots); the consumer drains with limit 3, twice.
     * r1: verdict of the whole history; r2: elements drained by the consumer actor.
     */
    @JCStressTest
    @Description("SpscRing.drain(limit 3) twice against 4 concurrent offers, across the wrap")
    @Outcome(id = {"1, 2", "1, 3", "1, 4", "1, 5", "1, 6"}, expect = ACCEPTABLE, desc = "consistent history")
    @Outcome(expect = FORBIDDEN, desc = "lost, duplicated, reordered, retained, over the limit, or refused while not full")
    @State
    public static class RingDrainAgainstOffer {
        static final int N = 6;
        final SpscRing<Integer> ring = new SpscRing<>(4);
        final int[] taken = new int[N];
        int takenCount;
        int accepted;
        boolean overLimit;

        public RingDrainAgainstOffer() {
            RingStressSupport.wind(ring, 3);
            ring.offer(1);
            ring.offer(2);
        }

        @Actor
        public void producer() {
            int mask = 0b11; // 1 and 2 are in already
            for (int v = 3; v <= N; v++) {
                if (ring.offer(v)) {
                    mask |= 1 << (v - 1);
                }
            }
            accepted = mask;
        }

        @Actor
        public void consumer(II_Result r) {
            for (int round = 0; round < 2; round++) {
                int before = takenCount;
                int n = ring.drain(e -> taken[takenCount++] = e, 3);
                if (n > 3 || n != takenCount - before) {
                    overLimit = true;
                }
            }
            r.r2 = takenCount;
        }

        @Arbiter
        public void arbiter(II_Result r) {
            r.r1 = overLimit ? 0 : RingStressSupport.verdict(ring, accepted, N, taken, takenCount);
        }
    }
}
