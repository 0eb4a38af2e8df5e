package dev.framepipe.testing;

import java.nio.file.Path;

/**
 * Files of the repository that tests read (config/, docker/, bin/, the Dockerfile). Tests run in
 * their module's directory; the build passes the repository's root as {@code framepipe.root}.
 */
public final class ProjectFiles {

    private ProjectFiles() {
    }

    /** The repository's root directory. */
    public static Path root() {
        String root = System.getProperty("framepipe.root");
        if (root == null || root.isBlank()) {
            throw new IllegalStateException("system property framepipe.root is not set (the build sets it)");
        }
        return Path.of(root).toAbsolutePath().normalize();
    }

    /** A path under the repository's root. */
    public static Path path(String first, String... more) {
        return root().resolve(Path.of(first, more));
    }
}
