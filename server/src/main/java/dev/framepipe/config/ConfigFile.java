package dev.framepipe.config;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Map;

/**
 * Which configuration file a command reads: the one given with {@code --config}, else the one
 * {@code FRAMEPIPE_CONFIG} names, else {@code config/framepipe.yaml} of the installation, if it
 * exists; otherwise none (defaults, environment and flags only). Never the working directory:
 * the same command reads the same file wherever it is started from.
 *
 * <p>The installation is {@code -Dframepipe.home} (the launcher passes the repository's root,
 * the container image {@code /opt/framepipe}), else the directory of the running jar.
 *
 * @param path   the file to read, or null for none
 * @param origin why this file (or none)
 * @param looked for {@link Origin#NONE}: where the installation's file was looked for (null if
 *               there is no installation, e.g. classes run from a build directory)
 */
public record ConfigFile(Path path, Origin origin, Path looked) {

    /** The system property naming the installation directory. */
    public static final String HOME_PROPERTY = "framepipe.home";
    public static final String ENV = "FRAMEPIPE_CONFIG";

    public enum Origin {
        FLAG("given with --config"),
        ENVIRONMENT("given by " + ENV),
        INSTALLATION("the installation's default"),
        NONE("none");

        private final String description;

        Origin(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /**
     * @param flag the {@code --config} value, or null
     * @param env  the environment
     * @param home the installation directory, or null for none ({@link #installationHome()})
     * @throws ConfigException when a given file is missing, a directory or unreadable
     */
    public static ConfigFile locate(Path flag, Map<String, String> env, Path home) {
        if (flag != null) {
            return new ConfigFile(check(flag, "--config"), Origin.FLAG, null);
        }
        String named = env.get(ENV);
        if (named != null && !named.isBlank()) {
            return new ConfigFile(check(Path.of(named.strip()), ENV), Origin.ENVIRONMENT, null);
        }
        if (home == null) {
            return new ConfigFile(null, Origin.NONE, null);
        }
        Path p = home.resolve("config").resolve("framepipe.yaml").toAbsolutePath().normalize();
        if (Files.isRegularFile(p)) {
            return new ConfigFile(check(p, "the installation"), Origin.INSTALLATION, null);
        }
        return new ConfigFile(null, Origin.NONE, p);
    }

    private static Path check(Path p, String from) {
        Path abs = p.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) {
            throw new ConfigException("configuration file " + p + " (from " + from
                    + ") is a directory; give the YAML file in it, e.g. " + p.resolve("framepipe.yaml"));
        }
        if (!Files.exists(abs)) {
            throw new ConfigException("configuration file " + p + " (from " + from + ") does not exist");
        }
        if (!Files.isReadable(abs)) {
            throw new ConfigException("configuration file " + p + " (from " + from + ") cannot be read (permissions)");
        }
        return abs;
    }

    /**
     * The installation directory: {@code -Dframepipe.home}, else the directory of the jar these
     * classes run from; null when they do not run from a jar (a build's classes directory).
     */
    public static Path installationHome() {
        String home = System.getProperty(HOME_PROPERTY);
        if (home != null && !home.isBlank()) {
            return Path.of(home).toAbsolutePath().normalize();
        }
        CodeSource source = ConfigFile.class.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            return null;
        }
        try {
            Path location = Path.of(source.getLocation().toURI());
            return Files.isRegularFile(location) ? location.toAbsolutePath().getParent() : null;
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    /** For the start-up log and {@code config check}: the file and why, or why none. */
    public String describe() {
        return switch (origin) {
            case NONE -> looked == null
                    ? "no configuration file (defaults, environment and flags only)"
                    : "no configuration file (none at " + looked + "; defaults, environment and flags only)";
            default -> path + " (" + origin.description() + ")";
        };
    }
}
