package dev.framepipe.cli;

import dev.framepipe.BuildInfo;
import dev.framepipe.config.ConfigException;
import dev.framepipe.config.ConfigLoader;
import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.FramepipeConfig.LogFormat;
import dev.framepipe.config.FramepipeConfig.LogLevel;
import dev.framepipe.logging.Logging;
import dev.framepipe.config.Setting;
import dev.framepipe.security.ServerTls;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Map;
import picocli.CommandLine;

/**
 * {@code framepipe config check [--config FILE] [--SETTING VALUE ...]}: reads the settings as
 * {@code serve} would (same file, environment and flags), prints every setting with its value
 * and where the value came from, loads the TLS files if TLS is on, and exits 0 when serve would
 * accept them, 2 (with the reason) when not. Nothing is bound or started.
 */
final class ConfigCommand {

    private ConfigCommand() {
    }

    static int run(String[] args) {
        // its output is the table: library records (TLS provider notes) only when they matter, and apart
        Logging.configure(LogLevel.WARN, LogFormat.TEXT, Logging.Target.STDERR);
        return run(args, System.getenv(), System.out, System.err);
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        String sub = args.length == 0 ? "" : args[0];
        switch (sub) {
            case "check" -> {
                return check(Arrays.copyOfRange(args, 1, args.length), env, out, err);
            }
            case "-h", "--help", "help" -> {
                out.println(USAGE);
                return 0;
            }
            case "-V", "--version" -> {
                VersionProvider.print(out);
                return 0;
            }
            default -> {
                err.println("framepipe config: " + (sub.isEmpty() ? "missing subcommand" : "unknown subcommand '" + sub + "'"));
                err.println(USAGE);
                return 2;
            }
        }
    }

    private static final String USAGE = """
            usage: framepipe config check [--config FILE] [--SETTING VALUE ...]
              check   print every setting with its value and source (default, file, environment
                      variable, flag) and exit 0 if serve would accept them, 2 if not
                      (framepipe config check --help lists the settings)""";

    private static int check(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        CommandLine cl = SettingsCommandLine.commandLine("framepipe config check",
                "Prints every setting with its value and where it came from (flag > environment > file > default),"
                        + " and exits 0 if framepipe serve would accept them, 2 if not.");
        SettingsCommandLine.Parsed parsed = SettingsCommandLine.parse(cl, "framepipe config check", args, env, out, err);
        if (parsed.exitNow() != null) {
            return parsed.exitNow();
        }
        ConfigLoader.Resolved settings = parsed.settings();
        out.println(BuildInfo.current().oneLine());
        out.println("configuration file: " + parsed.file().describe());
        out.println();
        int keyWidth = "setting".length();
        int valueWidth = "value".length();
        for (Setting s : Setting.values()) {
            keyWidth = Math.max(keyWidth, s.key().length());
            valueWidth = Math.max(valueWidth, shown(settings, s).length());
        }
        String row = "%-" + keyWidth + "s  %-" + valueWidth + "s  %s%n";
        out.printf(row, "setting", "value", "source");
        for (Setting s : Setting.values()) {
            out.printf(row, s.key(), shown(settings, s), settings.source(s));
        }
        FramepipeConfig config = settings.config();
        if (config.tls().enabled()) {
            try {
                ServerTls.create(config.tls()).close();
            } catch (ConfigException e) {
                err.println("framepipe config check: " + e.getMessage());
                return 2;
            }
        }
        out.println();
        out.println("configuration OK");
        return 0;
    }

    /** The value as given, and what 0 resolves to where it means "automatic". */
    private static String shown(ConfigLoader.Resolved settings, Setting s) {
        String v = settings.value(s);
        FramepipeConfig c = settings.config();
        return switch (s) {
            case IO_THREADS -> c.ioThreads() == 0 ? v + " (= " + c.effectiveIoThreads() + " here)" : v;
            case WORKER_PARALLELISM -> c.workerParallelism() == 0 ? v + " (= " + c.effectiveWorkerParallelism() + " here)" : v;
            default -> v;
        };
    }
}
