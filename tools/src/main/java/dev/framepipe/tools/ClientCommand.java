package dev.framepipe.tools;

import dev.framepipe.client.FramepipeClient;
import dev.framepipe.client.Response;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import dev.framepipe.cli.Commands;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code framepipe client OP [ARGS]}: sends one request and prints the answer. For trying a
 * server by hand: {@code framepipe client stats 1 2 3}, {@code framepipe client upper "straße"}.
 */
@Command(name = "framepipe client", mixinStandardHelpOptions = true, versionProvider = dev.framepipe.cli.VersionProvider.class,
        description = "Sends one request and prints the answer. OP: stats|scale|upper|lower|count|ping.")
final class ClientCommand implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "server host (default ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "7070", description = "frame port (default ${DEFAULT-VALUE})")
    int port;

    @Parameters(index = "0", description = "stats | scale | upper | lower | count | ping")
    String op;

    @Parameters(index = "1..*", arity = "0..*", description = "floats for stats/scale (scale: a b x...), text otherwise")
    String[] args = new String[0];

    static int run(String[] argv) {
        return Commands.execute(new ClientCommand(), argv);
    }

    @Override
    public Integer call() throws Exception {
        float[] numbers = null;
        if (op.equals("stats") || op.equals("scale")) {
            try {
                numbers = floats(args); // before connecting: a typo is a usage error, not a network call
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(new CommandLine(this), "not a number: " + e.getMessage());
            }
        }
        FramepipeClient connected;
        try {
            connected = FramepipeClient.connect(host, port);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) { // "finishConnect(..) failed with error(-111)": say which server, and how
            IllegalStateException failure = new IllegalStateException(
                    dev.framepipe.loadgen.LoadGenerator.connectFailure(host, port, e));
            failure.addSuppressed(e);
            throw failure;
        }
        try (FramepipeClient client = connected) {
            String text = String.join(" ", args);
            var future = switch (op) {
                case "stats" -> client.stats(numbers);
                case "scale" -> {
                    float[] f = numbers;
                    if (f.length < 2) {
                        throw new CommandLine.ParameterException(new CommandLine(this), "scale needs a and b");
                    }
                    yield client.scale(f[0], f[1], Arrays.copyOfRange(f, 2, f.length));
                }
                case "upper" -> client.upper(text);
                case "lower" -> client.lower(text);
                case "count" -> client.count(text);
                case "ping" -> client.ping(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown op " + op);
            };
            Response r = future.get(30, TimeUnit.SECONDS);
            if (r.isError()) {
                System.out.println("error " + r.error() + " (" + r.errorCode() + "): " + r.errorMessage());
                return 1;
            }
            System.out.println(switch (op) {
                case "stats" -> r.stats().toString();
                case "scale" -> Arrays.toString(r.floats());
                case "count" -> r.counts().toString();
                default -> r.text();
            });
            return 0;
        }
    }

    private static float[] floats(String[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = Float.parseFloat(a[i]);
        }
        return f;
    }
}
