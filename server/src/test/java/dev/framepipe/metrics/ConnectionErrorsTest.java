package dev.framepipe.metrics;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.metrics.ConnectionErrors.Cause;
import dev.framepipe.metrics.ConnectionErrors.Port;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Errors;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.NotSslRecordException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** Which side an exception is on, and what is counted and logged for each. */
class ConnectionErrorsTest {

    @Test
    void resetsAndBrokenPipesFromTheJdkAndTheNativeTransportAreResets() {
        assertThat(ConnectionErrors.classify(new SocketException("Connection reset"))).isEqualTo(Cause.RESET);
        assertThat(ConnectionErrors.classify(new IOException("Connection reset by peer"))).isEqualTo(Cause.RESET);
        assertThat(ConnectionErrors.classify(new IOException("Broken pipe"))).isEqualTo(Cause.RESET);
        if (Epoll.isAvailable()) { // the errno constants come from the native library
            // The message is strerror's and may be translated: the errno decides.
            assertThat(ConnectionErrors.classify(new Errors.NativeIoException("read(..) failed: Verbindung zurückgesetzt",
                    Errors.ERRNO_ECONNRESET_NEGATIVE))).isEqualTo(Cause.RESET);
            assertThat(ConnectionErrors.classify(new Errors.NativeIoException("write(..) failed: Datenübergabe unterbrochen",
                    Errors.ERRNO_EPIPE_NEGATIVE))).isEqualTo(Cause.RESET);
        }
    }

    @Test
    void tlsDecodingAndOtherSocketErrorsAreTheClients() {
        assertThat(ConnectionErrors.classify(new SSLHandshakeException("no cert"))).isEqualTo(Cause.TLS);
        assertThat(ConnectionErrors.classify(new NotSslRecordException("plain text"))).isEqualTo(Cause.TLS);
        assertThat(ConnectionErrors.classify(new DecoderException(new SSLException("bad record mac")))).isEqualTo(Cause.TLS);
        assertThat(ConnectionErrors.classify(new DecoderException("bad bytes"))).isEqualTo(Cause.DECODE);
        assertThat(ConnectionErrors.classify(new TooLongFrameException("too long"))).isEqualTo(Cause.DECODE);
        assertThat(ConnectionErrors.classify(new CorruptedFrameException("corrupt"))).isEqualTo(Cause.DECODE);
        assertThat(ConnectionErrors.classify(new DecoderException(new IllegalStateException(
                "maxPipelineDepth exceeded: 128")))).isEqualTo(Cause.DECODE);
        assertThat(ConnectionErrors.classify(new DecoderException(new IOException("Connection reset")))).isEqualTo(Cause.RESET);
        assertThat(ConnectionErrors.classify(new SocketTimeoutException("Connection timed out"))).isEqualTo(Cause.OTHER);
        assertThat(ConnectionErrors.classify(new PrematureChannelClosureException("closed mid-message"))).isEqualTo(Cause.OTHER);
    }

    @Test
    void whatOurOwnCodeThrowsIsABugEvenWhenADecoderWrapsIt() {
        assertThat(ConnectionErrors.classify(new NullPointerException())).isEqualTo(Cause.INTERNAL);
        assertThat(ConnectionErrors.classify(new IllegalStateException("state"))).isEqualTo(Cause.INTERNAL);
        assertThat(ConnectionErrors.classify(new DecoderException(new IndexOutOfBoundsException("index 7")))).isEqualTo(Cause.INTERNAL);
        assertThat(ConnectionErrors.classify(new DecoderException(new DecoderException(new ArithmeticException()))))
                .isEqualTo(Cause.INTERNAL);
        assertThat(ConnectionErrors.classify(new OutOfMemoryError("direct buffer memory"))).isEqualTo(Cause.INTERNAL);
    }

    @Test
    void clientErrorsAreCountedAndLoggedWithoutAStackTraceBugsAsAWarningWithOne() {
        ConnectionErrors errors = new ConnectionErrors();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        errors.bindTo(registry);
        assertThat(registry.find(ConnectionErrors.NAME).counters()).as("every port and cause up front").hasSize(10);

        // Logging goes through SLF4J to Logback: the records are read from a list appender.
        Logger logger = (Logger)
                org.slf4j.LoggerFactory.getLogger(ConnectionErrors.class.getName());
        Level before = logger.getLevel();
        ListAppender<ILoggingEvent> records = new ListAppender<>();
        records.start();
        logger.addAppender(records);
        logger.setLevel(Level.ALL);
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            assertThat(errors.caught(Port.HTTP, ch, new IOException("Connection reset by peer"))).isEqualTo(Cause.RESET);
            assertThat(errors.caught(Port.FRAME, ch, new SSLHandshakeException("x"))).isEqualTo(Cause.TLS);
            assertThat(records.list).hasSize(2).allSatisfy(r -> {
                assertThat(r.getLevel().toInt()).isLessThan(Level.INFO.toInt());
                assertThat(r.getThrowableProxy()).as("no stack trace").isNull();
            });
            records.list.clear();
            NullPointerException bug = new NullPointerException("ours");
            assertThat(errors.caught(Port.FRAME, ch, bug)).isEqualTo(Cause.INTERNAL);
            assertThat(records.list).singleElement().satisfies(r -> {
                assertThat(r.getLevel()).isEqualTo(Level.WARN);
                assertThat(r.getThrowableProxy()).isNotNull();
                assertThat(r.getThrowableProxy().getMessage()).isEqualTo("ours");
            });
        } finally {
            logger.detachAppender(records);
            logger.setLevel(before);
            ch.finishAndReleaseAll();
        }
        assertThat(errors.count(Port.HTTP, Cause.RESET)).isEqualTo(1);
        assertThat(errors.count(Port.FRAME, Cause.TLS)).isEqualTo(1);
        assertThat(errors.count(Port.FRAME, Cause.INTERNAL)).isEqualTo(1);
        assertThat(errors.count(Port.HTTP, Cause.INTERNAL)).isZero();
    }
}
