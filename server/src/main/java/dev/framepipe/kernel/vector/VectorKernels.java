package dev.framepipe.kernel.vector;

import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.TextKernels;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;

/**
 * Entry point of the {@code jdk.incubator.vector} kernels, looked up reflectively by
 * {@link dev.framepipe.kernel.Kernels} so nothing outside this package links against the
 * incubator module.
 */
public final class VectorKernels {

    private static final FloatKernels FLOATS = new VectorFloatKernels();
    private static final TextKernels TEXT = new VectorTextKernels();

    private VectorKernels() {
    }

    public static FloatKernels floats() {
        return FLOATS;
    }

    public static TextKernels text() {
        return TEXT;
    }

    public static String description() {
        return "float " + VectorFloatKernels.FS.vectorBitSize() + "-bit -> double "
                + DoubleVector.SPECIES_PREFERRED.vectorBitSize() + "-bit, bytes "
                + ByteVector.SPECIES_PREFERRED.vectorBitSize() + "-bit";
    }
}
