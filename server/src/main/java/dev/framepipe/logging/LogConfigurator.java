package dev.framepipe.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;
import dev.framepipe.config.FramepipeConfig.LogLevel;

/**
 * Logback's first configuration in every framepipe JVM (found through
 * {@code META-INF/services}): before a command has read its settings, records go to standard
 * output at the level and in the format of {@code FRAMEPIPE_LOG_LEVEL} and
 * {@code FRAMEPIPE_LOG_FORMAT} (info, text by default), never at Logback's own default of
 * debug. A command then sets its own ({@link Logging#configure}). With
 * {@code -Dlogback.configurationFile} Logback reads that file instead.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (Logging.externallyConfigured()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        Logging.configure(context, Logging.levelFrom(System.getenv(), LogLevel.INFO), Logging.formatFrom(System.getenv()),
                Logging.Target.STDOUT);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
