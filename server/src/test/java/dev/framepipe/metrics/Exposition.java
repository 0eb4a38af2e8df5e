package dev.framepipe.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * A parsed scrape, text format 0.0.4 or OpenMetrics: the declared type of each family and every
 * sample with its labels. Strict enough to fail on anything malformed (a sample line that does
 * not parse, a label value with a bad escape), which is the point: Prometheus would drop it.
 */
record Exposition(Map<String, String> types, List<Sample> samples) {

    // types: family name (a counter's without _total) → counter, gauge, histogram, summary...

    record Sample(String name, Map<String, String> labels, double value) {
    }

    static Exposition parse(String body) {
        Map<String, String> types = new LinkedHashMap<>();
        List<Sample> samples = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.isEmpty() || line.equals("# EOF")) {
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                // Keyed by family: the text format declares a counter as name_total, OpenMetrics as name.
                String[] p = line.substring(7).split(" ");
                String family = p[1].equals("counter") && p[0].endsWith("_total")
                        ? p[0].substring(0, p[0].length() - "_total".length()) : p[0];
                types.put(family, p[1]);
            } else if (!line.startsWith("#")) {
                samples.add(sample(line));
            }
        }
        return new Exposition(types, samples);
    }

    private static Sample sample(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                String label = line.substring(i, eq);
                if (line.charAt(eq + 1) != '"') {
                    throw new IllegalArgumentException("unquoted label value: " + line);
                }
                StringBuilder v = new StringBuilder();
                int j = eq + 2;
                for (; line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char e = line.charAt(++j);
                        v.append(switch (e) {
                            case '\\' -> '\\';
                            case '"' -> '"';
                            case 'n' -> '\n';
                            default -> throw new IllegalArgumentException("bad escape \\" + e + ": " + line);
                        });
                    } else {
                        v.append(c);
                    }
                }
                labels.put(label, v.toString());
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        String[] rest = line.substring(i).trim().split(" ");
        return new Sample(name, labels, parseValue(rest[0]));
    }

    private static double parseValue(String s) {
        return switch (s) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(s);
        };
    }

    List<Sample> series(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).toList();
    }

    List<Sample> series(String name, Predicate<Sample> which) {
        return series(name).stream().filter(which).toList();
    }

    /** The value of the one sample with exactly these labels (name=value pairs). */
    double value(String name, String... labels) {
        Map<String, String> want = new LinkedHashMap<>();
        for (int k = 0; k < labels.length; k += 2) {
            want.put(labels[k], labels[k + 1]);
        }
        List<Sample> found = series(name, s -> s.labels().equals(want));
        if (found.size() != 1) {
            throw new AssertionError(found.size() + " samples of " + name + want);
        }
        return found.getFirst().value();
    }

    /** Sum over every sample of the family name (all label combinations). */
    double sum(String name) {
        return series(name).stream().mapToDouble(Sample::value).sum();
    }

    /** The label names the samples of this name carry, each set once. */
    Set<Set<String>> labelNames(String name) {
        Set<Set<String>> out = new java.util.HashSet<>();
        for (Sample s : series(name)) {
            out.add(new TreeSet<>(s.labels().keySet()));
        }
        return out;
    }

    /** The values one label takes across a family. */
    Set<String> labelValues(String name, String label) {
        Set<String> out = new TreeSet<>();
        for (Sample s : series(name)) {
            out.add(s.labels().get(label));
        }
        return out;
    }
}
