package dev.framepipe.cli;

import dev.framepipe.BuildInfo;
import picocli.CommandLine.IVersionProvider;

/** {@code -V}/{@code --version} of every command: version, commit and Java runtime. */
public final class VersionProvider implements IVersionProvider {

    @Override
    public String[] getVersion() {
        return BuildInfo.current().versionLines().toArray(String[]::new);
    }

    /** Prints the version lines (the top-level {@code framepipe --version}). */
    public static void print(java.io.PrintStream out) {
        BuildInfo.current().versionLines().forEach(out::println);
    }
}
