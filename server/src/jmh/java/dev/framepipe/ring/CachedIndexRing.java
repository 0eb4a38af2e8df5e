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
 *   header | pad0 128 B | buffer, mask (cold: final, read by both sides)
 *          | pad1 128 B | producerIndex, producerLimit, producerOwner (written by the producer)
 *          | pad2 128 B | consumerIndex, producerIndexCache, consumerOwner (written by the consumer)
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

abstract class CachedIndexRingPad0 {
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
abstract class CachedIndexRingColdFields<E> extends CachedIndexRingPad0 {
    /**
     * Slots, with {@link CachedIndexRingColdFields#SLOT_PAD} unused slots at each end so that the first and
     * last live slots never share a cache line pair with the array header or the next object.
     */
    final Object[] buffer;
    /** capacity - 1; an index maps to its slot as {@code SLOT_PAD + (index & mask)}. */
    final long mask;

    /**
     * Unused slots at each end of {@code buffer}: 32 references are 128 bytes with compressed oops
     * (the default below 32 GiB of heap) and 256 bytes without, at least one prefetch pair either way.
     */
    static final int SLOT_PAD = 32;

    CachedIndexRingColdFields(int capacity) {
        if (capacity < 1 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two >= 1, was " + capacity);
        }
        if (capacity > (1 << 30)) {
            throw new IllegalArgumentException("capacity must be <= 2^30, was " + capacity);
        }
        this.buffer = new Object[capacity + 2 * SLOT_PAD];
        this.mask = capacity - 1;
    }

}

abstract class CachedIndexRingPad1<E> extends CachedIndexRingColdFields<E> {
    byte p1000, p1001, p1002, p1003, p1004, p1005, p1006, p1007, p1008, p1009, p1010, p1011, p1012, p1013, p1014, p1015;
    byte p1100, p1101, p1102, p1103, p1104, p1105, p1106, p1107, p1108, p1109, p1110, p1111, p1112, p1113, p1114, p1115;
    byte p1200, p1201, p1202, p1203, p1204, p1205, p1206, p1207, p1208, p1209, p1210, p1211, p1212, p1213, p1214, p1215;
    byte p1300, p1301, p1302, p1303, p1304, p1305, p1306, p1307, p1308, p1309, p1310, p1311, p1312, p1313, p1314, p1315;
    byte p1400, p1401, p1402, p1403, p1404, p1405, p1406, p1407, p1408, p1409, p1410, p1411, p1412, p1413, p1414, p1415;
    byte p1500, p1501, p1502, p1503, p1504, p1505, p1506, p1507, p1508, p1509, p1510, p1511, p1512, p1513, p1514, p1515;
    byte p1600, p1601, p1602, p1603, p1604, p1605, p1606, p1607, p1608, p1609, p1610, p1611, p1612, p1613, p1614, p1615;
    byte p1700, p1701, p1702, p1703, p1704, p1705, p1706, p1707, p1708, p1709, p1710, p1711, p1712, p1713, p1714, p1715;
    CachedIndexRingPad1(int capacity) {
        super(capacity);
    }
}

/** Fields the producer writes. The consumer reads only {@code producerIndex}. */
abstract class CachedIndexRingProducerFields<E> extends CachedIndexRingPad1<E> {
    /**
     * Count of elements ever offered; the next element goes to slot {@code producerIndex & mask}.
     * Written only by the producer, with a release store ({@link CachedIndexRing#PRODUCER_INDEX}
     * setRelease) AFTER the element's plain store into its slot: that store publishes the element.
     * The consumer reads it with getAcquire, which makes the slot's contents visible to it.
     * The producer reads its own field plainly.
     */
    long producerIndex;
    /**
     * Producer-private (plain reads and writes): a cached {@code consumerIndex + capacity}, the
     * producerIndex at which the ring was last known to be full. While {@code producerIndex} is
     * below it, offer reads no line the consumer writes.
     */
    long producerLimit;
    /**
     * Debug only (touched only under {@code assert}): the producer thread, recorded by the first
     * offer with a CAS; read with getAcquire.
     */
    Thread producerOwner;

