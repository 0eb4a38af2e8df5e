package dev.framepipe.testing;

import dev.framepipe.config.ConfigLoader;
import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.Setting;
import dev.framepipe.server.FramepipeServer;
import java.util.EnumMap;
import java.util.Map;

/**
 * Starts servers for tests: loopback, any free ports, small thread counts, settings overridable.
 * The transport is {@code auto} unless the test JVM sets {@value #TRANSPORT_PROPERTY} (server/pom.xml
 * runs the server's connection tests once more with {@code nio}).
 */
public final class TestServers {

    /** System property naming the transport of every test server: auto, epoll or nio. */
    public static final String TRANSPORT_PROPERTY = "framepipe.test.transport";

    private TestServers() {
    }

    /** The transport test servers are asked for. */
    public static String transport() {
        return System.getProperty(TRANSPORT_PROPERTY, "auto");
    }

    public static FramepipeConfig config(Map<Setting, String> overrides) {
        Map<Setting, String> values = new EnumMap<>(Setting.class);
        values.put(Setting.BIND_ADDRESS, "127.0.0.1");
        values.put(Setting.FRAME_PORT, "0");
        values.put(Setting.HTTP_PORT, "0");
        values.put(Setting.IO_THREADS, "2");
        // More workers than I/O threads, as in production (all CPUs against half of them): the
        // lanes' drains park between bursts, so the tests run the parked path.
        values.put(Setting.WORKER_PARALLELISM, "3");
        values.put(Setting.DRAIN_DELAY, "0s"); // tests that drain want it now; DrainTest sets a delay where it tests one
        values.put(Setting.DRAIN_TIMEOUT, "10s");
        values.put(Setting.MAX_CONNECTION_AGE, "0s"); // a test's connection lives as long as the test needs it
        values.put(Setting.CLOSE_LINGER, "2s");
        values.put(Setting.WARMUP_ROUNDS, "0"); // tests start many servers; their kernels are warm after the first
        values.put(Setting.TRANSPORT, transport());
        values.putAll(overrides);
        return ConfigLoader.fromValues(values);
    }

    public static FramepipeServer start(Map<Setting, String> overrides) {
        try {
            return new FramepipeServer(config(overrides)).start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static FramepipeServer start() {
        return start(Map.of());
    }
}
