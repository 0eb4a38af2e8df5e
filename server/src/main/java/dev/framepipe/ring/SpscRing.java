package dev.framepipe.ring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.function.Consumer;

/*
 * Field layout
 * ------------
 * HotSpot lays out a class's own fields after all of its superclass's fields (a subclass may
 * only fill alignment holes the superclass left, never move a superclass field). So the only
 * portable way to put fields on different cache lines, without -XX:-RestrictContended for
 * @Contended, is a chain of abstract classes that alternate "padding" and "fields", as JCTools
 * does. The resulting object (checked with JOL, see docs/performance-ring.md):
 *
 *   header | pad0 128 B | buffer, mask, lookAheadStep (cold: final, read by both sides)
 *          | pad1 128 B | producerIndex, producerLimit, producerOwner (written by the producer)
 *          | pad2 128 B | consumerIndex, consumerOwner (written by the consumer)
 *          | pad3 128 B
 *
 * 128 bytes, not 64: Intel's adjacent-line ("spatial") prefetcher fetches cache lines in
 * 128-byte aligned pairs, so two hot fields 64 bytes apart still ping-pong. The first pad keeps
 * the cold fields off a line that a neighbouring object (allocated just before this ring) may be
 * writing; the last keeps the consumer's fields off the next object's line.
 *
 * Padding is made of byte fields so the padding is exactly 128 bytes whatever the field
 * packing; no other code touches them.
 */

abstract class SpscRingPad0 {
    byte p0000, p0001, p0002, p0003, p0004, p0005, p0006, p0007, p0008, p0009, p0010, p0011, p0012, p0013, p0014, p0015;
    byte p0100, p0101, p0102, p0103, p0104, p0105, p0106, p0107, p0108, p0109, p0110, p0111, p0112, p0113, p0114, p0115;
    byte p0200, p0201, p0202, p0203, p0204, p0205, p0206, p0207, p0208, p0209, p0210, p0211, p0212, p0213, p0214, p0215;
    byte p0300, p0301, p0302, p0303, p0304, p0305, p0306, p0307, p0308, p0309, p0310, p0311, p0312, p0313, p0314, p0315;
    byte p0400, p0401, p0402, p0403, p0404, p0405, p0406, p0407, p0408, p0409, p0410, p0411, p0412, p0413, p0414, p0415;
    byte p0500, p0501, p0502, p0503, p0504, p0505, p0506, p0507, p0508, p0509, p0510, p0511, p0512, p0513, p0514, p0515;
    byte p0600, p0601, p0602, p0603, p0604, p0605, p0606, p0607, p0608, p0609, p0610, p0611, p0612, p0613, p0614, p0615;
    byte p0700, p0701, p0702, p0703, p0704, p0705, p0706, p0707, p0708, p0709, p0710, p0711, p0712, p0713, p0714, p0715;
}

/** Cold, immutable after construction: published by the final-field semantics of the constructor. */
abstract class SpscRingColdFields<E> extends SpscRingPad0 {
    /**
     * Slots, with {@link SpscRingColdFields#SLOT_PAD} unused slots at each end so that the first and
     * last live slots never share a cache line pair with the array header or the next object.
     */
    final Object[] buffer;
    /** capacity - 1; an index maps to its slot as {@code SLOT_PAD + (index & mask)}. */
    final long mask;
    /**
     * How far ahead the producer probes for a free slot when its limit runs out: a quarter of
     * the ring (at most 4096), 0 for capacities 1 and 2 where only the next slot is probed.
     */
    final int lookAheadStep;

    /**
     * Unused slots at each end of {@code buffer}: 32 references are 128 bytes with compressed oops
     * (the default below 32 GiB of heap) and 256 bytes without, at least one prefetch pair either way.
     */
    static final int SLOT_PAD = 32;

    SpscRingColdFields(int capacity) {
        if (capacity < 1 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two >= 1, was " + capacity);
        }
        if (capacity > (1 << 30)) {
            throw new IllegalArgumentException("capacity must be <= 2^30, was " + capacity);
        }
        this.buffer = new Object[capacity + 2 * SLOT_PAD];
        this.mask = capacity - 1;
        this.lookAheadStep = Math.min(capacity / 4, 4096);
    }

}

