package dev.framepipe.protocol;

/**
 * Request ops of protocol version 1 (PROTOCOL.md, "Requests"). An op's number means something
 * only together with its {@link Kinds kind}: STATS and UPPER are both 1.
 */
public final class Ops {
    /** Kind {@link Kinds#FLOATS}: count, sum, min, max, mean and variance of the floats. */
    public static final int STATS = 1;
    /** Kind {@link Kinds#FLOATS}: every float times a, plus b. */
    public static final int SCALE = 2;
    /** Kind {@link Kinds#TEXT}: the text upper-cased. */
    public static final int UPPER = 1;
    /** Kind {@link Kinds#TEXT}: the text lower-cased. */
    public static final int LOWER = 2;
    /** Kind {@link Kinds#TEXT}: bytes, code points, words and lines. */
    public static final int COUNT = 3;
    /** Kind {@link Kinds#PING}: the payload echoed. */
    public static final int PING = 0;

    private Ops() {
    }
}
