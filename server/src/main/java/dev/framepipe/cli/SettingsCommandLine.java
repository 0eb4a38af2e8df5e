package dev.framepipe.cli;

import dev.framepipe.config.ConfigException;
import dev.framepipe.config.ConfigFile;
import dev.framepipe.config.ConfigLoader;
import dev.framepipe.config.Setting;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The command line of the commands that read the settings ({@code serve}, {@code config check}):
 * {@code --config FILE}, a flag per {@link Setting}, {@code -h} and {@code -V}; and the settings
 * they make, with the file they came from.
 */
final class SettingsCommandLine {

    /** The outcome of parsing: a status to exit with at once, or the settings. */
    record Parsed(Integer exitNow, ConfigFile file, ConfigLoader.Resolved settings) {
    }

    private SettingsCommandLine() {
    }

    static CommandLine commandLine(String name, String description) {
        CommandSpec spec = CommandSpec.create().name(name);
        spec.usageMessage().description(description);
        spec.versionProvider(new VersionProvider());
        spec.addOption(OptionSpec.builder("--config").paramLabel("FILE").type(Path.class)
                .description("YAML configuration file (default: $FRAMEPIPE_CONFIG, else config/framepipe.yaml of the"
                        + " installation: -Dframepipe.home or the jar's directory; never the working directory)").build());
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print the version and the git commit, then exit.").build());
        for (Setting s : Setting.values()) {
            spec.addOption(OptionSpec.builder("--" + s.key()).paramLabel("VALUE").type(String.class)
                    // picocli formats descriptions with String.format: a literal % must be doubled
                    .description((s.description() + " (default " + s.defaultValue() + ", env " + s.envName() + ")")
                            .replace("%", "%%"))
                    .build());
        }
        return new CommandLine(spec);
    }

    /**
     * Parses {@code args}; prints help, the version or the error itself.
     *
     * @param name what error lines start with ("framepipe serve")
     */
    static Parsed parse(CommandLine cl, String name, String[] args, Map<String, String> env, PrintStream out,
            PrintStream err) {
        ParseResult parsed;
        try {
            parsed = cl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            err.println(name + ": " + e.getMessage());
            cl.usage(err);
            return new Parsed(2, null, null);
        }
        if (parsed.isUsageHelpRequested()) {
            cl.usage(out);
            return new Parsed(0, null, null);
        }
        if (parsed.isVersionHelpRequested()) {
            cl.printVersionHelp(out);
            return new Parsed(0, null, null);
        }
        Map<String, String> flags = new LinkedHashMap<>();
        for (Setting s : Setting.values()) {
            if (parsed.hasMatchedOption("--" + s.key())) {
                flags.put(s.key(), parsed.matchedOptionValue("--" + s.key(), ""));
            }
        }
        try {
            ConfigFile file = ConfigFile.locate(parsed.matchedOptionValue("--config", null), env,
                    ConfigFile.installationHome());
            return new Parsed(null, file, ConfigLoader.resolve(file.path(), env, flags));
        } catch (ConfigException e) {
            err.println(name + ": " + e.getMessage());
            return new Parsed(2, null, null);
        }
    }
}
