package dev.framepipe.config;

import dev.framepipe.config.FramepipeConfig.AllocatorKind;
import dev.framepipe.config.FramepipeConfig.Transport;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Reads settings from, in rising precedence: the defaults, the YAML file, the environment
 * ({@code FRAMEPIPE_*}), and command-line flags. Every value is validated; a bad one is
 * rejected with a message that names the setting and where its value came from. Sizes and
 * durations take their units from {@link Units}.
 */
public final class ConfigLoader {

    /** Where a setting's value came from when nothing set it. */
    public static final String DEFAULT_SOURCE = "default";

    private ConfigLoader() {
    }

    /**
     * A configuration with, for every setting, the text it was built from and where that came
     * from ({@value #DEFAULT_SOURCE}, {@code file PATH}, {@code environment variable NAME} or
     * {@code flag --key}): what {@code framepipe config check} prints.
     */
    public record Resolved(FramepipeConfig config, Map<Setting, String> values, Map<Setting, String> sources) {

        public String value(Setting s) {
            return values.get(s);
        }

        public String source(Setting s) {
            return sources.get(s);
        }
    }

    /**
     * @param file  the YAML file, or null for none
     * @param env   the environment (System.getenv())
     * @param flags settings given on the command line, by key
     */
    public static FramepipeConfig load(Path file, Map<String, String> env, Map<String, String> flags) {
        return resolve(file, env, flags).config();
    }

