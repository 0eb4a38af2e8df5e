package dev.framepipe.cli;

import java.util.Arrays;

/**
 * Entry point of the service's jar: {@code serve}, {@code config check}, {@code --version}. The tools ({@code client}, {@code load},
 * {@code baseline}, {@code soak}) have their own jar and entry point, {@code dev.framepipe.tools.Main}.
 * Exit codes: 0 success, 1 runtime failure, 2 bad command line or configuration.
 */
public final class Main {

    private Main() {
    }

    private static void defaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** JVM-wide defaults every framepipe process sets before Netty or a logger initialises. */
    public static void configureProcess() {
        // Logging needs nothing here: Logback's first configuration is dev.framepipe.logging.LogConfigurator.
        // Before any Netty class initialises; -D on the command line wins.
        // Netty's sampled leak detector records stack traces: heap garbage on the hot path (the
        // test suite runs it at PARANOID instead).
        defaultProperty("io.netty.leakDetection.level", "disabled");
        // Netty's Recycler hands objects back in batches of this size before spilling into a queue
        // whose chunks are garbage; 256 instead of 32 took heap per frame from 8 to 2 bytes.
        defaultProperty("io.netty.recycler.chunkSize", "256");
        // Every ByteBuf access re-checks the reference count and bounds; the decoder has already
        // bounded each frame, and the test suite (which does not start through here) keeps both
        // checks on. Together they were 15 % of an I/O thread's samples at 800k frames/s.
        defaultProperty("io.netty.buffer.checkAccessible", "false");
        defaultProperty("io.netty.buffer.checkBounds", "false");
    }

    public static void main(String[] args) {
        configureProcess();
        String command = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        int status = switch (command) {
            case "serve" -> ServeCommand.run(rest);
            case "config" -> ConfigCommand.run(rest);
            case "version", "-V", "--version" -> {
                VersionProvider.print(System.out);
                yield 0;
            }
            case "help", "-h", "--help" -> {
                System.out.println("""
                        usage: framepipe <command> [options]
                          serve         run the service (framepipe serve --help for its settings)
                          config check  print every setting, its value and its source; exit 2 if one is bad
                          --version     print the version and the git commit (also -V on every command)""");
                yield 0;
            }
            default -> {
                System.err.println("framepipe: unknown command '" + command + "' (try: framepipe help)");
                yield 2;
            }
        };
        System.exit(status);
    }
}
