package dev.framepipe.server;

import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.kernel.KernelCompilation;
import dev.framepipe.kernel.KernelWarmup;
import dev.framepipe.kernel.Kernels;
import java.net.BindException;
import java.time.Duration;
import io.netty.bootstrap.ServerBootstrap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The parts of start-up an operator watches: binding a port (a port in use fails with the
 * address and port, not Netty's {@code bind(..) failed with error(-98)}), the kernel warm-up
 * (logged about once a second while it runs) and the request-path warm-up.
 */
public final class StartupWarmup {

    /**
     * Warm-up rounds per call of {@link KernelWarmup#run} at first: multiples of 10 (its five
     * input sizes, two alignments). The first rounds run interpreted and take long; the chunk
     * doubles while a call takes under 50 ms, so the JIT's progress is checked and logged in time.
     */
    static final int FIRST_CHUNK = 10;
    static final int MAX_CHUNK = 2560;
    /** The chunk doubles while one call takes less than this. */
    private static final long CHUNK_NANOS = 50_000_000L;
    /** The code cache is read at most this often. */
    private static final long CHECK_EVERY_NANOS = 50_000_000L;
    /** The request-path warm-up, which ends once the JIT is idle ({@link RequestPathWarmup}): at most this many frames... */
    static final int REQUEST_PATH_FRAMES = 100_000;
    /** ...and at most this long. */
    static final Duration REQUEST_PATH_BUDGET = Duration.ofSeconds(2);
    /**
     * Tests set this false to make the warm-up run all its rounds even when the kernels are
     * compiled already (by an earlier server of the same JVM), so that it lasts.
     */
    static volatile boolean stopWhenCompiled = true;

    private StartupWarmup() {
    }

    /**
     * Binds with {@code bind}; any failure becomes a {@link BindException} naming {@code what},
     * the address and the port.
     */
    public static <T> T bind(String what, String address, int port, Callable<T> bind) throws InterruptedException {
        try {
            return bind.call();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            // Netty's native transport says "bind(..) failed with error(-98): Address already in use"
            int colon = why.indexOf("): ");
            if (why.startsWith("bind(..)") && colon > 0) {
                why = why.substring(colon + 3);
            }
            BindException named = new BindException("cannot listen on " + hostPort(address, port) + " (" + what + "): "
                    + why.toLowerCase(Locale.ROOT)
                    + (why.toLowerCase(Locale.ROOT).contains("in use") ? "; another process has that port" : ""));
            named.initCause(e);
            throw new IllegalStateException(named.getMessage(), named);
        }
    }

    private static String hostPort(String address, int port) {
        return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }

    /**
     * Runs the kernel warm-up: rounds of every kernel on scratch memory until the JIT has compiled
     * every kernel with C2 ({@link KernelCompilation}), at most {@code rounds} rounds and
     * {@code budget}; logs the progress about once a second and how it ended.
     *
     * @return rounds done
     */
    public static int run(int rounds, Duration budget, System.Logger log) {
        long start = System.nanoTime();
        long deadline = start + budget.toNanos();
        long nextReport = start + 1_000_000_000L;
        if (rounds <= 0) {
            log.log(System.Logger.Level.INFO, "kernel warm-up off (warmup-rounds 0)");
            return 0;
        }
        KernelCompilation jit = stopWhenCompiled ? KernelCompilation.probe() : null;
        log.log(System.Logger.Level.INFO, "warming up the kernels until the JIT has compiled them (at most " + rounds
                + " rounds, warmup-rounds, and " + budget.toSeconds()
                + " s); /health/ready answers 503 and the frame port accepts nothing until it ends");
        int done = 0;
        int chunk = FIRST_CHUNK;
        List<String> pending = null; // kernels not compiled yet, once checked
        long nextCheck = start;
        while (done < rounds) {
            long now = System.nanoTime();
            if (now >= deadline) {
                break;
            }
            long began = now;
            int ran = KernelWarmup.run(Kernels.floats(), Kernels.text(), Math.min(chunk, rounds - done),
                    Duration.ofNanos(deadline - now));
            done += ran;
            now = System.nanoTime();
            if (ran == 0) {
                break;
            }
            if (jit != null && now >= nextCheck) {
                // Reading the code cache takes a few milliseconds: at most every CHECK_EVERY_NANOS.
                pending = jit.pending(Kernels.floats(), Kernels.text());
                if (pending.isEmpty()) {
                    break;
                }
                nextCheck = System.nanoTime() + CHECK_EVERY_NANOS;
            }
            if (now - began < CHUNK_NANOS && chunk < MAX_CHUNK) {
                chunk *= 2;
            }
            if (now >= nextReport && done < rounds) {
                log.log(System.Logger.Level.INFO, String.format(Locale.ROOT,
                        "warming up the kernels: %d rounds, %.1f s%s", done, (now - start) / 1e9,
                        pending == null ? "" : "; not compiled yet: " + simpleNames(pending)));
                nextReport = now + 1_000_000_000L;
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        String how;
        if (pending != null && pending.isEmpty()) {
            how = "every kernel compiled by the JIT";
        } else {
            how = (done < rounds ? "stopped at the time budget" : "stopped at warmup-rounds")
                    + (pending != null ? "; not compiled yet: " + simpleNames(pending)
                    : jit == null && stopWhenCompiled ? "; the JIT's progress cannot be read in this JVM" : "");
        }
        log.log(System.Logger.Level.INFO, String.format(Locale.ROOT, "kernels warmed up: %d rounds in %d ms (%s)",
                done, ms, how));
        return done;
    }

    private static String simpleNames(List<String> kernels) {
        StringBuilder b = new StringBuilder();
        for (String k : kernels) {
            int dot = k.lastIndexOf('.', k.lastIndexOf('.') - 1);
            b.append(b.isEmpty() ? "" : ", ").append(k.substring(dot + 1));
        }
        return b.toString();
    }

    /**
     * The request-path warm-up ({@link RequestPathWarmup}) through {@code bootstrap}, whose child
     * handler serves the warm-up's own lanes; then one garbage collection, so that the heap the
     * warm-ups grew (the interpreted Vector API allocates a box per vector) is given back before
     * the server is ready (G1 shrinks the heap after a full collection), not kept for good.
     */
    static RequestPathWarmup.Result requestPath(ServerBootstrap bootstrap, FramepipeConfig config, System.Logger log)
            throws InterruptedException {
        KernelCompilation jit = stopWhenCompiled ? KernelCompilation.probe() : null;
        RequestPathWarmup.Result r = RequestPathWarmup.run(bootstrap, REQUEST_PATH_FRAMES, REQUEST_PATH_BUDGET,
                config.maxFrameBytes(), config.parallelThresholdFloats(), jit == null ? null : jit::compilerIdle);
        log.log(r.ok() ? System.Logger.Level.INFO : System.Logger.Level.WARNING, RequestPathWarmup.describe(r));
        long gc = System.nanoTime();
        System.gc();
        log.log(System.Logger.Level.DEBUG, () -> String.format(Locale.ROOT,
                "heap after the warm-ups: %d MiB committed, collected in %d ms",
                Runtime.getRuntime().totalMemory() >> 20, (System.nanoTime() - gc) / 1_000_000));
        return r;
    }
}
