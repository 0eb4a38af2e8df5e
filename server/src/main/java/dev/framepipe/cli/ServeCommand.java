package dev.framepipe.cli;

import dev.framepipe.config.ConfigException;
import dev.framepipe.config.ConfigLoader;
import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.Setting;
import dev.framepipe.server.FramepipeServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code framepipe serve}: runs the service until SIGTERM or SIGINT, then drains and exits 0.
 * Every {@link Setting} is a flag; the configuration file defaults to
 * {@code $FRAMEPIPE_CONFIG}, else {@code config/framepipe.yaml} under the install directory.
 */
final class ServeCommand {

    private ServeCommand() {
    }

    static int run(String[] args) {
        CommandSpec spec = CommandSpec.create().name("framepipe serve");
        spec.usageMessage().description("Runs the framepipe service. Settings: flag > environment > file > default.");
        spec.addOption(OptionSpec.builder("--config").paramLabel("FILE").type(Path.class)
                .description("YAML configuration file (default: $FRAMEPIPE_CONFIG or config/framepipe.yaml)").build());
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help.").build());
        for (Setting s : Setting.values()) {
            spec.addOption(OptionSpec.builder("--" + s.key()).paramLabel("VALUE").type(String.class)
                    // picocli formats descriptions with String.format: a literal % must be doubled
                    .description((s.description() + " (default " + s.defaultValue() + ", env " + s.envName() + ")")
                            .replace("%", "%%"))
                    .build());
        }
        CommandLine cl = new CommandLine(spec);
        ParseResult parsed;
        try {
            parsed = cl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            System.err.println("framepipe serve: " + e.getMessage());
            cl.usage(System.err);
            return 2;
        }
        if (parsed.isUsageHelpRequested()) {
            cl.usage(System.out);
            return 0;
        }
        Map<String, String> flags = new LinkedHashMap<>();
        for (Setting s : Setting.values()) {
            if (parsed.hasMatchedOption("--" + s.key())) {
                flags.put(s.key(), parsed.matchedOptionValue("--" + s.key(), ""));
            }
        }
        FramepipeConfig config;
        try {
            config = ConfigLoader.load(configFile(parsed.matchedOptionValue("--config", null)), System.getenv(), flags);
        } catch (ConfigException e) {
            System.err.println("framepipe serve: " + e.getMessage());
            return 2;
        }
        return serve(config);
    }

    private static Path configFile(Path explicit) {
        if (explicit != null) {
            if (!Files.isRegularFile(explicit)) {
                throw new ConfigException("configuration file " + explicit + " does not exist");
            }
            return explicit;
        }
        String env = System.getenv("FRAMEPIPE_CONFIG");
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env);
            if (!Files.isRegularFile(p)) {
                throw new ConfigException("configuration file " + p + " (from FRAMEPIPE_CONFIG) does not exist");
            }
            return p;
        }
        String home = System.getProperty("framepipe.home", ".");
        Path p = Path.of(home, "config", "framepipe.yaml");
        return Files.isRegularFile(p) ? p : null;
    }

    @SuppressWarnings("restriction")
    private static int serve(FramepipeConfig config) {
        FramepipeServer server = new FramepipeServer(config);
        CountDownLatch stop = new CountDownLatch(1);
        try {
            server.start();
        } catch (ConfigException e) {
            System.err.println("framepipe serve: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println("framepipe serve: cannot start: " + e);
            try {
                server.close();
            } catch (Exception ignored) {
                // already failing
            }
            return 1;
        }
        // SIGTERM and SIGINT start the drain; exit status 0 once it is done (a shutdown hook
        // alone would end with 143).
        sun.misc.SignalHandler handler = sig -> stop.countDown();
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
        try {
            stop.await();
            boolean clean = server.drainAndStop();
            System.err.println("framepipe: stopped" + (clean ? "" : " (drain timeout: some connections were cut)"));
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }
}