    CachedIndexRingProducerFields(int capacity) {
        super(capacity);
    }
}

abstract class CachedIndexRingPad2<E> extends CachedIndexRingProducerFields<E> {
    byte p2000, p2001, p2002, p2003, p2004, p2005, p2006, p2007, p2008, p2009, p2010, p2011, p2012, p2013, p2014, p2015;
    byte p2100, p2101, p2102, p2103, p2104, p2105, p2106, p2107, p2108, p2109, p2110, p2111, p2112, p2113, p2114, p2115;
    byte p2200, p2201, p2202, p2203, p2204, p2205, p2206, p2207, p2208, p2209, p2210, p2211, p2212, p2213, p2214, p2215;
    byte p2300, p2301, p2302, p2303, p2304, p2305, p2306, p2307, p2308, p2309, p2310, p2311, p2312, p2313, p2314, p2315;
    byte p2400, p2401, p2402, p2403, p2404, p2405, p2406, p2407, p2408, p2409, p2410, p2411, p2412, p2413, p2414, p2415;
    byte p2500, p2501, p2502, p2503, p2504, p2505, p2506, p2507, p2508, p2509, p2510, p2511, p2512, p2513, p2514, p2515;
    byte p2600, p2601, p2602, p2603, p2604, p2605, p2606, p2607, p2608, p2609, p2610, p2611, p2612, p2613, p2614, p2615;
    byte p2700, p2701, p2702, p2703, p2704, p2705, p2706, p2707, p2708, p2709, p2710, p2711, p2712, p2713, p2714, p2715;
    CachedIndexRingPad2(int capacity) {
        super(capacity);
    }
}

/** Fields the consumer writes. The producer reads only {@code consumerIndex}. */
abstract class CachedIndexRingConsumerFields<E> extends CachedIndexRingPad2<E> {
    /**
     * Count of elements ever taken; the next element comes from slot {@code consumerIndex & mask}.
     * Written only by the consumer, with a release store AFTER the slot was read and nulled: that
     * store hands the slot back to the producer. The producer reads it with getAcquire, so its
     * next plain store into the slot cannot be overtaken by the consumer's nulling store (which
     * would lose the element) nor be seen by the consumer's earlier read.
     */
    long consumerIndex;
    /**
     * Consumer-private (plain): the producerIndex the consumer last read. While
     * {@code consumerIndex} is below it, poll reads no line the producer writes.
     */
    long producerIndexCache;
    /**
     * Debug only (touched only under {@code assert}): the thread that currently holds the
     * consumer role, claimed with a CAS from null by the first poll/drain and handed back to null
     * by {@link CachedIndexRing#releaseConsumerRole()} (RingConsumer does that at the end of each drain
     * run, since its drain runs on whichever pool thread picks it up).
     */
    Thread consumerOwner;

    CachedIndexRingConsumerFields(int capacity) {
        super(capacity);
    }
}

abstract class CachedIndexRingPad3<E> extends CachedIndexRingConsumerFields<E> {
    byte p3000, p3001, p3002, p3003, p3004, p3005, p3006, p3007, p3008, p3009, p3010, p3011, p3012, p3013, p3014, p3015;
    byte p3100, p3101, p3102, p3103, p3104, p3105, p3106, p3107, p3108, p3109, p3110, p3111, p3112, p3113, p3114, p3115;
    byte p3200, p3201, p3202, p3203, p3204, p3205, p3206, p3207, p3208, p3209, p3210, p3211, p3212, p3213, p3214, p3215;
    byte p3300, p3301, p3302, p3303, p3304, p3305, p3306, p3307, p3308, p3309, p3310, p3311, p3312, p3313, p3314, p3315;
    byte p3400, p3401, p3402, p3403, p3404, p3405, p3406, p3407, p3408, p3409, p3410, p3411, p3412, p3413, p3414, p3415;
    byte p3500, p3501, p3502, p3503, p3504, p3505, p3506, p3507, p3508, p3509, p3510, p3511, p3512, p3513, p3514, p3515;
    byte p3600, p3601, p3602, p3603, p3604, p3605, p3606, p3607, p3608, p3609, p3610, p3611, p3612, p3613, p3614, p3615;
    byte p3700, p3701, p3702, p3703, p3704, p3705, p3706, p3707, p3708, p3709, p3710, p3711, p3712, p3713, p3714, p3715;
    CachedIndexRingPad3(int capacity) {
        super(capacity);
    }
}

/**
 * BENCHMARK-ONLY: the first design of SpscRing, kept to measure the choice against it (see
 * docs/performance-ring.md). Each side detects full/empty by reading the other side's index
 * (cached); SpscRing instead uses the slots themselves as the flags.
 *
 * <p>Bounded single-producer/single-consumer ring of references: a Lamport ring with the indices on
 * separate cache lines, each side caching the other side's index, and release/acquire ordering.
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
 * returns it (release store of producerIndex, acquire load by the consumer). The consumer's
 * taking of a slot happens-before the producer's reuse of it (release store of consumerIndex,
 * acquire load by the producer). Slots are nulled when taken, so the ring retains no element.
 *
 * <p>Neither side ever blocks or spins: offer returns false when full, poll returns null when empty.
 *
 * @param <E> element type; null elements are rejected
 */
public final class CachedIndexRing<E> extends CachedIndexRingPad3<E> {

