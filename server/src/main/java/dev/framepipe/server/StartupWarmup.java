package dev.framepipe.server;

import dev.framepipe.kernel.KernelWarmup;
import dev.framepipe.kernel.Kernels;
import java.net.BindException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The parts of start-up an operator watches: binding a port (a port in use fails with the
 * address and port, not Netty's {@code bind(..) failed with error(-98)}) and the kernel warm-up,
 * which takes seconds and is logged about once a second while it runs.
 */
public final class StartupWarmup {

    /**
     * Warm-up rounds per call of {@link KernelWarmup#run} at first: multiples of 10 (its five
     * input sizes, two alignments). The first rounds run interpreted and take long; the chunk
     * doubles while a call takes under 200 ms, so progress is seen about once a second throughout.
     */
    static final int FIRST_CHUNK = 10;
    static final int MAX_CHUNK = 2560;

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
     * Runs {@code rounds} warm-up rounds of every kernel (or until {@code budget} passes), logging
     * the progress about once a second and the total at the end.
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
        log.log(System.Logger.Level.INFO, "warming up the kernels: " + rounds + " rounds (warmup-rounds), at most "
                + budget.toSeconds() + " s; /health/ready answers 503 and the frame port accepts nothing until it ends");
        int done = 0;
        int chunk = FIRST_CHUNK;
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
            if (now - began < 200_000_000L && chunk < MAX_CHUNK) {
                chunk *= 2;
            }
            if (now >= nextReport && done < rounds) {
                log.log(System.Logger.Level.INFO, String.format(Locale.ROOT,
                        "warming up the kernels: %d of %d rounds, %.1f s", done, rounds, (now - start) / 1e9));
                nextReport = now + 1_000_000_000L;
            }
        }
        log.log(System.Logger.Level.INFO, String.format(Locale.ROOT, "kernels warmed up: %d rounds in %d ms%s",
                done, (System.nanoTime() - start) / 1_000_000, done < rounds ? " (stopped at the time budget)" : ""));
        return done;
    }
}
