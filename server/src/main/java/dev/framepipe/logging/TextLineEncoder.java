package dev.framepipe.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * One line per record, for people:
 * {@code 2026-11-26T10:15:30.123Z INFO  dev.framepipe.server.FramepipeServer: framepipe ready: ... lane=0}:
 * timestamp (ISO-8601, UTC), level, logger, message, then the structured fields as
 * {@code key=value}. Line breaks inside a message are written as {@code \n}, so a record stays
 * one line; a stack trace follows its record on lines of its own (indented by a tab).
 */
public final class TextLineEncoder extends EncoderBase<ILoggingEvent> {

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
        StringBuilder sb = new StringBuilder(160);
        sb.append(JsonLineEncoder.TIMESTAMP.format(event.getInstant())).append(' ');
        String level = event.getLevel().toString();
        sb.append(level).append(" ".repeat(Math.max(1, 6 - level.length())));
        sb.append(event.getLoggerName()).append(": ");
        oneLine(sb, event.getFormattedMessage());
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null) {
            for (Map.Entry<String, String> e : mdc.entrySet()) {
                sb.append(' ').append(e.getKey()).append('=');
                oneLine(sb, e.getValue());
            }
        }
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (pairs != null) {
            for (KeyValuePair kv : pairs) {
                sb.append(' ').append(kv.key).append('=');
                oneLine(sb, String.valueOf(kv.value));
            }
        }
        sb.append(CoreConstants.LINE_SEPARATOR);
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            sb.append(ThrowableProxyUtil.asString(thrown)).append(CoreConstants.LINE_SEPARATOR);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void oneLine(StringBuilder sb, String s) {
        if (s == null) {
            sb.append("null");
            return;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else {
                sb.append(c);
            }
        }
    }
}
