package dev.framepipe.loadgen;

import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One kind of request in a load mix, parsed from {@code op:size[@weight]}: {@code stats:64}
 * (64 floats), {@code scale:1024} (1024 floats after a and b), {@code upper:256} (256 bytes of
 * text), {@code lower:256}, {@code count:4096}, {@code ping:0}.
 */
public record MixEntry(String op, int size, int weight) {

    public static List<MixEntry> parseAll(String spec) {
        List<MixEntry> entries = new ArrayList<>();
        for (String part : spec.split(",")) {
            if (!part.isBlank()) {
                entries.add(parse(part.trim()));
            }
        }
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("empty mix");
        }
        return entries;
    }

    public static MixEntry parse(String s) {
        String[] opAndRest = s.split(":", 2);
        if (opAndRest.length != 2) {
            throw new IllegalArgumentException("mix entry '" + s + "' is not op:size[@weight]");
        }
        String op = opAndRest[0].toLowerCase(Locale.ROOT);
        String[] sizeAndWeight = opAndRest[1].split("@", 2);
        int size;
        int weight;
        try {
            size = Integer.parseInt(sizeAndWeight[0]);
            weight = sizeAndWeight.length == 2 ? Integer.parseInt(sizeAndWeight[1]) : 1;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("mix entry '" + s + "': size and weight must be whole numbers");
        }
        if (size < 0 || weight < 1) {
            throw new IllegalArgumentException("mix entry '" + s + "': size must be >= 0 and weight >= 1");
        }
        kindOf(op); // validates
        return new MixEntry(op, size, weight);
    }

    public int kind() {
        return kindOf(op);
    }

    public int opCode() {
        return switch (op) {
            case "stats" -> Ops.STATS;
            case "scale" -> Ops.SCALE;
            case "upper" -> Ops.UPPER;
            case "lower" -> Ops.LOWER;
            case "count" -> Ops.COUNT;
            default -> Ops.PING;
        };
    }

    private static int kindOf(String op) {
        return switch (op) {
            case "stats", "scale" -> Kinds.FLOATS;
            case "upper", "lower", "count" -> Kinds.TEXT;
            case "ping" -> Kinds.PING;
            default -> throw new IllegalArgumentException("unknown op '" + op + "' (stats, scale, upper, lower, count, ping)");
        };
    }

    @Override
    public String toString() {
        return op + ":" + size + (weight == 1 ? "" : "@" + weight);
    }
}
