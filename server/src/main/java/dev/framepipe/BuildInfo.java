package dev.framepipe;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Properties;

/**
 * Which build is running: the project's version and the git commit it was built from, as the
 * build wrote them into {@code framepipe-build.properties} (Maven resource filtering; the
 * commit is "unknown" when the build had no git). Printed by {@code --version}, exposed as
 * {@code framepipe_build_info} and logged at start.
 */
public record BuildInfo(String version, String revision) {

    public static final String UNKNOWN = "unknown";

    private static final BuildInfo CURRENT = load();

    /** The build of the classes on the class path. */
    public static BuildInfo current() {
        return CURRENT;
    }

    static BuildInfo load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("framepipe-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new BuildInfo(clean(p.getProperty("version")), clean(p.getProperty("revision")));
    }

    /** A value the build did not fill in (no filtering: "${...}") is unknown, not a version. */
    private static String clean(String v) {
        return v == null || v.isBlank() || v.contains("${") ? UNKNOWN : v.trim();
    }

    /** The first 12 hex digits of the commit, or "unknown". */
    public String shortRevision() {
        return revision.length() > 12 && !revision.equals(UNKNOWN) ? revision.substring(0, 12) : revision;
    }

    /** The Java runtime's version, as {@code java.version} states it (e.g. 25.0.1). */
    public static String java() {
        return System.getProperty("java.version");
    }

    /** What {@code --version} prints: version, commit, Java runtime. */
    public List<String> versionLines() {
        String vendor = System.getProperty("java.vendor.version", System.getProperty("java.vendor", ""));
        return List.of("framepipe " + version, "commit " + revision,
                "java " + java() + (vendor.isBlank() ? "" : " (" + vendor + ")"));
    }

    /** One line for logs: {@code framepipe 0.1.0 (commit 0123456789ab, Java 25.0.1)}. */
    public String oneLine() {
        return "framepipe " + version + " (commit " + shortRevision() + ", Java " + java() + ")";
    }
}
