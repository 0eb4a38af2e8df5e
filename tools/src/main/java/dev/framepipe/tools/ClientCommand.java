package dev.framepipe.tools;

import dev.framepipe.cli.Commands;
import dev.framepipe.client.ClientOptions;
import dev.framepipe.client.ConnectionClosedException;
import dev.framepipe.client.FramepipeClient;
import dev.framepipe.client.Request;
import dev.framepipe.client.RequestTimeoutException;
import dev.framepipe.client.Response;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code framepipe client OP [ARGS]}: sends one request and prints the answer. For trying a
 * server by hand: {@code framepipe client stats 1 2 3}, {@code framepipe client upper "straße"}.
 * Exit status 0 with an answer, 1 with an error answer, no answer in time or no server, 2 for
 * a bad command line.
 */
@Command(name = "framepipe client", mixinStandardHelpOptions = true, versionProvider = dev.framepipe.cli.VersionProvider.class,
        description = "Sends one request and prints the answer. OP: stats|scale|upper|lower|count|ping.")
final class ClientCommand implements java.util.concurrent.Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "server host (default ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "7070", description = "frame port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--timeout", defaultValue = "10s",
            description = "longest wait for the connection, then for the answer: 500ms, 10s, 1m"
                    + " (default ${DEFAULT-VALUE})")
    String timeout;

    @Parameters(index = "0", description = "stats | scale | upper | lower | count | ping")
    String op;

    @Parameters(index = "1..*", arity = "0..*", description = "floats for stats/scale (scale: a b x...), text otherwise")
    String[] args = new String[0];

    static int run(String[] argv) {
        return Commands.execute(new ClientCommand(), argv);
    }

    @Override
    public Integer call() throws Exception {
        // Everything about the command line is checked before connecting: a typo is a usage
        // error, not a network call.
        Duration limit;
        try {
            limit = LoadCommand.parseDuration("--timeout", timeout);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage() + " (for example 500ms, 10s, 1min)");
        }
        if (limit.isNegative() || limit.isZero()) {
            throw usage("--timeout must be positive, not '" + timeout + "'");
        }
        Request request = request();
        ClientOptions options = ClientOptions.builder().connectTimeout(limit).requestTimeout(limit).build();
        FramepipeClient client;
        try {
            client = FramepipeClient.connect(host, port, options); // the message names host and port
        } catch (IOException e) {
            return fail(e.getMessage());
        }
        try (client) {
            Response r;
            try {
                r = client.send(request).get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RequestTimeoutException) {
                    return fail("no answer from " + host + ":" + port + " within " + timeout);
                }
                if (e.getCause() instanceof ConnectionClosedException) {
                    return fail("the connection to " + host + ":" + port + " closed before the answer");
                }
                throw e;
            }
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

    private Request request() {
        String text = String.join(" ", args);
        return switch (op) {
            case "stats" -> Request.stats(numbers());
            case "scale" -> {
                float[] f = numbers();
                if (f.length < 2) {
                    throw usage("scale needs a and b");
                }
                yield Request.scale(f[0], f[1], Arrays.copyOfRange(f, 2, f.length));
            }
            case "upper" -> Request.upper(text);
            case "lower" -> Request.lower(text);
            case "count" -> Request.count(text);
            case "ping" -> Request.ping(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            default -> throw usage("unknown op " + op);
        };
    }

    private float[] numbers() {
        float[] f = new float[args.length];
        for (int i = 0; i < args.length; i++) {
            try {
                f[i] = Float.parseFloat(args[i]);
            } catch (NumberFormatException e) {
                throw usage("not a number: " + args[i]);
            }
        }
        return f;
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private int fail(String message) {
        spec.commandLine().getErr().println("framepipe client: " + message);
        return 1;
    }
}
