package dev.framepipe.ring;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.SpscArrayQueue;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
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
import org.openjdk.jmh.infra.Control;

/**
 * SpscRing against JCTools SpscArrayQueue and ArrayBlockingQueue, all in one run:
 * <ul>
 *   <li>{@code throughput_*}: one producer thread, one consumer thread (JMH group 1+1). Each
 *       invocation is one successful offer (or poll); a full (empty) queue is retried (spin,
 *       then yield: {@link #backOff}) until it succeeds or the iteration ends. The poll method's score is the
 *       hand-off rate; the group score is offers + polls.</li>
 *   <li>{@code drain_*}: the same producer against a consumer that takes up to
 *       {@link #DRAIN_LIMIT} elements per call with the queue's own {@code drain}, as
 *       RingConsumer does in the pipeline; the {@code elements} counter is the hand-off rate.</li>
 *   <li>{@code pingPong_*}: round trip of one token through two queues, ping thread and pong
 *       thread both spinning (SampleTime, ns per round trip). Read the median (p50): on 2 busy
 *       cores, a round trip in which either thread was descheduled takes
 *       milliseconds, and a handful of those dominate an average.</li>
 *   <li>{@code ringConsumer_*}: the producer side of RingConsumer (ring offer + full fence +
 *       scheduled check) with the drain on a 1-worker ForkJoinPool, and the round trip of a token
 *       through a RingConsumer whose handler answers on a second ring: the cost of a wake-up.</li>
 * </ul>
 * {@code *_ring} benchmarks run SpscRing on its Unsafe slot access (the class's {@code @Fork}
 * grants the export, as the product's jar manifest does); {@code *_ringVarHandle} run the same
 * class in forks that force its VarHandle path, so one run compares the two. Each ring state
 * checks at set-up that its fork uses the path it is named for.
 * Elements are preallocated Integers, so every allocation that {@code -prof gc} reports is the
 * queue's. Each queue type has its own benchmark methods and state classes so that every call
 * site stays monomorphic in the single forked JVM.
 *
 * <pre>
 * ./mvnw -Pjmh -DskipTests package
 * java -jar target/benchmarks.jar 'dev.framepipe.ring.RingBenchmark' -f 1 -wi 3 -w 1s -i 5 -r 1s -prof gc
 * </pre>
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = RingBenchmark.EXPORT)
public class RingBenchmark {

    /** Lets SpscRing reach the internal Unsafe (ring/UnsafeSlots.java), as the product's jar does. */
    static final String EXPORT = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";
    /** The same ring on its VarHandle path, in forks of its own (the choice is per JVM). */
    static final String VARHANDLE = "-Dframepipe.ring.slots=varhandle";

    /** Numbers from the wrong path would be quietly wrong: each ring state checks its JVM's. */
    static void expectSlotAccess(String prefix) {
        if (!SpscRing.slotAccess().startsWith(prefix)) {
            throw new IllegalStateException("expected " + prefix + " slot access, this fork has " + SpscRing.slotAccess());
        }
    }

    static final int CAPACITY = 1024;
    /** Spins before yielding: 2 shared cores, so a waiting thread must let its partner run. */
    static final int SPINS = 256;
    static final Integer TOKEN = 7;

    /**
     * The same back-off for every queue: spin briefly, then yield. On a busy 2-core
     * machine, a pure spin burns the time slice its descheduled partner needs, and the
     * scores then measure the scheduler rather than the queue.
     */
    static void backOff(int idle) {
        if (idle < SPINS) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    // SpscRing's loops, shared by its Unsafe and VarHandle benchmarks: the same class, one path
    // per fork, so the call sites stay monomorphic either way.

    static void ringOffer(SpscRing<Integer> q, Control ctl) {
        for (int idle = 0; !q.offer(TOKEN) && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
    }

    static Integer ringPoll(SpscRing<Integer> q, Control ctl) {
        Integer e;
        for (int idle = 0; (e = q.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        return e;
    }

    static int ringBurst(SpscRing<Integer> q) {
        for (int i = 0; i < BURST; i++) {
            q.offer(TOKEN);
        }
        int sum = 0;
        for (int i = 0; i < BURST; i++) {
            sum += q.poll();
        }
        return sum;
    }

    // ---- throughput -------------------------------------------------------------------------

    @State(Scope.Group)
    public static class RingQ {
        final SpscRing<Integer> q = new SpscRing<>(CAPACITY);

        String slots() {
            return "unsafe";
        }

        @Setup(Level.Trial)
        public void check() {
            expectSlotAccess(slots());
        }
    }

    @State(Scope.Group)
    public static class RingVhQ extends RingQ {
        @Override
        String slots() {
            return "varhandle";
        }
    }

    /** The first SpscRing design (each side caches the other's index), benchmark-only. */
    @State(Scope.Group)
    public static class CiQ {
        final CachedIndexRing<Integer> q = new CachedIndexRing<>(CAPACITY);
    }

    @State(Scope.Group)
    public static class JcQ {
        final SpscArrayQueue<Integer> q = new SpscArrayQueue<>(CAPACITY);
    }

    @State(Scope.Group)
    public static class AbQ {
        final ArrayBlockingQueue<Integer> q = new ArrayBlockingQueue<>(CAPACITY);
    }

    @Benchmark
    @Group("throughput_ring")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public void ringOffer(RingQ s, Control ctl) {
        ringOffer(s.q, ctl);
    }

    @Benchmark
    @Group("throughput_ring")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public Integer ringPoll(RingQ s, Control ctl) {
        return ringPoll(s.q, ctl);
    }

    @Benchmark
    @Group("throughput_ringVarHandle")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @Fork(value = 1, jvmArgsAppend = {EXPORT, VARHANDLE})
    public void ringVhOffer(RingVhQ s, Control ctl) {
        ringOffer(s.q, ctl);
    }

    @Benchmark
    @Group("throughput_ringVarHandle")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @Fork(value = 1, jvmArgsAppend = {EXPORT, VARHANDLE})
    public Integer ringVhPoll(RingVhQ s, Control ctl) {
        return ringPoll(s.q, ctl);
    }

    @Benchmark
    @Group("throughput_cachedIndex")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public void cachedIndexOffer(CiQ s, Control ctl) {
        for (int idle = 0; !s.q.offer(TOKEN) && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
    }

    @Benchmark
    @Group("throughput_cachedIndex")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public Integer cachedIndexPoll(CiQ s, Control ctl) {
        Integer e;
        for (int idle = 0; (e = s.q.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        return e;
    }

    @Benchmark
    @Group("throughput_jctools")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public void jctoolsOffer(JcQ s, Control ctl) {
        jctoolsOffer(s.q, ctl);
    }

    static void jctoolsOffer(SpscArrayQueue<Integer> q, Control ctl) {
        for (int idle = 0; !q.offer(TOKEN) && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
    }

    @Benchmark
    @Group("throughput_jctools")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public Integer jctoolsPoll(JcQ s, Control ctl) {
        Integer e;
        for (int idle = 0; (e = s.q.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        return e;
    }

    @Benchmark
    @Group("throughput_abq")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public void abqOffer(AbQ s, Control ctl) {
        for (int idle = 0; !s.q.offer(TOKEN) && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
    }

    @Benchmark
    @Group("throughput_abq")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public Integer abqPoll(AbQ s, Control ctl) {
        Integer e;
        for (int idle = 0; (e = s.q.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        return e;
    }

    // ---- throughput with a batch-draining consumer, as the pipeline's worker consumes ---------

    /** Elements a drain may take per call: RingConsumer's batch limit in the pipeline. */
    static final int DRAIN_LIMIT = 64;

    /**
     * The consumer's element count: an invocation of a drain benchmark moves 0 to DRAIN_LIMIT
     * elements, so JMH's invocation count says nothing; this counter is reported as ops/us.
     */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Drained {
        public long elements;
        /** Made at set-up: a lambda per invocation would allocate on the measured path. */
        Consumer<Integer> ringSink;
        MessagePassingQueue.Consumer<Integer> jctoolsSink;

        @Setup(Level.Iteration)
        public void start(Blackhole bh) {
            elements = 0;
            ringSink = bh::consume;
            jctoolsSink = bh::consume;
        }
    }

    @Benchmark
    @Group("drain_ring")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public void drainRingOffer(RingQ s, Control ctl) {
        ringOffer(s.q, ctl);
    }

    @Benchmark
    @Group("drain_ring")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public void drainRingDrain(RingQ s, Drained d, Control ctl) {
        int n;
        for (int idle = 0; (n = s.q.drain(d.ringSink, DRAIN_LIMIT)) == 0 && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        d.elements += n;
    }

    @Benchmark
    @Group("drain_jctools")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public void drainJctoolsOffer(JcQ s, Control ctl) {
        jctoolsOffer(s.q, ctl);
    }

    @Benchmark
    @Group("drain_jctools")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    public void drainJctoolsDrain(JcQ s, Drained d, Control ctl) {
        int n;
        for (int idle = 0; (n = s.q.drain(d.jctoolsSink, DRAIN_LIMIT)) == 0 && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        d.elements += n;
    }

    // ---- one thread: the instructions of offer + poll, no cross-core traffic ----------------

    /** Elements per invocation of the single-thread benchmarks: offered, then polled. */
    static final int BURST = 64;

    @State(Scope.Thread)
    public static class RingSolo {
        final SpscRing<Integer> q = new SpscRing<>(CAPACITY);

        String slots() {
            return "unsafe";
        }

        @Setup(Level.Trial)
        public void check() {
            expectSlotAccess(slots());
        }
    }

    @State(Scope.Thread)
    public static class RingVhSolo extends RingSolo {
        @Override
        String slots() {
            return "varhandle";
        }
    }

    @State(Scope.Thread)
    public static class JcSolo {
        final SpscArrayQueue<Integer> q = new SpscArrayQueue<>(CAPACITY);
    }

    @State(Scope.Thread)
    public static class AbSolo {
        final ArrayBlockingQueue<Integer> q = new ArrayBlockingQueue<>(CAPACITY);
    }

    /**
     * Offer BURST then poll BURST on one thread: ns per operation with every line in L1. Needs
     * one core only, so it is the number least disturbed by other load on the machine.
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @OperationsPerInvocation(2 * BURST)
    public int singleThread_ring(RingSolo s) {
        return ringBurst(s.q);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @OperationsPerInvocation(2 * BURST)
    @Fork(value = 1, jvmArgsAppend = {EXPORT, VARHANDLE})
    public int singleThread_ringVarHandle(RingVhSolo s) {
        return ringBurst(s.q);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @OperationsPerInvocation(2 * BURST)
    public int singleThread_jctools(JcSolo s) {
        for (int i = 0; i < BURST; i++) {
            s.q.offer(TOKEN);
        }
        int sum = 0;
        for (int i = 0; i < BURST; i++) {
            sum += s.q.poll();
        }
        return sum;
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @OperationsPerInvocation(2 * BURST)
    public int singleThread_abq(AbSolo s) {
        for (int i = 0; i < BURST; i++) {
            s.q.offer(TOKEN);
        }
        int sum = 0;
        for (int i = 0; i < BURST; i++) {
            sum += s.q.poll();
        }
        return sum;
    }

    // ---- ping-pong round trip --------------------------------------------------------------

    @State(Scope.Group)
    public static class RingPair {
        final SpscRing<Integer> there = new SpscRing<>(CAPACITY);
        final SpscRing<Integer> back = new SpscRing<>(CAPACITY);

        String slots() {
            return "unsafe";
        }

        @Setup(Level.Trial)
        public void check() {
            expectSlotAccess(slots());
        }

        /** A token stranded by the end of the last iteration would double the tokens in flight. */
        @Setup(Level.Iteration)
        public void clear() {
            while (there.poll() != null) { }
            while (back.poll() != null) { }
        }
    }

    @State(Scope.Group)
    public static class RingVhPair extends RingPair {
        @Override
        String slots() {
            return "varhandle";
        }
    }

    @State(Scope.Group)
    public static class CiPair {
        final CachedIndexRing<Integer> there = new CachedIndexRing<>(CAPACITY);
        final CachedIndexRing<Integer> back = new CachedIndexRing<>(CAPACITY);

        @Setup(Level.Iteration)
        public void clear() {
            while (there.poll() != null) { }
            while (back.poll() != null) { }
        }
    }

    @State(Scope.Group)
    public static class JcPair {
        final SpscArrayQueue<Integer> there = new SpscArrayQueue<>(CAPACITY);
        final SpscArrayQueue<Integer> back = new SpscArrayQueue<>(CAPACITY);

        @Setup(Level.Iteration)
        public void clear() {
            there.clear();
            back.clear();
        }
    }

    @State(Scope.Group)
    public static class AbPair {
        final ArrayBlockingQueue<Integer> there = new ArrayBlockingQueue<>(CAPACITY);
        final ArrayBlockingQueue<Integer> back = new ArrayBlockingQueue<>(CAPACITY);

        @Setup(Level.Iteration)
        public void clear() {
            there.clear();
            back.clear();
        }
    }

    @Benchmark
    @Group("pingPong_ring")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Integer ringPing(RingPair s, Control ctl) {
        s.there.offer(TOKEN);
        return ringPoll(s.back, ctl);
    }

    @Benchmark
    @Group("pingPong_ring")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void ringPong(RingPair s, Control ctl) {
        Integer e = ringPoll(s.there, ctl);
        if (e != null) {
            s.back.offer(e);
        }
    }

    @Benchmark
    @Group("pingPong_ringVarHandle")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Fork(value = 1, jvmArgsAppend = {EXPORT, VARHANDLE})
    public Integer ringVhPing(RingVhPair s, Control ctl) {
        s.there.offer(TOKEN);
        return ringPoll(s.back, ctl);
    }

    @Benchmark
    @Group("pingPong_ringVarHandle")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Fork(value = 1, jvmArgsAppend = {EXPORT, VARHANDLE})
    public void ringVhPong(RingVhPair s, Control ctl) {
        Integer e = ringPoll(s.there, ctl);
        if (e != null) {
            s.back.offer(e);
        }
    }

    @Benchmark
    @Group("pingPong_cachedIndex")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Integer cachedIndexPing(CiPair s, Control ctl) {
        s.there.offer(TOKEN);
        Integer e;
        for (int idle = 0; (e = s.back.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        return e;
    }

    @Benchmark
    @Group("pingPong_cachedIndex")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void cachedIndexPong(CiPair s, Control ctl) {
        Integer e;
        for (int idle = 0; (e = s.there.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        if (e != null) {
            s.back.offer(e);
        }
    }

    @Benchmark
    @Group("pingPong_jctools")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Integer jctoolsPing(JcPair s, Control ctl) {
        s.there.offer(TOKEN);
        Integer e;
        for (int idle = 0; (e = s.back.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        return e;
    }

    @Benchmark
    @Group("pingPong_jctools")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void jctoolsPong(JcPair s, Control ctl) {
        Integer e;
        for (int idle = 0; (e = s.there.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        if (e != null) {
            s.back.offer(e);
        }
    }

    @Benchmark
    @Group("pingPong_abq")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Integer abqPing(AbPair s, Control ctl) {
        s.there.offer(TOKEN);
        Integer e;
        for (int idle = 0; (e = s.back.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        return e;
    }

    @Benchmark
    @Group("pingPong_abq")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void abqPong(AbPair s, Control ctl) {
        Integer e;
        for (int idle = 0; (e = s.there.poll()) == null && !ctl.stopMeasurement; idle++) {
            backOff(idle);
        }
        if (e != null) {
            s.back.offer(e);
        }
    }

    // ---- RingConsumer: mailbox drain on a ForkJoinPool ----------------------------------------

    /**
     * A 1-worker pool draining into a Blackhole; the benchmark thread is the event loop.
     * {@code idleParkNanos}: 0 returns the pool thread after each burst, 50 ms is what the
     * pipeline's lanes use (the drain parks in place between bursts).
     */
    @State(Scope.Thread)
    public static class Mailbox {
        @Param({"0", "50000000"})
        long idleParkNanos;
        ForkJoinPool pool;
        RingConsumer<Integer> consumer;

        @Setup(Level.Trial)
        public void start(Blackhole bh) {
            pool = new ForkJoinPool(1);
            consumer = new RingConsumer<>(new SpscRing<>(CAPACITY), pool, new RingConsumer.BatchHandler<>() {
                @Override
                public void onElement(Integer e) {
                    bh.consume(e);
                }

                @Override
                public void onBatchEnd() {
                }
            }, 64, idleParkNanos);
        }

        @TearDown(Level.Trial)
        public void stop() {
            pool.shutdownNow();
        }
    }

    /** Offers through RingConsumer, retrying while full: producer cost incl. fence and wake-ups. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    public void ringConsumer_offer(Mailbox s) {
        for (int idle = 0; !s.consumer.offer(TOKEN); idle++) {
            backOff(idle);
        }
    }

    /**
     * The pong side is a RingConsumer whose handler answers on a second ring: each round trip
     * wakes the drain up from idle (idleParkNanos 0: submission, worker unpark, drain,
     * unschedule; 50 ms: unpark of the parked drain, drain, park).
     */
    @State(Scope.Thread)
    public static class MailboxPingPong {
        @Param({"0", "50000000"})
        long idleParkNanos;
        ForkJoinPool pool;
        RingConsumer<Integer> there;
        SpscRing<Integer> back;

        @Setup(Level.Trial)
        public void start() {
            pool = new ForkJoinPool(1);
            back = new SpscRing<>(CAPACITY);
            there = new RingConsumer<>(new SpscRing<>(CAPACITY), pool, new RingConsumer.BatchHandler<>() {
                @Override
                public void onElement(Integer e) {
                    back.offer(e);
                }

                @Override
                public void onBatchEnd() {
                }
            }, 64, idleParkNanos);
        }

        @TearDown(Level.Trial)
        public void stop() {
            pool.shutdownNow();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Integer ringConsumer_roundTrip(MailboxPingPong s) {
        s.there.offer(TOKEN);
        Integer e;
        for (int idle = 0; (e = s.back.poll()) == null; idle++) {
            backOff(idle);
        }
        return e;
    }
}
