package dev.framepipe.ring;

/**
 * Main class for {@link SlotAccessTest}'s child JVMs: moves 10,000 elements through a ring of
 * capacity 4 (wrapping it 2,500 times), checks their order, and prints the slot access in use.
 */
public final class SlotAccessProbe {

    private SlotAccessProbe() {
    }

    public static void main(String[] args) {
        SpscRing<Integer> ring = new SpscRing<>(4);
        int next = 0;
        for (int i = 0; i < 10_000; i++) {
            if (!ring.offer(i)) {
                throw new AssertionError("ring full at " + i);
            }
            if (i % 3 == 2) { // poll behind the offers so the ring fills and wraps
                while (ring.size() > 1) {
                    expect(ring.poll(), next++);
                }
            }
        }
        Integer e;
        while ((e = ring.poll()) != null) {
            expect(e, next++);
        }
        if (next != 10_000) {
            throw new AssertionError("polled " + next + " of 10000");
        }
        System.out.println("slots: " + SpscRing.slotAccess());
    }

    private static void expect(Integer actual, int expected) {
        if (actual == null || actual != expected) {
            throw new AssertionError("expected " + expected + ", polled " + actual);
        }
    }
}
