package dev.framepipe.ring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Which slot access {@link SpscRing} picks ({@link UnsafeSlots}): the internal {@code Unsafe} when
 * the JVM exports {@code jdk.internal.misc}, the {@code VarHandle} otherwise or when forced. The
 * rest of the ring's tests run under both (surefire's default execution has the export; its
 * {@code ring-varhandle} execution forces the VarHandle).
 */
class SlotAccessTest {

    private static final String EXPORT = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";

    @Test
    void thisJvmUsesUnsafeSlotsUnlessTheVarHandleIsForced() {
        // Fails if a JDK change broke the Unsafe lookup: the ring would silently lose its fast path.
        boolean forced = "varhandle".equals(System.getProperty(UnsafeSlots.PROPERTY));
        assertThat(SpscRing.slotAccess()).isEqualTo(forced ? "varhandle (framepipe.ring.slots=varhandle)" : "unsafe");
        assertThat(UnsafeSlots.ENABLED).isEqualTo(!forced);
    }

    @Test
    void withTheExportAChildJvmMovesElementsThroughUnsafeSlots() throws Exception {
        Result r = probe(EXPORT);
        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output).contains("slots: unsafe");
    }

    @Test
    void withoutTheExportAChildJvmFallsBackToTheVarHandleAndSaysWhy() throws Exception {
        Result r = probe();
        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output).contains("slots: varhandle (IllegalAccessException (start the JVM with "
                + "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED))");
    }

    @Test
    void theVarHandleCanBeForcedDespiteTheExport() throws Exception {
        Result r = probe(EXPORT, "-D" + UnsafeSlots.PROPERTY + "=varhandle");
        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output).contains("slots: varhandle (framepipe.ring.slots=varhandle)");
    }

    @Test
    void anUnknownSlotsSettingStopsTheJvmWithItsNameAndValue() throws Exception {
        Result r = probe(EXPORT, "-D" + UnsafeSlots.PROPERTY + "=fast");
        assertThat(r.exit).isNotZero();
        assertThat(r.output).contains("framepipe.ring.slots must be auto or varhandle, was 'fast'");
    }

    private record Result(int exit, String output) {
    }

    private static Result probe(String... jvmArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-ea");
        cmd.addAll(List.of(jvmArgs));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SlotAccessProbe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("probe JVM did not exit: " + cmd);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
