package dev.framepipe.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The load tools' STATS check: exact answers pass, answers outside PROTOCOL.md's accuracy do not. */
class StatsReferenceTest {

    @Test
    void theReferenceAgreesWithExactArithmetic() {
        SplittableRandom random = new SplittableRandom(7);
        for (int round = 0; round < 200; round++) {
            float[] x = values(random, 1 + random.nextInt(300));
            StatsReference r = StatsReference.of(x);
            BigDecimal sum = BigDecimal.ZERO;
            for (float f : x) {
                sum = sum.add(new BigDecimal(f));
            }
            BigDecimal mean = sum.divide(BigDecimal.valueOf(x.length), MathContext.DECIMAL128);
            BigDecimal q = BigDecimal.ZERO;
            for (float f : x) {
                BigDecimal d = new BigDecimal(f).subtract(mean);
                q = q.add(d.multiply(d));
            }
            double exactSum = sum.doubleValue();
            double exactVariance = q.divide(BigDecimal.valueOf(x.length), MathContext.DECIMAL128).doubleValue();
            assertThat(Math.abs(r.sum - exactSum)).isLessThanOrEqualTo(Math.ulp(exactSum)); // Neumaier
            assertThat(Math.abs(r.variance - exactVariance)).isLessThanOrEqualTo(1e-14 * exactVariance + Double.MIN_NORMAL);
            // and so an exact answer passes
            assertThat(r.check(x.length, exactSum, r.min, r.max, exactSum / x.length, exactVariance)).isNull();
        }
    }

    @Test
    void answersOutsideTheProtocolsAccuracyAreCaught() {
        float[] x = {1e6f, 1e6f + 1, 1e6f + 2, 1e6f + 3}; // a large mean, a small spread
        StatsReference r = StatsReference.of(x);
        double sum = 4_000_006;
        double variance = 1.25;
        assertThat(r.check(4, sum, 1e6, 1e6 + 3, sum / 4, variance)).isNull();
        assertThat(r.check(5, sum, 1e6, 1e6 + 3, sum / 4, variance)).startsWith("count 5");
        assertThat(r.check(4, sum + 0.01, 1e6, 1e6 + 3, (sum + 0.01) / 4, variance)).startsWith("sum");
        assertThat(r.check(4, sum, 1e6 + 1, 1e6 + 3, sum / 4, variance)).startsWith("min/max");
        assertThat(r.check(4, sum, 1e6, 1e6 + 3, sum / 4 + 1e-6, variance)).startsWith("mean");
        // mean^2 is 1e12: the protocol allows 1e-15 * 1e12 = 0.001 absolute, plus 1e-9 relative
        assertThat(r.check(4, sum, 1e6, 1e6 + 3, sum / 4, variance + 0.0009)).isNull();
        assertThat(r.check(4, sum, 1e6, 1e6 + 3, sum / 4, variance + 0.0011)).startsWith("variance");
        // a one-pass variance in float32, which the protocol rules out, is far off
        float s1 = 0;
        float s2 = 0;
        for (float f : x) {
            s1 += f;
            s2 += f * f;
        }
        double naive = (s2 - (double) s1 * s1 / 4) / 4;
        assertThat(r.check(4, sum, 1e6, 1e6 + 3, sum / 4, naive)).startsWith("variance");
    }

    @Test
    void emptyAndNonFiniteInputs() {
        assertThat(StatsReference.of(new float[0]).check(0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN)).isNull();
        assertThat(StatsReference.of(new float[0]).check(0, 0, 0, 0, 0, 0)).startsWith("empty input");
        assertThatThrownBy(() -> StatsReference.of(new float[] {1, Float.NaN})).isInstanceOf(IllegalArgumentException.class);
    }

    private static float[] values(SplittableRandom random, int n) {
        double mean = random.nextDouble(-1000, 1000);
        double spread = Math.pow(10, random.nextDouble(-3, 3));
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (mean + spread * (random.nextDouble() * 2 - 1));
        }
        return x;
    }
}
