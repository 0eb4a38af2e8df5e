package dev.framepipe.tools;

import dev.framepipe.loadgen.LoadGenerator;
import dev.framepipe.loadgen.LoadResult;
import dev.framepipe.loadgen.MixEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import dev.framepipe.cli.Commands;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code framepipe load}: drives a server (or the baseline) and reports throughput and latency.
 * Exit status: 0 the run completed and every answer was right; 1 wrong answers (mismatches) or
 * a failure (no connection); 2 a bad command line; 3 the server closed connections during the
 * run (a drain, a restart), so some requests were not answered: the report counts them as lost.
 */
@Command(name = "framepipe load", exitCodeListHeading = "%nExit status:%n", exitCodeList = {
        "0:the run completed; every answer came and was right",
        "1:wrong answers (mismatches), or a failure such as a refused connection",
        "2:a bad command line",
        "3:the server closed connections during the run: requests not answered are counted as lost"}, mixinStandardHelpOptions = true, versionProvider = dev.framepipe.cli.VersionProvider.class,
        description = "Load generator: pipelined requests on N connections, verified answers, HdrHistogram latency.")
final class LoadCommand implements Callable<Integer> {

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "server host (default ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "7070", description = "frame port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = {"-c", "--connections"}, defaultValue = "8", description = "connections, at least 1 (default ${DEFAULT-VALUE})")
    int connections;

    @Option(names = {"-d", "--depth"}, defaultValue = "128", description = "requests in flight per connection (default ${DEFAULT-VALUE})")
    int depth;

    @Option(names = {"-m", "--mix"}, defaultValue = "stats:64",
            description = "frame mix, op:size[@weight],...: stats:N / scale:N floats; upper:N, lower:N, count:N, ping:N bytes (default ${DEFAULT-VALUE})")
    String mix;

    @Option(names = "--duration", defaultValue = "10s",
            description = "measured time after the warm-up: ms, s, min (or m), h, chained as in 5m30s (default ${DEFAULT-VALUE});"
                    + " connections are not reopened, so warm-up plus duration should stay under the server's"
                    + " max-connection-age (45s +-10% by default) or run it with --max-connection-age 0"
                    + " (restart-load reconnects)")
    String duration;

    @Option(names = "--frames", defaultValue = "0", description = "stop after this many measured frames instead (0 = use --duration)")
    long frames;

    @Option(names = "--warmup", defaultValue = "3s", description = "warm-up before measuring (default ${DEFAULT-VALUE})")
    String warmup;

    @Option(names = "--rate", defaultValue = "0",
            description = "fixed total request rate per second, open loop with latency corrected for coordinated omission (0 = closed loop)")
    double rate;

    @Option(names = "--verify", defaultValue = "values",
            description = "values (check ids, order and result values of a sample) or ids (ids, order, kinds and sizes only, e.g. against the baseline)")
    String verify;

    @Option(names = "--verify-every", defaultValue = "16", description = "check the value of every N-th answer (default ${DEFAULT-VALUE})")
    int verifyEvery;

    @Option(names = "--threads", defaultValue = "1", description = "--client netty: client I/O threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--client", defaultValue = "netty",
            description = "netty (event loops, closed or open loop, TLS) or blocking (one thread per connection, closed loop:"
                    + " each writes its --depth requests as one batch and reads their answers; drives a fast server harder)"
                    + " (default ${DEFAULT-VALUE})")
    String client;

    @Option(names = "--server-pid", defaultValue = "0",
            description = "the server's process id: report its CPU (from /proc/PID/stat) over the measured part")
    long serverPid;

    @Option(names = "--hiccups", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "measure the machine's hiccups meanwhile: a thread sleeps 1 ms at a time and records how late it"
                    + " wakes (reported beside the latency; --no-hiccups: off)")
    boolean hiccups;

    @Option(names = "--json", description = "also write the summary as JSON to this file")
    Path json;

    @Option(names = "--tls-ca", description = "speak TLS, trusting the server certificates this CA bundle signs (PEM)")
    java.nio.file.Path tlsCa;

    @Option(names = "--tls-cert", description = "client certificate chain for mutual TLS (PEM)")
    java.nio.file.Path tlsCert;

    @Option(names = "--tls-key", description = "key of --tls-cert (PEM, PKCS#8)")
    java.nio.file.Path tlsKey;

    @Option(names = "--tls-provider", defaultValue = "auto", description = "auto, openssl or jdk (default ${DEFAULT-VALUE})")
    String tlsProvider;

    static int run(String[] argv) {
        return Commands.execute(new LoadCommand(), argv);
    }

    @Override
    public Integer call() throws Exception {
        if (!verify.equals("values") && !verify.equals("ids")) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--verify must be values or ids");
        }
        LoadGenerator.Client mode = switch (client) {
            case "netty" -> LoadGenerator.Client.NETTY;
            case "blocking" -> LoadGenerator.Client.BLOCKING;
            default -> throw new CommandLine.ParameterException(new CommandLine(this), "--client must be netty or blocking");
        };
        LoadGenerator.Options o;
        try {
            o = new LoadGenerator.Options(host, port, connections, depth, MixEntry.parseAll(mix),
                    parseDuration("--duration", duration), frames, parseDuration("--warmup", warmup), rate, verifyEvery, verify.equals("values"),
                    threads, Duration.ofSeconds(30), tls(), hiccups, mode, serverPid);
        } catch (IllegalArgumentException e) { // a bad mix entry, duration or count
            throw new CommandLine.ParameterException(new CommandLine(this), "bad option: " + e.getMessage());
        }
        LoadResult r = LoadGenerator.run(o, System.out);
        System.out.println();
        System.out.print(r.table());
        if (json != null) {
            Files.writeString(json, r.toJson());
        }
        return exitStatus(r);
    }

    /** See the class comment: wrong answers outrank lost ones. */
    static int exitStatus(LoadResult r) {
        if (r.mismatches() > 0) {
            return 1;
        }
        return r.lost() > 0 || r.closedByServer() > 0 ? 3 : 0;
    }

    private dev.framepipe.client.ClientTls tls() {
        if (tlsCa == null && tlsCert == null) {
            return null;
        }
        dev.framepipe.client.ClientTls.Provider provider = switch (tlsProvider.toLowerCase(java.util.Locale.ROOT)) {
            case "openssl" -> dev.framepipe.client.ClientTls.Provider.OPENSSL;
            case "jdk" -> dev.framepipe.client.ClientTls.Provider.JDK;
            case "auto" -> dev.framepipe.client.ClientTls.Provider.AUTO;
            default -> throw new CommandLine.ParameterException(new CommandLine(this),
                    "--tls-provider must be auto, openssl or jdk");
        };
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("--tls-cert and --tls-key go together");
        }
        var b = dev.framepipe.client.ClientTls.builder().provider(provider);
        if (tlsCa != null) {
            b.trustedCertificates(tlsCa);
        }
        if (tlsCert != null) {
            b.clientCertificate(tlsCert, tlsKey);
        }
        return b.build(); // IllegalArgumentException naming an unreadable file
    }

    /** The service's one duration parser: units required, chains like 5m30s (config.Units). */
    static Duration parseDuration(String option, String s) {
        try {
            return dev.framepipe.config.Units.parseDuration(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " '" + s + "' " + e.getMessage());
        }
    }
}
