package dev.framepipe.kernel.reference;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * Exact STATS of float32 values (widened to float64) with BigDecimal: the yardstick for the
 * protocol's accuracy bounds. Obviously correct, deliberately slow.
 */
public final class ReferenceStats {

    public final long count;
    public final boolean anyNaN;
    public final boolean anyPosInf;
    public final boolean anyNegInf;
    /** Exact sum and Σ|x| of the finite values. */
    public final BigDecimal exactSum;
    public final double sumAbs;
    /** Exact population variance rounded to double (finite inputs only). */
    public final double exactVariance;
    /** Exact mean rounded to double. */
    public final double exactMean;
    public final double min;
    public final double max;

    private ReferenceStats(float[] xs) {
        count = xs.length;
        boolean nan = false;
        boolean pos = false;
        boolean neg = false;
        BigDecimal s = BigDecimal.ZERO;
        BigDecimal sq = BigDecimal.ZERO;
        BigDecimal abs = BigDecimal.ZERO;
        double mn = Double.POSITIVE_INFINITY;
        double mx = Double.NEGATIVE_INFINITY;
        for (float f : xs) {
            double x = f;
            mn = Math.min(mn, x);
            mx = Math.max(mx, x);
            if (Double.isNaN(x)) {
                nan = true;
            } else if (x == Double.POSITIVE_INFINITY) {
                pos = true;
            } else if (x == Double.NEGATIVE_INFINITY) {
                neg = true;
            } else {
                BigDecimal b = new BigDecimal(x);
                s = s.add(b);
                sq = sq.add(b.multiply(b));
                abs = abs.add(b.abs());
            }
        }
        anyNaN = nan;
        anyPosInf = pos;
        anyNegInf = neg;
        exactSum = s;
        sumAbs = abs.doubleValue();
        min = count == 0 ? Double.NaN : mn;
        max = count == 0 ? Double.NaN : mx;
        if (count == 0) {
            exactMean = Double.NaN;
            exactVariance = Double.NaN;
        } else {
            BigDecimal n = BigDecimal.valueOf(count);
            exactMean = s.divide(n, MathContext.DECIMAL128).doubleValue();
            // V = (n Σx² − (Σx)²) / n², exact numerator
            BigDecimal num = n.multiply(sq).subtract(s.multiply(s));
            exactVariance = num.divide(n.multiply(n), MathContext.DECIMAL128).doubleValue();
        }
    }

    public static ReferenceStats of(float[] xs) {
        return new ReferenceStats(xs);
    }

    /** The sum the protocol requires when a NaN or infinity is present (IEEE rules). */
    public double specialSum() {
        if (anyNaN || (anyPosInf && anyNegInf)) {
            return Double.NaN;
        }
        return anyPosInf ? Double.POSITIVE_INFINITY : anyNegInf ? Double.NEGATIVE_INFINITY : exactSum.doubleValue();
    }

    public boolean finite() {
        return !anyNaN && !anyPosInf && !anyNegInf;
    }
}