abstract class SpscRingPad1<E> extends SpscRingColdFields<E> {
    byte p1000, p1001, p1002, p1003, p1004, p1005, p1006, p1007, p1008, p1009, p1010, p1011, p1012, p1013, p1014, p1015;
    byte p1100, p1101, p1102, p1103, p1104, p1105, p1106, p1107, p1108, p1109, p1110, p1111, p1112, p1113, p1114, p1115;
    byte p1200, p1201, p1202, p1203, p1204, p1205, p1206, p1207, p1208, p1209, p1210, p1211, p1212, p1213, p1214, p1215;
    byte p1300, p1301, p1302, p1303, p1304, p1305, p1306, p1307, p1308, p1309, p1310, p1311, p1312, p1313, p1314, p1315;
    byte p1400, p1401, p1402, p1403, p1404, p1405, p1406, p1407, p1408, p1409, p1410, p1411, p1412, p1413, p1414, p1415;
    byte p1500, p1501, p1502, p1503, p1504, p1505, p1506, p1507, p1508, p1509, p1510, p1511, p1512, p1513, p1514, p1515;
    byte p1600, p1601, p1602, p1603, p1604, p1605, p1606, p1607, p1608, p1609, p1610, p1611, p1612, p1613, p1614, p1615;
    byte p1700, p1701, p1702, p1703, p1704, p1705, p1706, p1707, p1708, p1709, p1710, p1711, p1712, p1713, p1714, p1715;
    SpscRingPad1(int capacity) {
        super(capacity);
    }
}

/** Fields the producer writes. The consumer reads only {@code producerIndex}. */
abstract class SpscRingProducerFields<E> extends SpscRingPad1<E> {
    /**
     * Count of elements ever offered; the next element goes to slot {@code producerIndex & mask}.
     * Written only by the producer, with a release store AFTER the element's store into its slot.
     * Read (getAcquire) only by size(), isEmpty() and RingConsumer's wake-up re-check - never on
     * the consumer's hot path, which looks at the slot itself. The producer reads it plainly.
     */
    long producerIndex;
    /**
     * Producer-private (plain reads and writes): the producer's cached view of the consumer's
     * progress - every index below it is known to have a free slot. It is refreshed, when
     * producerIndex reaches it, by probing the slot {@code lookAheadStep} ahead (getAcquire): a
     * null there proves the consumer has emptied every slot up to it. While producerIndex is
     * below the limit, offer reads no line the consumer writes.
     */
    long producerLimit;
    /**
     * Debug only (touched only under {@code assert}): the producer thread, recorded by the first
     * offer with a CAS; read with getAcquire.
     */
    Thread producerOwner;

    SpscRingProducerFields(int capacity) {
        super(capacity);
    }
}

abstract class SpscRingPad2<E> extends SpscRingProducerFields<E> {
    byte p2000, p2001, p2002, p2003, p2004, p2005, p2006, p2007, p2008, p2009, p2010, p2011, p2012, p2013, p2014, p2015;
    byte p2100, p2101, p2102, p2103, p2104, p2105, p2106, p2107, p2108, p2109, p2110, p2111, p2112, p2113, p2114, p2115;
    byte p2200, p2201, p2202, p2203, p2204, p2205, p2206, p2207, p2208, p2209, p2210, p2211, p2212, p2213, p2214, p2215;
    byte p2300, p2301, p2302, p2303, p2304, p2305, p2306, p2307, p2308, p2309, p2310, p2311, p2312, p2313, p2314, p2315;
    byte p2400, p2401, p2402, p2403, p2404, p2405, p2406, p2407, p2408, p2409, p2410, p2411, p2412, p2413, p2414, p2415;
    byte p2500, p2501, p2502, p2503, p2504, p2505, p2506, p2507, p2508, p2509, p2510, p2511, p2512, p2513, p2514, p2515;
    byte p2600, p2601, p2602, p2603, p2604, p2605, p2606, p2607, p2608, p2609, p2610, p2611, p2612, p2613, p2614, p2615;
    byte p2700, p2701, p2702, p2703, p2704, p2705, p2706, p2707, p2708, p2709, p2710, p2711, p2712, p2713, p2714, p2715;
    SpscRingPad2(int capacity) {
        super(capacity);
    }
}

