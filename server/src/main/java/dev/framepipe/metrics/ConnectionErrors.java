package dev.framepipe.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.netty.channel.Channel;
import io.netty.channel.unix.Errors;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.PrematureChannelClosureException;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLException;

/**
 * {@code framepipe_connection_errors_total{port,cause}}: exceptions that ended a connection, on
 * either port. What a client (or the network between) causes is counted and logged at DEBUG on
 * one line: a peer that resets its connection, speaks broken TLS or sends bytes no decoder takes
 * is expected traffic, and a stack trace per event would let any client flood the log. Only
 * what is a bug of ours ({@link Cause#INTERNAL}) is logged as a WARNING with its stack trace.
 * Both label sets are fixed, every counter is registered up front and resolved once.
 */
public final class ConnectionErrors implements MeterBinder {

    public static final String NAME = MetricNames.CONNECTION_ERRORS;

    private static final System.Logger LOG = System.getLogger(ConnectionErrors.class.getName());

    public enum Port {
        FRAME, HTTP;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Cause {
        /** The peer reset the connection, or it was gone when we wrote (ECONNRESET, EPIPE). */
        RESET,
        /** TLS failed after the handshake (a bad record, an alert), or on the HTTP port at all. */
        TLS,
        /** A decoder refused the bytes (Netty's {@link DecoderException} with no cause of ours). */
        DECODE,
        /** Any other I/O error of the socket (timed out, host unreachable, ...), or the connection ended mid-message. */
        OTHER,
        /** A bug of ours: an unexpected exception in a handler. Logged with its stack trace. */
        INTERNAL;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public boolean clientCaused() {
            return this != INTERNAL;
        }
    }

    private final Map<Port, Map<Cause, Counter>> counters = new EnumMap<>(Port.class);

    @Override
    public void bindTo(MeterRegistry registry) {
        for (Port p : Port.values()) {
            Map<Cause, Counter> byCause = new EnumMap<>(Cause.class);
            for (Cause c : Cause.values()) {
                byCause.put(c, Counter.builder(NAME)
                        .description("Connections ended by an error: resets, TLS and decoding failures caused by the"
                                + " client; internal = a bug, logged with its stack trace")
                        .tag("port", p.label())
                        .tag("cause", c.label())
                        .register(registry));
            }
            counters.put(p, byCause);
        }
    }

    /**
     * Counts {@code error} under its cause and logs it (see the class comment). The caller
     * closes the connection.
     *
     * @return the cause it was counted as
     */
    public Cause caught(Port port, Channel channel, Throwable error) {
        Cause cause = classify(error);
        Map<Cause, Counter> byCause = counters.get(port);
        if (byCause != null) { // null only when never bound (a test's handler on its own)
            byCause.get(cause).increment();
        }
        if (cause.clientCaused()) {
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                LOG.log(System.Logger.Level.DEBUG, port.label() + " connection " + channel + " ended by the client ("
                        + cause.label() + "): " + error);
            }
        } else {
            LOG.log(System.Logger.Level.WARNING, port.label() + " connection " + channel + " failed", error);
        }
        return cause;
    }

    public double count(Port port, Cause cause) {
        return counters.get(port).get(cause).count();
    }

    /**
     * Which side an exception that reached the end of a connection's pipeline is on. TLS is
     * checked first ({@link SSLException}, Netty's {@code NotSslRecordException} included, is an
     * {@link IOException}). A {@link DecoderException} is the peer's when it carries no cause, or
     * a cause that is itself the peer's (Netty wraps SSL and I/O errors in it); one that wraps
     * anything else is a decoder of ours that threw: a bug.
     */
    public static Cause classify(Throwable error) {
        if (error instanceof SSLException) {
            return Cause.TLS;
        }
        if (error instanceof DecoderException) {
            Throwable inner = error.getCause();
            if (inner == null || inner == error || isPipelineDepth(inner)) {
                return Cause.DECODE;
            }
            return classify(inner);
        }
        if (error instanceof PrematureChannelClosureException) {
            return Cause.OTHER; // the connection ended in the middle of a message
        }
        if (error instanceof IOException io) {
            return isReset(io) ? Cause.RESET : Cause.OTHER;
        }
        return Cause.INTERNAL;
    }

    /**
     * Netty's HttpServerCodec refuses a client that pipelines more requests than it will queue
     * unanswered (128) by throwing this from its decoder: the client's doing, not a bug.
     */
    private static boolean isPipelineDepth(Throwable e) {
        return e instanceof IllegalStateException && e.getMessage() != null
                && e.getMessage().startsWith("maxPipelineDepth exceeded");
    }

    /**
     * ECONNRESET or EPIPE. The native transports say so in an errno (their message comes from
     * strerror, which may be translated); the JDK's NIO in its message ("Connection reset",
     * "Broken pipe").
     */
    private static boolean isReset(IOException e) {
        if (e instanceof Errors.NativeIoException n) {
            // Only reached with a native exception in hand, so the native library is loaded.
            int errno = n.expectedErr();
            if (errno == Errors.ERRNO_ECONNRESET_NEGATIVE || errno == Errors.ERRNO_EPIPE_NEGATIVE) {
                return true;
            }
        }
        String message = e.getMessage();
        return message != null && (message.contains("Connection reset") || message.contains("Broken pipe"));
    }
}
