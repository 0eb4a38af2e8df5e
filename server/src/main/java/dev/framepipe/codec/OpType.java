package dev.framepipe.codec;

import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;

/**
 * A request classified by kind and op, as the metrics label it. Resolved once per frame by a
 * table look-up so that counters can be indexed without building tags.
 */
public enum OpType {
    STATS("floats", "stats"),
    SCALE("floats", "scale"),
    UPPER("text", "upper"),
    LOWER("text", "lower"),
    COUNT("text", "count"),
    PING("ping", "ping"),
    FLOATS_UNKNOWN_OP("floats", "unknown"),
    TEXT_UNKNOWN_OP("text", "unknown"),
    PING_UNKNOWN_OP("ping", "unknown"),
    UNKNOWN_KIND("other", "unknown");

    private final String kindLabel;
    private final String opLabel;

    OpType(String kindLabel, String opLabel) {
        this.kindLabel = kindLabel;
        this.opLabel = opLabel;
    }

    public String kindLabel() {
        return kindLabel;
    }

    public String opLabel() {
        return opLabel;
    }

    public static OpType of(int kind, int op) {
        return switch (kind) {
            case Kinds.FLOATS -> switch (op) {
                case Ops.STATS -> STATS;
                case Ops.SCALE -> SCALE;
                default -> FLOATS_UNKNOWN_OP;
            };
            case Kinds.TEXT -> switch (op) {
                case Ops.UPPER -> UPPER;
                case Ops.LOWER -> LOWER;
                case Ops.COUNT -> COUNT;
                default -> TEXT_UNKNOWN_OP;
            };
            case Kinds.PING -> op == Ops.PING ? PING : PING_UNKNOWN_OP;
            default -> UNKNOWN_KIND;
        };
    }

    /** Index of the {@code kind} label (floats, text, ping, other) for per-kind counters. */
    public int kindIndex() {
        return switch (this) {
            case STATS, SCALE, FLOATS_UNKNOWN_OP -> 0;
            case UPPER, LOWER, COUNT, TEXT_UNKNOWN_OP -> 1;
            case PING, PING_UNKNOWN_OP -> 2;
            case UNKNOWN_KIND -> 3;
        };
    }

    public static final String[] KIND_LABELS = {"floats", "text", "ping", "other"};
}
