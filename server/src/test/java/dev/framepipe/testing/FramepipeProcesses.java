package dev.framepipe.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@code framepipe <command>} as a separate JVM on the test classpath, as the launcher would:
 * {@code serve} through the service's entry point, the tools ({@code load}, {@code client}, ...)
 * through the tools' one (on the tools module's test classpath only).
 */
public final class FramepipeProcesses {

    private static final String SERVER_MAIN = "dev.framepipe.cli.Main";
    private static final String TOOLS_MAIN = "dev.framepipe.tools.Main";

    private FramepipeProcesses() {
    }

    /** A process builder for {@code framepipe command args...}; FRAMEPIPE_* variables removed. */
    public static ProcessBuilder framepipe(String command, String... args) {
        return framepipe(List.of(), command, args);
    }

    /** The same, with {@code jvmOptions} (the launcher's -Xmx and such) before the main class. */
    public static ProcessBuilder framepipe(List<String> jvmOptions, String command, String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), command.equals("serve") ? SERVER_MAIN : TOOLS_MAIN, command));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("FRAMEPIPE_"));
        return pb;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
