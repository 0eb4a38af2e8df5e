package dev.framepipe.tools;

import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.FramepipeConfig.Transport;
import dev.framepipe.baseline.BaselineServer;
import dev.framepipe.baseline.RawBaselineServer;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import dev.framepipe.cli.Commands;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code framepipe baseline}: the transport-only servers the load tests compare the service with:
 * Netty's (the default) or, with {@code --raw}, the wire's own limit ({@link RawBaselineServer}).
 */
@Command(name = "framepipe baseline", mixinStandardHelpOptions = true, versionProvider = dev.framepipe.cli.VersionProvider.class,
        description = {"Runs a server that answers every frame with an answer of the service's size, computing nothing:",
                "a minimal Netty server, or with --raw a blocking one with one thread per connection (one read and one",
                "write per batch: the wire's limit on this machine)."})
final class BaselineCommand implements Callable<Integer> {

    @Option(names = "--bind-address", defaultValue = "127.0.0.1", description = "address (default ${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--port", defaultValue = "7171", description = "port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--io-threads", defaultValue = "0", description = "I/O threads (0 = the number of CPUs: the service's default)")
    int ioThreads;

    @Option(names = "--transport", defaultValue = "auto", description = "auto, epoll or nio (Netty server)")
    String transport;

    @Option(names = "--raw", description = "the raw-transport server: blocking, one thread per connection, no Netty")
    boolean raw;

    @Option(names = "--buffer-kib", defaultValue = "1024", description = "--raw: read buffer per connection in KiB (default ${DEFAULT-VALUE})")
    int bufferKib;

    @Option(names = "--max-frame-bytes", defaultValue = "16777216",
            description = "--raw: largest accepted length field; longer frames get FRAME_TOO_LARGE (default ${DEFAULT-VALUE})")
    long maxFrameBytes;

    static int run(String[] argv) {
        return Commands.execute(new BaselineCommand(), argv);
    }

    @Override
    public Integer call() throws Exception {
        if (raw) {
            return raw();
        }
        int threads = ioThreads > 0 ? ioThreads : FramepipeConfig.defaultIoThreads(Runtime.getRuntime().availableProcessors());
        CountDownLatch stop = new CountDownLatch(1);
        try (BaselineServer server = new BaselineServer(bind, port, threads,
                Transport.valueOf(transport.toUpperCase(Locale.ROOT)))) {
            onSignals(stop);
            System.err.println("baseline listening on " + bind + ":" + server.port() + " (" + threads + " I/O threads)");
            stop.await();
        }
        return 0;
    }

    private int raw() throws Exception {
        if (ioThreads != 0 || !transport.equals("auto")) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "--raw runs one thread per connection on blocking sockets: --io-threads and --transport do not apply");
        }
        if (bufferKib < 4 || bufferKib > 1024 * 1024) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--buffer-kib must be between 4 and 1048576, not " + bufferKib);
        }
        if (maxFrameBytes < 12 || maxFrameBytes > 0xFFFF_FFFFL) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "--max-frame-bytes must be between 12 and 4294967295, not " + maxFrameBytes);
        }
        CountDownLatch stop = new CountDownLatch(1);
        try (RawBaselineServer server = new RawBaselineServer(bind, port, bufferKib * 1024, maxFrameBytes)) {
            onSignals(stop);
            System.err.println("raw baseline listening on " + bind + ":" + server.port() + " (one thread per connection, "
                    + bufferKib + " KiB buffers)");
            stop.await();
        }
        return 0;
    }

    @SuppressWarnings("restriction")
    private static void onSignals(CountDownLatch stop) {
        sun.misc.SignalHandler handler = sig -> stop.countDown();
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
    }
}
