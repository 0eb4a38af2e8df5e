package dev.framepipe.cli;

/** Entry point of the framepipe jar; subcommands are added as the service grows. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("framepipe");
    }
}
