package dev.framepipe.ring;

import java.util.Arrays;
import java.util.Objects;

/**
 * Verdicts shared by the sequence stress tests: after both actors ran, the arbiter takes what is
 * left and checks the whole history against what the producer was told.
 */
final class RingStressSupport {

    private RingStressSupport() {
    }

    /**
     * Producer: offers 1..n (in order), remembering which were accepted.
     *
     * @return bit i-1 set if value i was accepted
     */
    static int offerAll(SpscRing<Integer> ring, int n) {
        int accepted = 0;
        for (int v = 1; v <= n; v++) {
            if (ring.offer(v)) {
                accepted |= 1 << (v - 1);
            }
        }
        return accepted;
    }

    /**
     * Arbiter: 1 if the history is consistent, else 0. Consistent means: the values taken by the
     * consumer actor followed by what is left in the ring are exactly the accepted values in
     * order (nothing lost, duplicated, reordered or invented); an offer was refused only when
     * the ring could have been full (at least capacity values accepted before it); and once
     * empty, no slot retains a reference.
     */
    static int verdict(SpscRing<Integer> ring, int acceptedMask, int n, int[] taken, int takenCount) {
        final int capacity = ring.capacity();
        final int[] expected = new int[n];
        int expectedCount = 0;
        for (int v = 1; v <= n; v++) {
            if ((acceptedMask & (1 << (v - 1))) != 0) {
                expected[expectedCount++] = v;
            } else if (expectedCount < capacity) {
                return 0; // refused although fewer than capacity values had ever been accepted
            }
        }
        final int[] all = Arrays.copyOf(taken, n + capacity + 1);
        int count = takenCount;
        Integer e;
        while ((e = ring.poll()) != null) {
            if (count == all.length) {
                return 0;
            }
            all[count++] = e;
        }
        if (count != expectedCount || !Arrays.equals(all, 0, count, expected, 0, expectedCount)) {
            return 0;
        }
        if (!ring.isEmpty() || ring.size() != 0) {
            return 0;
        }
        for (Object slot : ring.buffer) {
            if (Objects.nonNull(slot)) {
                return 0; // a consumed element is still referenced
            }
        }
        return 1;
    }

    /** Advances both indices by {@code k} so that the race happens across the wrap-around. */
    static void wind(SpscRing<Integer> ring, int k) {
        for (int i = 0; i < k; i++) {
            ring.offer(-1);
            ring.poll();
        }
    }
}