    /** As {@link #load}, keeping each setting's text and source. */
    public static Resolved resolve(Path file, Map<String, String> env, Map<String, String> flags) {
        Map<Setting, String> values = new EnumMap<>(Setting.class);
        Map<Setting, String> sources = new EnumMap<>(Setting.class);
        if (file != null) {
            for (Map.Entry<String, Object> e : readYaml(file).entrySet()) {
                Setting s = Setting.byKey(e.getKey());
                if (s == null) {
                    throw new ConfigException("unknown setting '" + e.getKey() + "' in " + file);
                }
                if (e.getValue() == null) {
                    throw new ConfigException("setting '" + s.key() + "' in " + file + " has no value");
                }
                values.put(s, String.valueOf(e.getValue()));
                sources.put(s, "file " + file);
            }
        }
        for (Setting s : Setting.values()) {
            String v = env.get(s.envName());
            if (v != null) {
                values.put(s, v);
                sources.put(s, "environment variable " + s.envName());
            }
        }
        for (Map.Entry<String, String> e : flags.entrySet()) {
            Setting s = Setting.byKey(e.getKey());
            if (s == null) {
                throw new ConfigException("unknown setting '--" + e.getKey() + "'");
            }
            values.put(s, e.getValue());
            sources.put(s, "flag --" + s.key());
        }
        FramepipeConfig config = build(values, sources);
        Map<Setting, String> effective = new EnumMap<>(Setting.class);
        Map<Setting, String> from = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            effective.put(s, values.getOrDefault(s, s.defaultValue()).trim());
            from.put(s, sources.getOrDefault(s, DEFAULT_SOURCE));
        }
        return new Resolved(config, java.util.Collections.unmodifiableMap(effective),
                java.util.Collections.unmodifiableMap(from));
    }

    /** Builds a configuration from explicit values; settings not given take their defaults. */
    public static FramepipeConfig fromValues(Map<Setting, String> values) {
        Map<Setting, String> copy = new EnumMap<>(Setting.class);
        copy.putAll(values);
        return build(copy, new EnumMap<>(Setting.class));
    }

    private static Map<String, Object> readYaml(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            if (doc == null) {
                return Map.of();
            }
            if (!(doc instanceof Map<?, ?> map)) {
                throw new ConfigException("configuration file " + file + " is not a mapping of settings");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) map;
            return m;
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage(), e);
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new ConfigException("configuration file " + file + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    private static FramepipeConfig build(Map<Setting, String> values, Map<Setting, String> sources) {
        Values r = new Values(values, sources);
        String bind = r.string(Setting.BIND_ADDRESS);
        int framePort = r.intIn(Setting.FRAME_PORT, 0, 65535);
        int httpPort = r.intIn(Setting.HTTP_PORT, 0, 65535);
        int ioThreads = r.intIn(Setting.IO_THREADS, 0, 256);
        int workers = r.intIn(Setting.WORKER_PARALLELISM, 0, 32767);
        int ring = r.intIn(Setting.RING_CAPACITY, 2, 1 << 20);
        if (Integer.bitCount(ring) != 1) {
            throw r.bad(Setting.RING_CAPACITY, "must be a power of two");
        }
        int maxFrame = (int) r.sizeIn(Setting.MAX_FRAME_BYTES, 12, 1L << 30);
        int maxInFlight = r.intIn(Setting.MAX_IN_FLIGHT, 1, 1 << 20);
        int maxConnections = r.intIn(Setting.MAX_CONNECTIONS, 1, 1 << 24);
        Duration idle = r.duration(Setting.IDLE_TIMEOUT);
        Duration drainDelay = r.duration(Setting.DRAIN_DELAY);
        Duration drain = r.duration(Setting.DRAIN_TIMEOUT);
        Duration linger = r.duration(Setting.CLOSE_LINGER);
        Transport transport = r.choice(Setting.TRANSPORT, Transport.class);
        AllocatorKind allocator = r.choice(Setting.ALLOCATOR, AllocatorKind.class);
        int high = (int) r.sizeIn(Setting.WRITE_BUFFER_HIGH_WATER, 1, 1L << 30);
        int low = (int) r.sizeIn(Setting.WRITE_BUFFER_LOW_WATER, 0, 1L << 30);
        if (low > high) {
            throw r.bad(Setting.WRITE_BUFFER_LOW_WATER, "must not exceed write-buffer-high-water (" + high + ")");
        }
        int threshold = r.intIn(Setting.PARALLEL_THRESHOLD_FLOATS, 1024, Integer.MAX_VALUE);
        // At most the bytes of a frame that is split across the workers: the I/O thread must never join forked work.
        long inlineMax = r.sizeIn(Setting.INLINE_MAX_BYTES, 0, 4L * threshold);
        int warmup = r.intIn(Setting.WARMUP_ROUNDS, 0, 10_000_000);
        Duration maxAge = r.duration(Setting.MAX_CONNECTION_AGE);
        Duration slowGrace = r.duration(Setting.SLOW_FRAME_GRACE);
        long slowRate = r.sizeIn(Setting.SLOW_FRAME_MIN_RATE, 0, 1L << 30);
        long memoryBudget = r.sizeIn(Setting.DIRECT_MEMORY_BUDGET, 0, 1L << 50);
        if (memoryBudget != 0 && memoryBudget < 1L << 20) {
            throw r.bad(Setting.DIRECT_MEMORY_BUDGET, "must be 0 (automatic) or at least 1MiB");
        }
        FramepipeConfig.TlsSettings tls = tls(r);
        FramepipeConfig.LogLevel logLevel = r.choice(Setting.LOG_LEVEL, FramepipeConfig.LogLevel.class);
        FramepipeConfig.LogFormat logFormat = r.choice(Setting.LOG_FORMAT, FramepipeConfig.LogFormat.class);
        return new FramepipeConfig(bind, framePort, httpPort, ioThreads, workers, ring, maxFrame, maxInFlight,
                maxConnections, idle, drainDelay, drain, linger, transport, allocator, high, low, threshold, inlineMax, warmup,
                maxAge, slowGrace, slowRate, memoryBudget, tls, http(r), logLevel, logFormat);
    }

    private static FramepipeConfig.HttpSettings http(Values r) {
        int maxConnections = r.intIn(Setting.HTTP_MAX_CONNECTIONS, 1, 1 << 20);
        Duration header = r.duration(Setting.HTTP_HEADER_TIMEOUT);
        Duration idle = r.duration(Setting.HTTP_IDLE_TIMEOUT);
        // No "0 = never": an HTTP connection that never has to finish is what these limits exist against.
        if (header.isZero()) {
            throw r.bad(Setting.HTTP_HEADER_TIMEOUT, "must be more than 0");
        }
        if (idle.isZero()) {
            throw r.bad(Setting.HTTP_IDLE_TIMEOUT, "must be more than 0");
        }
        // Lower bounds: a probe's or a scraper's request must still fit ("GET /health/ready HTTP/1.1"
        // is 26 bytes; Prometheus sends about 300 bytes of headers).
        int line = (int) r.sizeIn(Setting.HTTP_MAX_REQUEST_LINE, 256, 1L << 20);
        int headers = (int) r.sizeIn(Setting.HTTP_MAX_HEADER_BYTES, 1024, 1L << 20);
        return new FramepipeConfig.HttpSettings(maxConnections, header, idle, line, headers);
    }

    private static FramepipeConfig.TlsSettings tls(Values r) {
        java.nio.file.Path chain = r.optionalFile(Setting.TLS_CERT_CHAIN);
        java.nio.file.Path key = r.optionalFile(Setting.TLS_KEY);
        FramepipeConfig.ClientAuth auth = r.choice(Setting.TLS_CLIENT_AUTH, FramepipeConfig.ClientAuth.class);
        java.nio.file.Path ca = r.optionalFile(Setting.TLS_CA);
        FramepipeConfig.TlsProvider provider = r.choice(Setting.TLS_PROVIDER, FramepipeConfig.TlsProvider.class);
        Duration reload = r.duration(Setting.TLS_RELOAD_INTERVAL);
        Duration handshake = r.duration(Setting.TLS_HANDSHAKE_TIMEOUT);
        boolean httpTls = r.bool(Setting.HTTP_TLS);
        if ((chain == null) != (key == null)) {
            throw r.bad(chain == null ? Setting.TLS_CERT_CHAIN : Setting.TLS_KEY,
                    "tls-cert-chain and tls-key are given together or not at all");
        }
        if (chain == null && (auth != FramepipeConfig.ClientAuth.NONE || httpTls)) {
            throw r.bad(auth != FramepipeConfig.ClientAuth.NONE ? Setting.TLS_CLIENT_AUTH : Setting.HTTP_TLS,
                    "needs TLS: set tls-cert-chain and tls-key");
        }
        if (auth != FramepipeConfig.ClientAuth.NONE && ca == null) {
            throw r.bad(Setting.TLS_CA, "client certificates are asked for (tls-client-auth) but no CA bundle is given");
        }
        if (handshake.isZero()) {
            throw r.bad(Setting.TLS_HANDSHAKE_TIMEOUT, "must be more than 0");
        }
        return new FramepipeConfig.TlsSettings(chain, key, auth, ca, provider, reload, handshake, httpTls);
    }

    /** Parses one setting's value, with messages that name it. */
    private record Values(Map<Setting, String> values, Map<Setting, String> sources) {

        String raw(Setting s) {
            String v = values.get(s);
            return (v == null ? s.defaultValue() : v).trim();
        }

        ConfigException bad(Setting s, String why) {
            String from = sources.getOrDefault(s, "default");
            return new ConfigException("setting '" + s.key() + "' = '" + raw(s) + "' (from " + from + "): " + why);
        }

        String string(Setting s) {
            String v = raw(s);
            if (v.isEmpty()) {
                throw bad(s, "must not be empty");
            }
            return v;
        }

        /** A file path, or null for {@code none}; the file is read (and checked) when the server starts. */
        java.nio.file.Path optionalFile(Setting s) {
            String v = raw(s);
            if (v.isEmpty() || v.equalsIgnoreCase("none")) {
                return null;
            }
            return java.nio.file.Path.of(v);
        }

        boolean bool(Setting s) {
            return switch (raw(s).toLowerCase(Locale.ROOT)) {
                case "true", "on", "yes" -> true;
                case "false", "off", "no" -> false;
                default -> throw bad(s, "must be true or false");
            };
        }

        int intIn(Setting s, int min, int max) {
            long v;
            try {
                v = Long.parseLong(raw(s));
            } catch (NumberFormatException e) {
                throw bad(s, "must be a whole number");
            }
            if (v < min || v > max) {
                throw bad(s, "must be between " + min + " and " + max);
            }
            return (int) v;
        }

        long sizeIn(Setting s, long min, long max) {
            long n;
            try {
                n = Units.parseBytes(raw(s));
            } catch (IllegalArgumentException e) {
                throw bad(s, e.getMessage());
            }
            if (n < min || n > max) {
                throw bad(s, "must be between " + min + " and " + max + " bytes");
            }
            return n;
        }

        Duration duration(Setting s) {
            try {
                return Units.parseDuration(raw(s));
            } catch (IllegalArgumentException e) {
                throw bad(s, e.getMessage());
            }
        }

        <E extends Enum<E>> E choice(Setting s, Class<E> type) {
            String v = raw(s).toUpperCase(Locale.ROOT);
            for (E e : type.getEnumConstants()) {
                if (e.name().equals(v)) {
                    return e;
                }
            }
            StringBuilder allowed = new StringBuilder();
            for (E e : type.getEnumConstants()) {
                allowed.append(allowed.isEmpty() ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT));
            }
            throw bad(s, "must be one of " + allowed);
        }
    }
}