    static final VarHandle PRODUCER_INDEX;
    static final VarHandle CONSUMER_INDEX;
    static final VarHandle PRODUCER_OWNER;
    static final VarHandle CONSUMER_OWNER;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            PRODUCER_INDEX = lookup.findVarHandle(CachedIndexRingProducerFields.class, "producerIndex", long.class);
            CONSUMER_INDEX = lookup.findVarHandle(CachedIndexRingConsumerFields.class, "consumerIndex", long.class);
            PRODUCER_OWNER = lookup.findVarHandle(CachedIndexRingProducerFields.class, "producerOwner", Thread.class);
            CONSUMER_OWNER = lookup.findVarHandle(CachedIndexRingConsumerFields.class, "consumerOwner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * @param capacity a power of two, {@code 1 <= capacity <= 2^30}
     * @throws IllegalArgumentException otherwise
     */
    public CachedIndexRing(int capacity) {
        super(capacity);
        // producerLimit == 0 would make the first offer re-read consumerIndex; start it at capacity.
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
            throw new NullPointerException("CachedIndexRing does not accept null elements");
        }
        assert assertProducerThread();
        final long index = producerIndex; // own field: plain read
        if (index >= producerLimit) {
            // Cached view says full: refresh it. The acquire pairs with the consumer's release of
            // consumerIndex, so every slot below the new limit has been read and nulled.
            final long limit = (long) CONSUMER_INDEX.getAcquire(this) + mask + 1;
            if (index >= limit) {
                return false;
            }
            producerLimit = limit;
        }
        buffer[slot(index)] = e; // plain: published by the release store below
        PRODUCER_INDEX.setRelease(this, index + 1);
        return true;
    }

    /**
     * Consumer thread only. Removes the head element.
     *
     * @return the head element, or null if the ring is empty
     */
    public E poll() {
        assert assertConsumerThread();
        final long index = consumerIndex; // own field: plain read
        if (index >= producerIndexCache) {
            // Cached view says empty: refresh it. The acquire pairs with the producer's release of
            // producerIndex, so every slot below it holds its element.
            final long available = (long) PRODUCER_INDEX.getAcquire(this);
            if (index >= available) {
                return null;
            }
            producerIndexCache = available;
        }
        final Object[] buffer = this.buffer;
        final int slot = slot(index);
        @SuppressWarnings("unchecked")
        final E e = (E) buffer[slot];
        buffer[slot] = null; // nothing retained; ordered before the release below
        CONSUMER_INDEX.setRelease(this, index + 1);
        return e;
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
        // poll() is tiny and inlines; the consumerIndex/producerIndexCache it touches are in L1.
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

    /** Any thread. */
    public int capacity() {
        return (int) (mask + 1);
    }

    private int slot(long index) {
        return SLOT_PAD + (int) (index & mask);
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
            throw new AssertionError("CachedIndexRing.offer called from " + current
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
            throw new AssertionError("CachedIndexRing.poll/drain called from " + current
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

    @Override
    public String toString() {
        return "CachedIndexRing[size=" + size() + ", capacity=" + capacity() + "]";
    }
}
