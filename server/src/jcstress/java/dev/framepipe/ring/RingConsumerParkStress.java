package dev.framepipe.ring;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The parking handshake of {@link RingConsumer}: a running drain found the ring empty and
 * announces that it will park ({@code announcePark()}: publish its thread, full fence, look at
 * the ring again), while the producer offers an element and signals ({@code signalDrain()}: full
 * fence, then the state - still SCHEDULED - and the parked thread). Nothing parks here: the
 * outcome says what each side would do. The drain must either see the element (and not park) or
 * be unparked by the producer; a drain that parks with the element unseen and no unpark coming is
 * a lost wake-up, stranded until the park times out.
 *
 * <p>Outcome r1: what the producer's signal did (0 nothing, 1 claimed an idle drain, 2 unparked
 * the drain); r2: 1 if the drain found the ring empty (it would park); r3: elements left in the
 * ring at the end.
 */
@JCStressTest
@Description("RingConsumer: an offer racing a drain's announcement that it parks")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "the producer looked first; the drain sees the element and drains on")
@Outcome(id = "2, 1, 1", expect = ACCEPTABLE, desc = "the drain announced first; the producer unparks it")
@Outcome(id = "2, 0, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "both saw each other: the drain drains on, the unpark leaves a permit (one spurious wake-up)")
@Outcome(id = "0, 1, 1", expect = FORBIDDEN, desc = "lost wake-up: the drain parks with the element unseen, nobody unparks it")
@Outcome(expect = FORBIDDEN, desc = "a parked (scheduled) drain claimed again, or the element lost")
@State
public class RingConsumerParkStress {

    private final SpscRing<Integer> ring = new SpscRing<>(4);
    private final RingConsumer<Integer> consumer = new RingConsumer<>(ring, ForkJoinPool.commonPool(),
            new RingConsumer.BatchHandler<Integer>() {
                @Override
                public void onElement(Integer e) {
                }

                @Override
                public void onBatchEnd() {
                }
            }, 4, TimeUnit.SECONDS.toNanos(1));

    public RingConsumerParkStress() {
        if (!consumer.claimDrain()) { // the drain is now "scheduled": the drain actor is it
            throw new IllegalStateException("fresh consumer must be idle");
        }
    }

    @Actor
    public void producer(III_Result r) {
        if (!ring.offer(1)) {
            throw new IllegalStateException("test ring sized never to fill");
        }
        r.r1 = consumer.signalDrain();
    }

    @Actor
    public void drain(III_Result r) {
        r.r2 = consumer.announcePark() ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        r.r3 = ring.size();
    }
}
