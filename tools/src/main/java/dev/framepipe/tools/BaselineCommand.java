package dev.framepipe.tools;

import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.FramepipeConfig.Transport;
import dev.framepipe.baseline.BaselineServer;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import dev.framepipe.cli.Commands;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code framepipe baseline}: the transport-only server the load tests compare the service with. */
@Command(name = "framepipe baseline", mixinStandardHelpOptions = true, versionProvider = dev.framepipe.cli.VersionProvider.class,
        description = "Runs a minimal Netty server that answers every frame with an answer of the service's size, computing nothing.")
final class BaselineCommand implements Callable<Integer> {

    @Option(names = "--bind-address", defaultValue = "127.0.0.1", description = "address (default ${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--port", defaultValue = "7171", description = "port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--io-threads", defaultValue = "0", description = "I/O threads (0 = half the CPUs, at least 1: the service's default)")
    int ioThreads;

    @Option(names = "--transport", defaultValue = "auto", description = "auto, epoll or nio")
    String transport;

    static int run(String[] argv) {
        return Commands.execute(new BaselineCommand(), argv);
    }

    @Override
    @SuppressWarnings("restriction")
    public Integer call() throws Exception {
        int threads = ioThreads > 0 ? ioThreads : FramepipeConfig.defaultIoThreads(Runtime.getRuntime().availableProcessors());
        CountDownLatch stop = new CountDownLatch(1);
        try (BaselineServer server = new BaselineServer(bind, port, threads,
                Transport.valueOf(transport.toUpperCase(Locale.ROOT)))) {
            sun.misc.SignalHandler handler = sig -> stop.countDown();
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
            System.err.println("baseline listening on " + bind + ":" + server.port() + " (" + threads + " I/O threads)");
            stop.await();
        }
        return 0;
    }
}
