package dev.framepipe.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.framepipe.config.FramepipeConfig.LogFormat;
import dev.framepipe.config.FramepipeConfig.LogLevel;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Where framepipe's log records go. The code logs through {@code java.lang.System.Logger} (and
 * Netty through its own facade); both reach SLF4J (slf4j-jdk-platform-logging, Netty's SLF4J
 * detection) and Logback, which this class sets up: one console appender, text or JSON lines
 * ({@link TextLineEncoder}, {@link JsonLineEncoder}), a level.
 *
 * <p>{@code debug} applies to framepipe's own loggers ({@code dev.framepipe.*}); libraries
 * (Netty, Micrometer) stay at {@code info}, their debug output being their internals. An
 * operator who wants more control passes {@code -Dlogback.configurationFile=FILE}: then
 * Logback reads that file and this class changes nothing.
 */
public final class Logging {

    /** Where records go: the service logs to standard output, the tools to standard error. */
    public enum Target {
        STDOUT("System.out"), STDERR("System.err");

        private final String logback;

        Target(String logback) {
            this.logback = logback;
        }
    }

    public static final String LEVEL_ENV = "FRAMEPIPE_LOG_LEVEL";
    public static final String FORMAT_ENV = "FRAMEPIPE_LOG_FORMAT";
    static final String APPENDER = "framepipe-console";

    private Logging() {
    }

    /** True when the operator gave Logback a configuration file of their own. */
    public static boolean externallyConfigured() {
        String file = System.getProperty("logback.configurationFile");
        return file != null && !file.isBlank();
    }

    /**
     * Replaces the logging set-up: records at {@code level} and above, as {@code format}, to
     * {@code target}. Call before other threads log (a record logged meanwhile may be lost).
     */
    public static void configure(LogLevel level, LogFormat format, Target target) {
        if (externallyConfigured()) {
            return;
        }
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another SLF4J backend won: it has its own configuration
        }
        configure(context, level, format, target);
    }

    static void configure(LoggerContext context, LogLevel level, LogFormat format, Target target) {
        context.reset();
        Encoder<ILoggingEvent> encoder = format == LogFormat.JSON ? new JsonLineEncoder() : new TextLineEncoder();
        encoder.setContext(context);
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(APPENDER);
        appender.setTarget(target.logback);
        appender.setEncoder(encoder);
        appender.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        Level own = logback(level);
        root.setLevel(level == LogLevel.DEBUG ? Level.INFO : own);
        context.getLogger("dev.framepipe").setLevel(own);
    }

    private static Level logback(LogLevel level) {
        return switch (level) {
            case ERROR -> Level.ERROR;
            case WARN -> Level.WARN;
            case INFO -> Level.INFO;
            case DEBUG -> Level.DEBUG;
        };
    }

    /** The level {@code FRAMEPIPE_LOG_LEVEL} names, {@code fallback} when unset or not a level. */
    public static LogLevel levelFrom(Map<String, String> env, LogLevel fallback) {
        return parse(LogLevel.class, env.get(LEVEL_ENV), fallback);
    }

    /** The format {@code FRAMEPIPE_LOG_FORMAT} names, text when unset or not a format. */
    public static LogFormat formatFrom(Map<String, String> env) {
        return parse(LogFormat.class, env.get(FORMAT_ENV), LogFormat.TEXT);
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String value, E fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Enum.valueOf(type, value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return fallback; // serve and config check reject it with a message naming the variable
        }
    }
}
