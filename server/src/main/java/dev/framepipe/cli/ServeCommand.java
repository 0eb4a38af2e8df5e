package dev.framepipe.cli;

import dev.framepipe.BuildInfo;
import dev.framepipe.config.ConfigException;
import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.Setting;
import dev.framepipe.logging.Logging;
import dev.framepipe.server.FramepipeServer;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;

/**
 * {@code framepipe serve}: runs the service until SIGTERM or SIGINT, then drains and exits 0.
 * Every {@link Setting} is a flag; the configuration file is the one {@code --config} or
 * {@code $FRAMEPIPE_CONFIG} names, else the installation's {@code config/framepipe.yaml}
 * ({@link dev.framepipe.config.ConfigFile}). Logs go to standard output in the format and at
 * the level of {@code log-format} and {@code log-level}.
 */
final class ServeCommand {

    private static final System.Logger LOG = System.getLogger(ServeCommand.class.getName());

    private ServeCommand() {
    }

    static int run(String[] args) {
        CommandLine cl = SettingsCommandLine.commandLine("framepipe serve",
                "Runs the framepipe service. Settings: flag > environment > file > default.");
        SettingsCommandLine.Parsed parsed = SettingsCommandLine.parse(cl, "framepipe serve", args, System.getenv(),
                System.out, System.err);
        if (parsed.exitNow() != null) {
            return parsed.exitNow();
        }
        FramepipeConfig config = parsed.settings().config();
        Logging.configure(config.logLevel(), config.logFormat(), Logging.Target.STDOUT);
        LOG.log(System.Logger.Level.INFO, BuildInfo.current().oneLine() + " starting; configuration: "
                + parsed.file().describe());
        return serve(config);
    }

    @SuppressWarnings("restriction")
    private static int serve(FramepipeConfig config) {
        FramepipeServer server = new FramepipeServer(config);
        CountDownLatch stop = new CountDownLatch(1);
        // SIGTERM and SIGINT start the drain; exit status 0 once it is done (a shutdown hook
        // alone would end with 143). Installed before start: readiness can turn 200 before
        // start() returns, and a signal that early must drain too, not kill the JVM.
        sun.misc.SignalHandler handler = sig -> stop.countDown();
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
        try {
            server.start();
        } catch (Exception e) {
            // a configuration problem found while starting (TLS files) exits 2, like a bad setting
            LOG.log(System.Logger.Level.ERROR, "framepipe serve: cannot start: " + message(e));
            try {
                server.close();
            } catch (Exception ignored) {
                // already failing
            }
            return e instanceof ConfigException ? 2 : 1;
        }
        try {
            stop.await();
            boolean clean = server.drainAndStop();
            if (clean) {
                LOG.log(System.Logger.Level.INFO, "framepipe: stopped");
            } else {
                LOG.log(System.Logger.Level.WARNING, "framepipe: stopped (drain timeout: some connections were cut)");
            }
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /** The exception's own message where it has one (ours name what failed), else its type and message. */
    private static String message(Throwable e) {
        return e.getMessage() != null && !e.getMessage().isBlank() && !(e instanceof NullPointerException)
                ? e.getMessage() : e.toString();
    }
}
