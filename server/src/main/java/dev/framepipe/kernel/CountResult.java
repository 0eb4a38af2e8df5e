package dev.framepipe.kernel;

/** Mutable result of COUNT, reused by its owner thread so a call allocates nothing. */
public final class CountResult {
    public long bytes;
    public long codePoints;
    public long words;
    public long lines;

    public void clear() {
        bytes = 0;
        codePoints = 0;
        words = 0;
        lines = 0;
    }
}
