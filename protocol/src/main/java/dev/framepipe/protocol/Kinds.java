package dev.framepipe.protocol;

/** Request kinds of protocol version 1 (PROTOCOL.md, "Requests"); each kind's ops are in {@link Ops}. */
public final class Kinds {
    public static final int FLOATS = 1;
    public static final int TEXT = 2;
    public static final int PING = 3;

    private Kinds() {
    }
}
