package dev.framepipe.logging;

import io.netty.channel.Channel;
import org.slf4j.MDC;

/**
 * Structured fields of log records (SLF4J MDC keys): a JSON line carries each as a field of its
 * own, a text line appends {@code key=value}. The MDC is per thread: {@link #lane} is set once on
 * each I/O thread (one lane per I/O thread), so every record logged there names its lane;
 * {@link #connection} around records about one connection.
 */
public final class LogFields {

    /** The lane (and ring) index of the I/O thread that logged. */
    public static final String LANE = "lane";
    /** The frame connection a record is about: Netty's short channel id. */
    public static final String CONNECTION = "connection";
    /** The connection's peer address. */
    public static final String REMOTE = "remote";

    private LogFields() {
    }

    /** Marks the calling thread as lane {@code index}'s I/O thread for the rest of its life. */
    public static void lane(int index) {
        MDC.put(LANE, Integer.toString(index));
    }

    /**
     * Names {@code channel} in the records logged until the returned scope closes:
     * {@code try (var scope = LogFields.connection(ch)) { LOG.log(...); }}.
     */
    public static Scope connection(Channel channel) {
        MDC.put(CONNECTION, channel.id().asShortText());
        if (channel.remoteAddress() != null) {
            MDC.put(REMOTE, String.valueOf(channel.remoteAddress()));
        }
        return Scope.CONNECTION;
    }

    /** Removes the fields it set; never throws. */
    public enum Scope implements AutoCloseable {
        CONNECTION;

        @Override
        public void close() {
            MDC.remove(LogFields.CONNECTION);
            MDC.remove(LogFields.REMOTE);
        }
    }
}