/** Fields the consumer writes. The producer reads only {@code consumerIndex}. */
abstract class SpscRingConsumerFields<E> extends SpscRingPad2<E> {
    /**
     * Count of elements ever taken; the next element comes from slot {@code consumerIndex & mask}.
     * Written only by the consumer, with a release store after the slot was read and nulled.
     * Read (getAcquire) only by size() and isEmpty(); the producer's hot path never reads it
     * (it probes slots instead). The consumer reads it plainly.
     */
    long consumerIndex;
    /**
     * Debug only (touched only under {@code assert}): the thread that currently holds the
     * consumer role, claimed with a CAS from null by the first poll/drain and handed back to null
     * by {@link SpscRing#releaseConsumerRole()} (RingConsumer does that at the end of each drain
     * run, since its drain runs on whichever pool thread picks it up).
     */
    Thread consumerOwner;

    SpscRingConsumerFields(int capacity) {
        super(capacity);
    }
}

abstract class SpscRingPad3<E> extends SpscRingConsumerFields<E> {
    byte p3000, p3001, p3002, p3003, p3004, p3005, p3006, p3007, p3008, p3009, p3010, p3011, p3012, p3013, p3014, p3015;
    byte p3100, p3101, p3102, p3103, p3104, p3105, p3106, p3107, p3108, p3109, p3110, p3111, p3112, p3113, p3114, p3115;
    byte p3200, p3201, p3202, p3203, p3204, p3205, p3206, p3207, p3208, p3209, p3210, p3211, p3212, p3213, p3214, p3215;
    byte p3300, p3301, p3302, p3303, p3304, p3305, p3306, p3307, p3308, p3309, p3310, p3311, p3312, p3313, p3314, p3315;
    byte p3400, p3401, p3402, p3403, p3404, p3405, p3406, p3407, p3408, p3409, p3410, p3411, p3412, p3413, p3414, p3415;
    byte p3500, p3501, p3502, p3503, p3504, p3505, p3506, p3507, p3508, p3509, p3510, p3511, p3512, p3513, p3514, p3515;
    byte p3600, p3601, p3602, p3603, p3604, p3605, p3606, p3607, p3608, p3609, p3610, p3611, p3612, p3613, p3614, p3615;
    byte p3700, p3701, p3702, p3703, p3704, p3705, p3706, p3707, p3708, p3709, p3710, p3711, p3712, p3713, p3714, p3715;
    SpscRingPad3(int capacity) {
        super(capacity);
    }
}

/**
 * Bounded single-producer/single-consumer ring of references, in the FastFlow/JCTools style:
 * the slots themselves are the full/empty flags, the producer keeps a cached limit (its view of
 * the consumer's progress, refreshed by probing a slot a quarter of the ring ahead), the two
 * sides' fields sit on separate cache-line pairs, and all ordering is release/acquire (through
 * VarHandles, or their unchecked equivalents: see "Slot access"). In the common case offer
 * touches only its own fields and the slot it fills, and poll only its own field and the slot it
 * empties.
 *
 * <p>The first design had each side cache the other side's index (a Lamport ring). Whenever
 * such a cache runs out - every element when the ring runs near-empty or near-full - the reader
 * pulls the other side's index line, which that side writes on every operation: one more shared
 * line per element than here, where the slot (shared anyway) is the flag. On this project's
 * shared 2-core machine the two measured within noise of each other; the slot design was kept
 * for that structural advantage. See docs/performance-ring.md.
 *
 * <h2>Threading contract</h2>
 * <ul>
 *   <li>{@link #offer} is called by ONE producer thread, always the same one.</li>
 *   <li>{@link #poll} and {@link #drain} are called by ONE consumer thread. The consumer role may
 *       move to another thread only through {@link RingConsumer}, which hands it over with a
 *       happens-before edge between drain runs.</li>
 *   <li>{@link #size}, {@link #isEmpty} and {@link #capacity} may be called by any thread; size
 *       and isEmpty are snapshots, exact only when the ring is quiescent.</li>
 * </ul>
 * With assertions enabled ({@code -ea}, as in tests) a second producer or a concurrent second
 * consumer fails with an {@link AssertionError}; without, the checks cost nothing.
 *
 * <h2>Memory ordering</h2>
 * An element stored by {@code offer} happens-before the {@code poll} or {@code drain} that
 * returns it (release store of the element into its slot, acquire load by the consumer). The
 * consumer's taking of an element happens-before the producer's reuse of its slot (release store
 * of null, acquire probe by the producer). Slots are nulled when taken, so the ring retains no
 * element. The indices are published with release stores for size() and isEmpty().
 *
 * <p>Neither side ever blocks or spins: offer returns false when full, poll returns null when empty.
 *
 * <h2>Slot access</h2>
 * Slots are read and written through {@link UnsafeSlots} (the JDK's internal {@code Unsafe}, the
 * same acquire loads and release stores without the bounds and array-class checks a
 * {@code VarHandle} makes on every access) when the JVM exports {@code jdk.internal.misc}, as
 * framepipe's jar manifest and launcher do, and through the {@link #SLOTS} {@code VarHandle}
 * otherwise. The ordering above holds on both paths; {@link #slotAccess()} says which is in use.
 *
 * @param <E> element type; null elements are rejected
 */
