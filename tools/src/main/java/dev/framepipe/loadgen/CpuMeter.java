package dev.framepipe.loadgen;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * CPU time a process spends over a window, in cores (CPU seconds per second): for the server
 * under test from {@code /proc/PID/stat} (utime + stime, in the kernel's clock ticks of 1/100 s,
 * the fixed USER_HZ of Linux's user-space interface), for the load generator itself from the
 * JVM. Started when made; {@link #cores()} gives the average since then.
 */
final class CpuMeter {

    /** USER_HZ: the unit of the times in /proc/PID/stat, 100 on every Linux architecture Java runs on. */
    static final long TICKS_PER_SECOND = 100;

    private final LongSupplier cpuNanos;
    private final long startCpu;
    private final long startWall;

    private CpuMeter(LongSupplier cpuNanos) {
        this.cpuNanos = cpuNanos;
        this.startWall = System.nanoTime();
        this.startCpu = cpuNanos.getAsLong();
    }

    /** The process {@code pid}'s CPU; refused when it cannot be read (no such process, not Linux). */
    static CpuMeter ofProcess(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        LongSupplier read = () -> {
            try {
                return statCpuNanos(Files.readString(stat));
            } catch (IOException e) {
                return -1; // the process ended: cores() says NaN
            }
        };
        if (read.getAsLong() < 0) {
            throw new IllegalArgumentException("--server-pid " + pid + ": cannot read " + stat + " (no such process?)");
        }
        return new CpuMeter(read);
    }

    static CpuMeter ofThisProcess() {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return new CpuMeter(os::getProcessCpuTime);
    }

    /** utime + stime of a /proc/PID/stat line, in nanoseconds. */
    static long statCpuNanos(String line) {
        // the command name (field 2) is in parentheses and may hold spaces: count from after it
        String[] f = line.substring(line.lastIndexOf(')') + 2).trim().split(" +");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of the line
        return ticks * (1_000_000_000L / TICKS_PER_SECOND);
    }

    /** Average cores used since this meter was made; NaN when the process could not be read. */
    double cores() {
        long cpu = cpuNanos.getAsLong();
        long wall = System.nanoTime() - startWall;
        if (cpu < 0 || startCpu < 0 || wall <= 0) {
            return Double.NaN;
        }
        return (cpu - startCpu) / (double) wall;
    }
}
