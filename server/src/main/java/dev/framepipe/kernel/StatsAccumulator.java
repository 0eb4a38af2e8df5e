package dev.framepipe.kernel;

/**
 * Running STATS of a stream of float32 values, held in float64: count, sum, the sum of squared
 * deviations about the running mean ({@code m2}), min and max. Chunks are combined with the
 * parallel (Chan et al.) formula, so a frame split across workers merges exactly as if it had
 * been folded in one pass, and a large mean never cancels the variance away.
 *
 * <p>Not thread-safe: each worker folds into its own accumulator, then the owner merges.
 */
public final class StatsAccumulator {

    private long count;
    private double sum;
    private double m2;
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;

    public void reset() {
        count = 0;
        sum = 0;
        m2 = 0;
        min = Double.POSITIVE_INFINITY;
        max = Double.NEGATIVE_INFINITY;
    }

    /**
     * Folds in a chunk of {@code n} values summarised by its {@code chunkSum}, its
     * {@code chunkM2} (sum of squared deviations about the chunk's own mean, NaN when the
     * chunk holds a NaN or an infinity), and its min and max (NaN when it holds a NaN).
     */
    public void addChunk(long n, double chunkSum, double chunkM2, double chunkMin, double chunkMax) {
        if (n == 0) {
            return;
        }
        if (count == 0) {
            count = n;
            sum = chunkSum;
            m2 = chunkM2;
            min = chunkMin;
            max = chunkMax;
            return;
        }
        long total = count + n;
        double delta = chunkSum / n - sum / count;
        m2 = m2 + chunkM2 + delta * delta * ((double) count * n / total);
        sum += chunkSum;
        count = total;
        min = minPropagatingNaN(min, chunkMin);
        max = maxPropagatingNaN(max, chunkMax);
    }

    /** Folds another accumulator into this one; {@code other} is left unchanged. */
    public void merge(StatsAccumulator other) {
        addChunk(other.count, other.sum, other.m2, other.min, other.max);
    }

    private static double minPropagatingNaN(double a, double b) {
        return Math.min(a, b); // Math.min returns NaN if either is NaN
    }

    private static double maxPropagatingNaN(double a, double b) {
        return Math.max(a, b);
    }

    public long count() {
        return count;
    }

    /** Sum of the values; 0 when empty, NaN when any value was NaN (or +inf met -inf). */
    public double sum() {
        return count == 0 ? 0.0 : (Double.isNaN(min) ? Double.NaN : sum);
    }

    public double min() {
        return count == 0 ? Double.NaN : min;
    }

    public double max() {
        return count == 0 ? Double.NaN : max;
    }

    public double mean() {
        return count == 0 ? Double.NaN : sum() / count;
    }

    /** Population variance; NaN when empty or when any value was NaN or infinite. */
    public double variance() {
        if (count == 0 || Double.isNaN(min) || Double.isInfinite(min) || Double.isInfinite(max)) {
            return Double.NaN;
        }
        return Math.max(0.0, m2 / count);
    }
}
