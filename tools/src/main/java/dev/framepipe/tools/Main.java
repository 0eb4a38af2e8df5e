package dev.framepipe.tools;

import java.util.Arrays;

/**
 * Entry point of the tools' jar: {@code client}, {@code load}, {@code baseline}, {@code soak},
 * {@code restart-load}, {@code chart}.
 * Exit codes: 0 success, 1 runtime failure, 2 bad command line.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        dev.framepipe.cli.Main.configureProcess();
        // Standard output is the tools' result (answers, tables): records go to standard error,
        // warnings and worse unless FRAMEPIPE_LOG_LEVEL says otherwise.
        dev.framepipe.logging.Logging.configure(
                dev.framepipe.logging.Logging.levelFrom(System.getenv(), dev.framepipe.config.FramepipeConfig.LogLevel.WARN),
                dev.framepipe.logging.Logging.formatFrom(System.getenv()), dev.framepipe.logging.Logging.Target.STDERR);
        String command = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        int status = switch (command) {
            case "client" -> ClientCommand.run(rest);
            case "load" -> LoadCommand.run(rest);
            case "baseline" -> BaselineCommand.run(rest);
            case "soak" -> SoakCommand.run(rest);
            case "restart-load" -> RestartLoadCommand.run(rest);
            case "chart" -> dev.framepipe.chart.ChartCommand.run(rest);
            case "version", "-V", "--version" -> {
                dev.framepipe.cli.VersionProvider.print(System.out);
                yield 0;
            }
            case "help", "-h", "--help" -> {
                System.out.println("""
                        usage: framepipe <tool> [options]
                          --version print the version and the git commit (also -V on every tool)
                          client   send one request and print the answer (framepipe client --help)
                          load     load generator (framepipe load --help)
                          baseline transport-only comparison server (framepipe baseline --help)
                          soak     soak-test a running server (load-tests/soak.sh starts one)
                          restart-load  reconnecting clients under load, every answer checked (load-tests/rolling-restart.sh)
                          chart    SVG charts of load-test or JMH results (framepipe chart --help)""");
                yield 0;
            }
            default -> {
                System.err.println("framepipe: unknown tool '" + command + "' (try: framepipe help)");
                yield 2;
            }
        };
        System.exit(status);
    }
}
