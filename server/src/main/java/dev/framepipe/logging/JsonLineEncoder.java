package dev.framepipe.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object per record, on one line, for log collectors (Kubernetes: Fluent Bit, Vector,
 * Promtail, the Elastic agent read standard output line by line):
 *
 * <pre>{"timestamp":"2026-11-26T10:15:30.123Z","level":"INFO","logger":"dev.framepipe.server.FramepipeServer",
 *  "thread":"main","message":"framepipe ready: ...","lane":"0","exception":"java.io...\n\tat ..."}</pre>
 *
 * {@code timestamp} is ISO-8601 in UTC with milliseconds; {@code level} one of ERROR, WARN,
 * INFO, DEBUG, TRACE; then the logger, thread and message. The record's MDC entries and SLF4J
 * key-value pairs follow as fields of their own ({@link LogFields}: {@code lane},
 * {@code connection}, {@code remote}); a key that clashes with one of the fixed fields is written
 * as {@code field_KEY}. A stack trace is one string field, {@code exception}. No field is
 * written without a value.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {

    static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX")
            .withZone(ZoneOffset.UTC);
    private static final Set<String> FIXED = Set.of("timestamp", "level", "logger", "thread", "message", "exception");

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{\"timestamp\":\"").append(TIMESTAMP.format(event.getInstant())).append('"');
        field(sb, "level", event.getLevel().toString());
        field(sb, "logger", event.getLoggerName());
        field(sb, "thread", event.getThreadName());
        field(sb, "message", event.getFormattedMessage());
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null) {
            for (Map.Entry<String, String> e : mdc.entrySet()) {
                field(sb, key(e.getKey()), e.getValue());
            }
        }
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (pairs != null) {
            for (KeyValuePair kv : pairs) {
                if (kv.value instanceof Number || kv.value instanceof Boolean) {
                    sb.append(",\"");
                    escape(sb, key(kv.key));
                    sb.append("\":").append(kv.value);
                } else {
                    field(sb, key(kv.key), kv.value == null ? null : String.valueOf(kv.value));
                }
            }
        }
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            field(sb, "exception", ThrowableProxyUtil.asString(thrown));
        }
        sb.append("}\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String key(String key) {
        return FIXED.contains(key) ? "field_" + key : key;
    }

    private static void field(StringBuilder sb, String name, String value) {
        if (value == null) {
            return;
        }
        sb.append(",\"");
        escape(sb, name);
        sb.append("\":\"");
        escape(sb, value);
        sb.append('"');
    }

    /** JSON string escaping (RFC 8259): quote, backslash and every control character. */
    static void escape(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
    }
}
