package dev.framepipe.loadgen;

import java.util.Locale;

/**
 * An independent computation of a STATS answer, and the check of the server's answer against it
 * within the accuracy PROTOCOL.md ("STATS semantics") promises. The reference widens the float32
 * inputs to float64 and sums with Neumaier's compensation, and takes the variance in two passes
 * around the compensated mean: for the few hundred values a load test sends, its own error is
 * many orders of magnitude below the tolerances, so a failed check is the server's error.
 * Finite inputs only (a load test has no reason to send NaN or infinities).
 */
public final class StatsReference {

    /** Slack for the reference's own rounding, relative to the quantity checked. */
    private static final double OWN_ERROR = 1e-13;

    final long count;
    final double sum;
    final double absSum;
    final double min;
    final double max;
    final double variance;

    private StatsReference(long count, double sum, double absSum, double min, double max, double variance) {
        this.count = count;
        this.sum = sum;
        this.absSum = absSum;
        this.min = min;
        this.max = max;
        this.variance = variance;
    }

    public static StatsReference of(float[] values) {
        int n = values.length;
        if (n == 0) {
            return new StatsReference(0, 0, 0, Double.NaN, Double.NaN, Double.NaN);
        }
        double s = 0;
        double c = 0;
        double abs = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (float f : values) {
            if (!Float.isFinite(f)) {
                throw new IllegalArgumentException("finite values only, not " + f);
            }
            double x = f;
            double t = s + x;
            c += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s; // Neumaier
            s = t;
            abs += Math.abs(x);
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        double sum = s + c;
        double mean = sum / n;
        double q = 0;
        double qc = 0;
        for (float f : values) {
            double d = f - mean;
            double sq = d * d;
            double t = q + sq;
            qc += q >= sq ? (q - t) + sq : (sq - t) + q;
            q = t;
        }
        return new StatsReference(n, sum, abs, min, max, (q + qc) / n);
    }

    /**
     * @return null when the answer is within the protocol's accuracy, else what is wrong
     */
    public String check(long count, double sum, double min, double max, double mean, double variance) {
        if (count != this.count) {
            return "count " + count + ", expected " + this.count;
        }
        if (this.count == 0) {
            return sum == 0 && Double.isNaN(min) && Double.isNaN(max) && Double.isNaN(mean) && Double.isNaN(variance)
                    ? null : "empty input: expected sum 0 and NaN for the rest, got " + sum + ", " + min + ", " + max
                    + ", " + mean + ", " + variance;
        }
        if (Double.compare(min, this.min) != 0 || Double.compare(max, this.max) != 0) {
            return String.format(Locale.ROOT, "min/max %s/%s, expected exactly %s/%s", min, max, this.min, this.max);
        }
        double sumTolerance = 1e-9 * absSum + OWN_ERROR * absSum;
        if (!(Math.abs(sum - this.sum) <= sumTolerance)) {
            return String.format(Locale.ROOT, "sum %s, expected %s within %.3g", sum, this.sum, sumTolerance);
        }
        // mean = sum / count, of the sum the server reported
        double expectedMean = sum / count;
        if (!(Math.abs(mean - expectedMean) <= Math.ulp(expectedMean))) {
            return String.format(Locale.ROOT, "mean %s, expected sum / count = %s", mean, expectedMean);
        }
        double m = this.sum / count;
        double varTolerance = 1e-9 * this.variance + 1e-15 * m * m + OWN_ERROR * (this.variance + Math.ulp(m) * Math.abs(m));
        if (!(Math.abs(variance - this.variance) <= varTolerance)) {
            return String.format(Locale.ROOT, "variance %s, expected %s within %.3g", variance, this.variance, varTolerance);
        }
        return null;
    }
}
