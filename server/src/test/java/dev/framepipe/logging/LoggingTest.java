package dev.framepipe.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.framepipe.config.FramepipeConfig.LogFormat;
import dev.framepipe.config.FramepipeConfig.LogLevel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * System.Logger and Netty records reach Logback, filtered by level, as text lines or as JSON
 * objects that a JSON parser reads back field by field.
 */
class LoggingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger OWN = System.getLogger("dev.framepipe.test.LoggingTest");
    private static final System.Logger LIBRARY = System.getLogger("io.netty.test.LoggingTest");

    @AfterEach
    void restore() {
        MDC.clear();
        Logging.configure(LogLevel.INFO, LogFormat.TEXT, Logging.Target.STDOUT); // the suite's set-up
    }

    /** Runs {@code logging} with standard output captured; returns the lines written. */
    private static List<String> stdout(Runnable logging) {
        PrintStream old = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            logging.run();
        } finally {
            System.setOut(old);
        }
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void systemLoggerRecordsGoThroughLogback() {
        assertThat(LoggerFactory.getILoggerFactory()).isInstanceOf(LoggerContext.class);
        Logging.configure(LogLevel.INFO, LogFormat.TEXT, Logging.Target.STDOUT);
        List<String> lines = stdout(() -> OWN.log(System.Logger.Level.INFO, "hello from System.Logger"));
        assertThat(lines).singleElement().satisfies(l -> assertThat(l)
                .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO  dev\\.framepipe\\.test\\.LoggingTest: hello from System\\.Logger"));
    }

    @Test
    void nettyLogsThroughSlf4j() {
        assertThat(io.netty.util.internal.logging.InternalLoggerFactory.getDefaultFactory())
                .isInstanceOf(io.netty.util.internal.logging.Slf4JLoggerFactory.class);
    }

    @Test
    void levelsFilterAndDebugIsForFramepipesOwnLoggers() {
        Logging.configure(LogLevel.WARN, LogFormat.TEXT, Logging.Target.STDOUT);
        List<String> warn = stdout(() -> {
            OWN.log(System.Logger.Level.INFO, "info-own");
            OWN.log(System.Logger.Level.WARNING, "warn-own");
            OWN.log(System.Logger.Level.ERROR, "error-own");
            LIBRARY.log(System.Logger.Level.INFO, "info-library");
        });
        assertThat(String.join("\n", warn)).contains("warn-own", "error-own").doesNotContain("info-own", "info-library");

        Logging.configure(LogLevel.ERROR, LogFormat.TEXT, Logging.Target.STDOUT);
        assertThat(String.join("\n", stdout(() -> {
            OWN.log(System.Logger.Level.WARNING, "warn-own");
            OWN.log(System.Logger.Level.ERROR, "error-own");
        }))).contains("error-own").doesNotContain("warn-own");

        Logging.configure(LogLevel.DEBUG, LogFormat.TEXT, Logging.Target.STDOUT);
        assertThat(String.join("\n", stdout(() -> {
            OWN.log(System.Logger.Level.DEBUG, "debug-own");
            OWN.log(System.Logger.Level.TRACE, "trace-own");
            LIBRARY.log(System.Logger.Level.DEBUG, "debug-library");
            LIBRARY.log(System.Logger.Level.INFO, "info-library");
        }))).contains("debug-own", "info-library").doesNotContain("trace-own", "debug-library");
    }

    @Test
    void jsonLinesParseAndCarryTheRecordsFieldsAndStructuredFields() throws Exception {
        Logging.configure(LogLevel.INFO, LogFormat.JSON, Logging.Target.STDOUT);
        List<String> lines = stdout(() -> {
            OWN.log(System.Logger.Level.INFO, "plain");
            MDC.put(LogFields.LANE, "3");
            MDC.put(LogFields.CONNECTION, "0a1b2c3d");
            MDC.put("message", "clashes with a fixed field");
            OWN.log(System.Logger.Level.WARNING, "quote \" backslash \\ newline \n tab \t bell \u0007 unicode ß😀");
            MDC.clear();
            OWN.log(System.Logger.Level.ERROR, "failed", new IllegalStateException("boom"));
        });
        assertThat(lines).hasSize(3);
        List<JsonNode> records = new ArrayList<>();
        for (String line : lines) {
            records.add(JSON.readTree(line)); // each line one object: a parse error fails the test
        }
        JsonNode plain = records.get(0);
        assertThat(fieldNames(plain)).containsExactly("timestamp", "level", "logger", "thread", "message");
        assertThat(plain.get("level").asText()).isEqualTo("INFO");
        assertThat(plain.get("logger").asText()).isEqualTo("dev.framepipe.test.LoggingTest");
        assertThat(plain.get("thread").asText()).isEqualTo(Thread.currentThread().getName());
        assertThat(plain.get("message").asText()).isEqualTo("plain");
        Instant at = Instant.parse(plain.get("timestamp").asText()); // ISO-8601, UTC
        assertThat(at).isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(1));

        JsonNode fields = records.get(1);
        assertThat(fields.get("level").asText()).isEqualTo("WARN");
        assertThat(fields.get("message").asText())
                .isEqualTo("quote \" backslash \\ newline \n tab \t bell \u0007 unicode ß😀");
        assertThat(fields.get("lane").asText()).isEqualTo("3");
        assertThat(fields.get("connection").asText()).isEqualTo("0a1b2c3d");
        assertThat(fields.get("field_message").asText()).isEqualTo("clashes with a fixed field");

        JsonNode error = records.get(2);
        assertThat(error.get("level").asText()).isEqualTo("ERROR");
        assertThat(error.has("lane")).isFalse();
        assertThat(error.get("exception").asText()).startsWith("java.lang.IllegalStateException: boom")
                .contains("\tat dev.framepipe.logging.LoggingTest");
    }

    @Test
    void slf4jKeyValuePairsBecomeFieldsNumbersStayNumbers() throws Exception {
        LoggerContext context = new LoggerContext();
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger("dev.framepipe.x"), Level.INFO, "kv", null, null);
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("frames", 42));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("target", "127.0.0.1:7070"));
        event.setMDCPropertyMap(Map.of());
        JsonLineEncoder json = new JsonLineEncoder();
        JsonNode node = JSON.readTree(new String(json.encode(event), StandardCharsets.UTF_8));
        assertThat(node.get("frames").isNumber()).isTrue();
        assertThat(node.get("frames").asInt()).isEqualTo(42);
        assertThat(node.get("target").asText()).isEqualTo("127.0.0.1:7070");
        String text = new String(new TextLineEncoder().encode(event), StandardCharsets.UTF_8);
        assertThat(text).endsWith("dev.framepipe.x: kv frames=42 target=127.0.0.1:7070" + System.lineSeparator());
    }

    @Test
    void aTextRecordIsOneLineEvenWhenItsMessageHasLineBreaks() {
        Logging.configure(LogLevel.INFO, LogFormat.TEXT, Logging.Target.STDOUT);
        MDC.put(LogFields.LANE, "1");
        List<String> lines = stdout(() -> OWN.log(System.Logger.Level.INFO, "two\nlines"));
        assertThat(lines).singleElement().satisfies(l -> assertThat(l).endsWith("LoggingTest: two\\nlines lane=1"));
    }

    @Test
    void toolsLogToStandardErrorLeavingStandardOutputToTheirResults() {
        Logging.configure(LogLevel.INFO, LogFormat.TEXT, Logging.Target.STDERR);
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        List<String> out;
        try {
            out = stdout(() -> OWN.log(System.Logger.Level.WARNING, "to stderr"));
        } finally {
            System.setErr(old);
        }
        assertThat(out).isEmpty();
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("to stderr");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
