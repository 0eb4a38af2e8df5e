package dev.framepipe.cli;

import picocli.CommandLine;

/** Runs a picocli command the same way for every tool: usage errors exit 2, failures exit 1 with one line. */
public final class Commands {

    private Commands() {
    }

    public static int execute(Object command, String[] argv) {
        CommandLine cl = new CommandLine(command);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            Throwable root = ex;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String what = root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
            line.getErr().println(line.getCommandName() + ": " + what);
            return 1;
        });
        return cl.execute(argv);
    }
}
