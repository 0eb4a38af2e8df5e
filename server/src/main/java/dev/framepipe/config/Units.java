package dev.framepipe.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one table of units for sizes and durations, and their parsers (settings, and the load
 * generator's {@code --duration}). Every value names its unit: {@code 16MiB}, {@code 512KiB},
 * {@code 30s}, {@code 250ms}, {@code 5min}, {@code 1h30min}. A bare number is refused (is
 * {@code 5} seconds or minutes, bytes or MiB?), except {@code 0}, which is zero in every unit and
 * means "off" or "automatic" where a setting says so.
 *
 * <p>Sizes are binary: B, KiB, MiB, GiB. Durations: ms, s, min (also m), h, and may chain
 * ({@code 5min30s}). {@code m} is only ever minutes: as a size it is refused with a message that
 * names MiB, as are k, g and the decimal KB, MB, GB, which readers take for either.
 * Unit names are matched without regard to case.
 */
public final class Units {

    public enum Kind {
        SIZE("a size", "B, KiB, MiB or GiB"),
        DURATION("a duration", "ms, s, min (or m) or h");

        private final String article;
        private final String units;

        Kind(String article, String units) {
            this.article = article;
            this.units = units;
        }

        /** The units of this kind, for messages. */
        public String units() {
            return units;
        }
    }

    /** Every unit: its name, what it measures and its size in bytes or nanoseconds. */
    public enum Unit {
        B("B", Kind.SIZE, 1L),
        KIB("KiB", Kind.SIZE, 1L << 10),
        MIB("MiB", Kind.SIZE, 1L << 20),
        GIB("GiB", Kind.SIZE, 1L << 30),
        MS("ms", Kind.DURATION, 1_000_000L),
        S("s", Kind.DURATION, 1_000_000_000L),
        MIN("min", Kind.DURATION, 60_000_000_000L),
        /** Minutes again, as in 5m30s (Go, Prometheus, Kubernetes write them so); never MiB. */
        M("m", Kind.DURATION, 60_000_000_000L),
        H("h", Kind.DURATION, 3_600_000_000_000L);

        private final String symbol;
        private final Kind kind;
        private final long factor;

        Unit(String symbol, Kind kind, long factor) {
            this.symbol = symbol;
            this.kind = kind;
            this.factor = factor;
        }

        public String symbol() {
            return symbol;
        }

        public Kind kind() {
            return kind;
        }

        /** Bytes (sizes) or nanoseconds (durations) in one of this unit. */
        public long factor() {
            return factor;
        }

        static Unit of(String symbol) {
            for (Unit u : values()) {
                if (u.symbol.equalsIgnoreCase(symbol)) {
                    return u;
                }
            }
            return null;
        }
    }

    /** A number and the letters after it; a duration may chain several. */
    private static final Pattern PART = Pattern.compile("(\\d+)\\s*([A-Za-z]*)");
    private static final Pattern WHOLE = Pattern.compile("(\\d+\\s*[A-Za-z]*\\s*)+");

    private Units() {
    }

    /**
     * Parses a size: a whole number and one of B, KiB, MiB, GiB, or a bare 0.
     *
     * @return bytes
     * @throws IllegalArgumentException saying what is wrong and what was probably meant
     */
    public static long parseBytes(String text) {
        List<long[]> parts = parse(text, Kind.SIZE);
        if (parts.size() != 1) {
            throw new IllegalArgumentException("a size is one number and one unit (" + Kind.SIZE.units() + ")");
        }
        return parts.getFirst()[0];
    }

    /**
     * Parses a duration: whole numbers with ms, s, min (or m), h, chained as in 1h30min or 5m30s;
     * or a bare 0.
     *
     * @throws IllegalArgumentException saying what is wrong and what was probably meant
     */
    public static Duration parseDuration(String text) {
        long nanos = 0;
        for (long[] part : parse(text, Kind.DURATION)) {
            nanos = addExact(nanos, part[0]);
        }
        return Duration.ofNanos(nanos);
    }

    /** Each part's amount in bytes or nanoseconds. */
    private static List<long[]> parse(String text, Kind kind) {
        String v = text == null ? "" : text.strip();
        if (v.isEmpty()) {
            throw new IllegalArgumentException("is empty: give " + kind.article + " with its unit (" + kind.units() + ")");
        }
        if (v.equals("0")) {
            return List.of(new long[] {0});
        }
        if (!WHOLE.matcher(v).matches()) {
            throw new IllegalArgumentException("is not " + kind.article + " such as " + example(kind)
                    + " (whole numbers with " + kind.units() + ")");
        }
        List<long[]> parts = new ArrayList<>();
        List<Unit> seen = new ArrayList<>();
        Matcher m = PART.matcher(v);
        int at = 0;
        while (at < v.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalStateException("WHOLE admitted '" + v + "'"); // cannot happen
            }
            String digits = m.group(1);
            String symbol = m.group(2);
            if (symbol.isEmpty()) {
                throw new IllegalArgumentException("has no unit: " + digits + " what? Write it as " + digits
                        + (kind == Kind.SIZE ? "B, " + digits + "KiB or " + digits + "MiB" : "ms, " + digits + "s or " + digits + "min")
                        + " (" + kind.units() + "; a bare number is only allowed for 0)");
            }
            Unit unit = Unit.of(symbol);
            if (unit == null || unit.kind != kind) {
                throw new IllegalArgumentException(unknownUnit(symbol, kind, unit));
            }
            if (seen.contains(unit) || (unit == Unit.M && seen.contains(Unit.MIN)) || (unit == Unit.MIN && seen.contains(Unit.M))) {
                throw new IllegalArgumentException("names " + symbol + " twice");
            }
            seen.add(unit);
            long n;
            try {
                n = Long.parseLong(digits);
                parts.add(new long[] {Math.multiplyExact(n, unit.factor)});
            } catch (NumberFormatException | ArithmeticException e) {
                throw new IllegalArgumentException("is too large");
            }
            at = m.end();
            while (at < v.length() && Character.isWhitespace(v.charAt(at))) {
                at++;
            }
        }
        return parts;
    }

    private static long addExact(long a, long b) {
        try {
            return Math.addExact(a, b);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("is too large");
        }
    }

    private static String example(Kind kind) {
        return kind == Kind.SIZE ? "512KiB or 16MiB" : "250ms, 30s, 5min or 1h30min";
    }

    /** What to say about a unit that is not in the table for this kind, naming the likely one. */
    private static String unknownUnit(String symbol, Kind kind, Unit other) {
        String s = symbol.toLowerCase(Locale.ROOT);
        if (kind == Kind.SIZE) {
            String meant = switch (s) {
                case "m", "mb", "mbyte", "mbytes" -> "MiB";
                case "k", "kb", "kbyte", "kbytes" -> "KiB";
                case "g", "gb", "gbyte", "gbytes" -> "GiB";
                case "bytes", "byte" -> "B";
                default -> null;
            };
            if (s.equals("m")) {
                return "unit '" + symbol + "' is minutes, not a size unit: did you mean MiB? (sizes take " + kind.units()
                        + ", binary: 1MiB = 1048576B)";
            }
            if (meant != null) {
                return "unit '" + symbol + "' is ambiguous or unknown: did you mean " + meant + "? (sizes take "
                        + kind.units() + ", binary: 1KiB = 1024B)";
            }
            if (other != null) {
                return "unit '" + symbol + "' is a duration unit, not a size unit (sizes take " + kind.units() + ")";
            }
            return "unknown size unit '" + symbol + "' (sizes take " + kind.units() + ")";
        }
        String meant = switch (s) {
            case "sec", "secs", "second", "seconds" -> "s";
            case "mins", "minute", "minutes" -> "min";
            case "hr", "hrs", "hour", "hours" -> "h";
            case "msec", "msecs", "millis", "milliseconds" -> "ms";
            default -> null;
        };
        if (meant != null) {
            return "unknown duration unit '" + symbol + "': did you mean " + meant + "? (durations take " + kind.units() + ")";
        }
        if (other != null) {
            return "unit '" + symbol + "' is a size unit, not a duration unit (durations take " + kind.units() + ")";
        }
        return "unknown duration unit '" + symbol + "' (durations take " + kind.units() + ")";
    }
}
