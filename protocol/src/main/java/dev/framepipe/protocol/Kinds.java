package dev.framepipe.protocol;

/** Request kinds of protocol version 1 and their ops. */
public final class Kinds {
    public static final int FLOATS = 1;
    public static final int TEXT = 2;
    public static final int PING = 3;

    public static final int OP_STATS = 1;
    public static final int OP_SCALE = 2;
    public static final int OP_UPPER = 1;
    public static final int OP_LOWER = 2;
    public static final int OP_COUNT = 3;
    public static final int OP_PING = 0;

    private Kinds() {
    }
}