public final class SpscRing<E> extends SpscRingPad3<E> {

    static final VarHandle PRODUCER_INDEX;
    static final VarHandle CONSUMER_INDEX;
    static final VarHandle PRODUCER_OWNER;
    static final VarHandle CONSUMER_OWNER;
    /**
     * The slots. A slot is the hand-off flag for its element: the producer stores the element
     * with setRelease (publishing it and everything written before), the consumer reads it with
     * getAcquire (null: empty) and stores null with release semantics (release fence, then a plain
     * store: see poll; handing the slot back, after its
     * read of the element), the producer probes with getAcquire (null: free).
     */
    static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(Object[].class);

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            PRODUCER_INDEX = lookup.findVarHandle(SpscRingProducerFields.class, "producerIndex", long.class);
            CONSUMER_INDEX = lookup.findVarHandle(SpscRingConsumerFields.class, "consumerIndex", long.class);
            PRODUCER_OWNER = lookup.findVarHandle(SpscRingProducerFields.class, "producerOwner", Thread.class);
            CONSUMER_OWNER = lookup.findVarHandle(SpscRingConsumerFields.class, "consumerOwner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * @param capacity a power of two, {@code 1 <= capacity <= 2^30}
     * @throws IllegalArgumentException otherwise
     * @throws IllegalStateException if {@code framepipe.ring.slots} is neither auto nor varhandle
     */
    public SpscRing(int capacity) {
        super(capacity);
        UnsafeSlots.checkSetting();
        // Every slot is free on the first lap: no probing until the producer has gone round once.
        this.producerLimit = capacity;
    }

    /**
     * Producer thread only. Adds {@code e} at the tail.
     *
     * @return true if added, false if the ring is full (it is unchanged then)
     * @throws NullPointerException if {@code e} is null
     */
    public boolean offer(E e) {
        if (e == null) {
            throw new NullPointerException("SpscRing does not accept null elements");
        }
        assert assertProducerThread();
        final Object[] buffer = this.buffer;
        final long index = producerIndex; // own field: plain read
        if (index >= producerLimit && !refreshLimit(buffer, index)) {
            return false;
        }
        // Publishes e to the consumer's acquire load of the slot.
        if (UnsafeSlots.ENABLED) {
            UnsafeSlots.putRelease(buffer, offset(index), e);
        } else {
            SLOTS.setRelease(buffer, slot(index), e);
        }
        PRODUCER_INDEX.setRelease(this, index + 1); // for size()/isEmpty(); after the slot
        return true;
    }

    /**
     * The cached limit ran out: find how far the producer may go. The slot of index {@code j}
     * last held element {@code j - capacity}; null there means that element was taken (or never
     * existed), and since the consumer takes in order, so were all before it: the slots of
     * indices up to {@code j} are free. The getAcquire pairs with
     * the consumer's release store of null: its read of the old element happens-before our store.
     *
     * @return false if the ring is full (the very next slot still holds an element)
     */
    private boolean refreshLimit(Object[] buffer, long index) {
        final int step = lookAheadStep;
        if (step > 0 && loadAcquire(buffer, index + step) == null) {
            producerLimit = index + step; // indices [index, index + step) are free
            return true;
        }
        if (loadAcquire(buffer, index) != null) {
            return false; // full: element index - capacity is still there
        }
        producerLimit = index + 1;
        return true;
    }

    /**
     * Consumer thread only. Removes the head element.
     *
     * @return the head element, or null if the ring is empty
     */
    public E poll() {
        assert assertConsumerThread();
        final Object[] buffer = this.buffer;
        final long index = consumerIndex; // own field: plain read
        // The slot is the flag: non-null means published (acquire pairs with the producer's
        // release store of the element). No index of the producer's is read. Then the slot is
        // handed back with a release store of null (the read of e is ordered before it; the
        // producer's acquire probe pairs with it), so nothing is retained.
        final Object e;
        if (UnsafeSlots.ENABLED) {
            // One offset for both: C2 cannot reuse a field read across the acquire, so computing
            // it twice would read mask twice.
            final long offset = offset(index);
            e = UnsafeSlots.getAcquire(buffer, offset);
            if (e == null) {
                return null;
            }
            UnsafeSlots.putRelease(buffer, offset, null);
        } else {
            final int slot = slot(index);
            e = SLOTS.getAcquire(buffer, slot);
            if (e == null) {
                return null;
            }
            // A release fence then a plain store of null is a release store. Not
            // SLOTS.setRelease: a VarHandle store into Object[] checks the array's runtime class
            // even for null, a load and a branch per poll (perfasm), 6 % of offer+poll on one
            // thread (singleThread_ring 1.99 -> 1.86 ns). The store cannot be elided or hoisted:
            // every poll writes a different slot, and a fence precedes it.
            VarHandle.releaseFence();
            buffer[slot] = null;
        }
        CONSUMER_INDEX.setRelease(this, index + 1); // for size()/isEmpty()
        @SuppressWarnings("unchecked")
        final E element = (E) e;
        return element;
    }

    /**
     * Consumer thread only. Removes up to {@code limit} elements in FIFO order, handing each to
     * {@code c}. Each slot is returned to the producer before {@code c} sees its element, so a
     * slow {@code c} does not hold back the producer. If {@code c} throws, the element it threw on
     * has been removed; the others stay in the ring. {@code c} may itself call {@link #poll}.
     *
     * @return the number of elements handed to {@code c}
     * @throws IllegalArgumentException if {@code limit} is negative
     */
    public int drain(Consumer<? super E> c, int limit) {
        Objects.requireNonNull(c, "consumer");
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + limit);
        }
        int n = 0;
        E e;
        // poll() is tiny and inlines; consumerIndex stays in this core's L1.
        while (n < limit && (e = poll()) != null) {
            n++;
            c.accept(e);
        }
        return n;
    }

    /** Any thread. A snapshot of the number of elements, in {@code [0, capacity]}. */
    public int size() {
        // Read consumerIndex on both sides of producerIndex until it is stable, so the two values
        // belong to one moment: producerIndex - consumerIndex is then in [0, capacity].
        long after = (long) CONSUMER_INDEX.getAcquire(this);
        for (;;) {
            final long before = after;
            final long produced = (long) PRODUCER_INDEX.getAcquire(this);
            after = (long) CONSUMER_INDEX.getAcquire(this);
            if (before == after) {
                return (int) Math.max(0, Math.min(produced - after, mask + 1));
            }
        }
    }

    /** Any thread. A snapshot; exact when called by the consumer after a release of the producer. */
    public boolean isEmpty() {
        // consumerIndex first: it never passes producerIndex, so a later producerIndex read can
        // only be larger, and equality means empty at the moment of the second read.
        final long consumed = (long) CONSUMER_INDEX.getAcquire(this);
        return consumed >= (long) PRODUCER_INDEX.getAcquire(this);
    }

    /**
     * Which slot access this JVM uses: {@code "unsafe"}, or {@code "varhandle"} with the reason
     * the faster path is not available (for the startup log).
     */
    public static String slotAccess() {
        return UnsafeSlots.ENABLED ? "unsafe" : "varhandle (" + UnsafeSlots.UNAVAILABLE_REASON + ")";
    }

    /** Any thread. */
    public int capacity() {
        return (int) (mask + 1);
    }

    /**
     * Slot of {@code index}. The mask comes from a field, not from {@code buffer.length}: C2 keeps
     * the bounds check either way (the SLOT_PAD offset defeats its proof), and a mask derived from
     * the length puts the dependent length load on the critical path of every offer and poll
     * (measured: 2.06 against 1.99 ns per operation, singleThread_ring, JDK 25).
     */
    private int slot(long index) {
        return SLOT_PAD + (int) (index & mask);
    }

    /**
     * Byte offset of the slot of {@code index}, for {@link UnsafeSlots}. In long arithmetic, which
     * C2 folds into the addressing mode; going through the int {@link #slot} costs a sign extension
     * and two moves per access (perfasm).
     */
    private long offset(long index) {
        return UnsafeSlots.offset(SLOT_PAD + (index & mask));
    }

    /** Acquire load of the slot of {@code index}. */
    private Object loadAcquire(Object[] buffer, long index) {
        return UnsafeSlots.ENABLED
                ? UnsafeSlots.getAcquire(buffer, offset(index))
                : SLOTS.getAcquire(buffer, slot(index));
    }

    // ---- debug-only thread checks, run only under assert --------------------------------------

    private boolean assertProducerThread() {
        final Thread current = Thread.currentThread();
        final Thread owner = (Thread) PRODUCER_OWNER.getAcquire(this);
        if (owner == current) {
            return true;
        }
        final Thread witness = owner != null ? owner
                : (Thread) PRODUCER_OWNER.compareAndExchange(this, (Thread) null, current);
        if (witness != null && witness != current) {
            throw new AssertionError("SpscRing.offer called from " + current
                    + " but the producer thread is " + witness + " (single producer only)");
        }
        return true;
    }

    private boolean assertConsumerThread() {
        final Thread current = Thread.currentThread();
        final Thread owner = (Thread) CONSUMER_OWNER.getAcquire(this);
        if (owner == current) {
            return true;
        }
        final Thread witness = owner != null ? owner
                : (Thread) CONSUMER_OWNER.compareAndExchange(this, (Thread) null, current);
        if (witness != null && witness != current) {
            throw new AssertionError("SpscRing.poll/drain called from " + current
                    + " but the consumer role is held by " + witness + " (single consumer only)");
        }
        return true;
    }

    /**
     * Debug only, for {@code assert}: the calling consumer gives up the consumer role so that the
     * next poll/drain, on whatever thread, may claim it. Callers must order the next consumer after
     * this call (RingConsumer does, through its scheduled flag).
     *
     * @return true, so it can be used as {@code assert ring.releaseConsumerRole();}
     */
    boolean releaseConsumerRole() {
        final Thread current = Thread.currentThread();
        final Thread owner = (Thread) CONSUMER_OWNER.getAcquire(this);
        if (owner != null && owner != current) {
            throw new AssertionError("consumer role released by " + current + " but held by " + owner);
        }
        CONSUMER_OWNER.setRelease(this, (Thread) null);
        return true;
    }

    /**
     * Debug only, for {@code assert}: the calling producer gives up the producer role so that the
     * next offer, on whatever thread, may claim it. For a producer that is one logical thread
     * running on several pool threads in turn (a drain task that hands results on); the caller
     * must order the next producer after this call (a scheduling flag with release/acquire).
     *
     * @return true, so it can be used as {@code assert ring.releaseProducerRole();}
     */
    public boolean releaseProducerRole() {
        final Thread current = Thread.currentThread();
        final Thread owner = (Thread) PRODUCER_OWNER.getAcquire(this);
        if (owner != null && owner != current) {
            throw new AssertionError("producer role released by " + current + " but held by " + owner);
        }
        PRODUCER_OWNER.setRelease(this, (Thread) null);
        return true;
    }

    @Override
    public String toString() {
        return "SpscRing[size=" + size() + ", capacity=" + capacity() + "]";
    }
}
