package dev.framepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.ProjectFiles;
import dev.framepipe.testing.TestServers;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's own promises, against a stand-in server that holds answers or stops reading on
 * cue: back-pressure reaches the caller with bounded memory, deadlines fail a request without
 * desynchronising the connection, an I/O thread is never blocked, and the public API speaks plain
 * Java.
 */
class FramepipeClientTest {

    @TempDir
    Path dir;

    private static Request ping(String text) {
        return Request.ping(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(CompletableFuture<Response> f) throws Exception {
        return new String(f.get(10, TimeUnit.SECONDS).payload(), StandardCharsets.UTF_8);
    }

    private static RequestTimeoutException timeoutOf(CompletableFuture<Response> f) {
        await().atMost(Duration.ofSeconds(10)).until(f::isDone);
        assertThat(f).isCompletedExceptionally();
        assertThat(f.exceptionNow()).isInstanceOf(RequestTimeoutException.class);
        return (RequestTimeoutException) f.exceptionNow();
    }

    @Test
    void atMostMaxInFlightRequestsAreSentAndAnAnswerMakesRoomForTheNext() throws Exception {
        ClientOptions options = ClientOptions.builder().maxInFlight(4).build();
        try (FakeServer fake = new FakeServer(n -> false);
                FramepipeClient client = FramepipeClient.connect("127.0.0.1", fake.port(), options)) {
            FakeServer.Conn conn = fake.next();
            List<CompletableFuture<Response>> answers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                CompletableFuture<Response> f = client.trySend(ping("r" + i));
                assertThat(f).as("request %d fits", i).isNotNull();
                answers.add(f);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> conn.received.size() == 4);
            assertThat(client.inFlight()).isEqualTo(4);
            assertThat(client.isReady()).isFalse();
            assertThat(client.trySend(ping("refused"))).as("no room: nothing sent").isNull();
            CompletableFuture<Void> ready = client.whenReady();
            assertThat(ready).isNotDone();

            // The blocking form waits for room, and gives up at the request's deadline unsent.
            CompletableFuture<Response> tooLate = client.send(ping("too late").withTimeout(Duration.ofMillis(300)));
            assertThat(timeoutOf(tooLate).mayHaveRun()).isFalse();

            // A sender blocked on a full client goes on once an answer makes room.
            CompletableFuture<CompletableFuture<Response>> blocked =
                    CompletableFuture.supplyAsync(() -> client.send(ping("r4")));
            Thread.sleep(200);
            assertThat(blocked).as("still waiting for room").isNotDone();
            conn.answer(1);
            assertThat(text(answers.get(0))).isEqualTo("r0");
            assertThat(ready).succeedsWithin(Duration.ofSeconds(10));
            answers.add(blocked.get(10, TimeUnit.SECONDS));

            conn.answer(4);
            for (int i = 1; i <= 4; i++) {
                assertThat(text(answers.get(i))).isEqualTo("r" + i);
            }
            assertThat(conn.texts()).as("what reached the server").containsExactly("r0", "r1", "r2", "r3", "r4");
            assertThat(client.inFlight()).isZero();
        }
    }

    @Test
    void aServerThatStopsReadingHoldsTheCallerBackWithBoundedQueuedBytes() throws Exception {
        int limit = 64 * 1024;
        ClientOptions options = ClientOptions.builder().maxQueuedBytes(limit).maxInFlight(1_000_000).build();
        byte[] payload = new byte[32 * 1024];
        try (FakeServer fake = new FakeServer(n -> true, false, 64 * 1024);
                FramepipeClient client = FramepipeClient.connect("127.0.0.1", fake.port(), options)) {
            FakeServer.Conn conn = fake.next();
            List<CompletableFuture<Response>> answers = new ArrayList<>();
            // Send while the client takes requests; when it pushes back, wait for room unless none
            // comes within a second (the socket buffers are full: the server reads nothing).
            // Without back-pressure all 4,000 (125 MiB) would be queued in the client.
            long maxQueued = 0;
            CompletableFuture<Void> ready = null;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (answers.size() < 4_000 && System.nanoTime() < until) {
                CompletableFuture<Response> f = client.trySend(Request.ping(payload));
                maxQueued = Math.max(maxQueued, client.queuedBytes());
                if (f != null) {
                    answers.add(f);
                    continue;
                }
                ready = client.whenReady();
                try {
                    ready.get(1, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException heldBack) {
                    break;
                }
            }
            System.out.println("unread server: the client took " + answers.size() + " requests of " + payload.length
                    + " bytes, then held the caller back; at most " + maxQueued + " bytes queued unsent");
            assertThat(answers.size()).as("requests taken before the client held the caller back").isLessThan(4_000);
            assertThat(maxQueued).as("bytes held unsent, at most")
                    .isLessThanOrEqualTo(limit + payload.length + 16 + 1024);
            assertThat(client.isReady()).isFalse();
            assertThat(ready).isNotDone();
            assertThat(timeoutOf(client.send(Request.ping(payload).withTimeout(Duration.ofMillis(300)))).mayHaveRun())
                    .isFalse();

            conn.startReading();
            assertThat(ready).succeedsWithin(Duration.ofSeconds(20));
            for (CompletableFuture<Response> f : answers) {
                assertThat(f.get(20, TimeUnit.SECONDS).payload()).isEqualTo(payload);
            }
            assertThat(conn.received).hasSize(answers.size());
        }
    }

    @Test
    void anExpiredRequestFailsAloneAndTheAnswersAfterItStillReachTheirOwnRequests() throws Exception {
        try (FakeServer fake = new FakeServer(n -> false);
                FramepipeClient client = FramepipeClient.connect("127.0.0.1", fake.port())) {
            FakeServer.Conn conn = fake.next();
            CompletableFuture<Response> expires = client.send(ping("a").withTimeout(Duration.ofMillis(200)));
            CompletableFuture<Response> waits = client.send(ping("b"));
            RequestTimeoutException e = timeoutOf(expires);
            assertThat(e.mayHaveRun()).as("it was sent").isTrue();
            assertThat(e.timeout()).isEqualTo(Duration.ofMillis(200));
            assertThat(waits).isNotDone();
            assertThat(client.inFlight()).as("a's answer is still owed").isEqualTo(2);

            conn.answer(2); // a's late answer, then b's
            assertThat(text(waits)).isEqualTo("b");
            await().atMost(Duration.ofSeconds(10)).until(() -> client.inFlight() == 0);
            CompletableFuture<Response> after = client.send(ping("c"));
            conn.answer(1);
            assertThat(text(after)).isEqualTo("c");
            assertThat(client.isOpen()).isTrue();
        }
    }

    @Test
    void theDefaultDeadlineAppliesToEveryRequestWithoutItsOwn() throws Exception {
        ClientOptions options = ClientOptions.builder().requestTimeout(Duration.ofMillis(300)).build();
        try (FakeServer fake = new FakeServer(n -> false);
                FramepipeClient client = FramepipeClient.connect("127.0.0.1", fake.port(), options)) {
            FakeServer.Conn conn = fake.next();
            CompletableFuture<Response> shortcut = client.upper("never answered");
            CompletableFuture<Response> own = client.send(ping("own").withTimeout(Duration.ofSeconds(30)));
            assertThat(timeoutOf(shortcut).timeout()).isEqualTo(Duration.ofMillis(300));
            conn.answer(2);
            assertThat(text(own)).isEqualTo("own");
        }
    }

    @Test
    void aFullClientNeverBlocksItsIoThreadButFailsTheRequestThere() throws Exception {
        ClientOptions options = ClientOptions.builder().maxInFlight(1).build();
        try (FakeServer fake = new FakeServer(n -> false);
                FramepipeClient client = FramepipeClient.connect("127.0.0.1", fake.port(), options)) {
            FakeServer.Conn conn = fake.next();
            CompletableFuture<Response> first = client.send(ping("1"));
            // On the I/O thread, once "1" is answered: "2" fills the client, "3" finds it full.
            CompletableFuture<List<CompletableFuture<Response>>> fromIoThread = first.thenApply(r ->
                    List.of(client.send(ping("2")), client.send(ping("3"))));
            conn.answer(1);
            List<CompletableFuture<Response>> sent = fromIoThread.get(10, TimeUnit.SECONDS);
            assertThat(sent.get(1)).isCompletedExceptionally();
            assertThat(sent.get(1).exceptionNow()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("trySend");
            conn.answer(1);
            assertThat(text(sent.get(0))).isEqualTo("2");
            assertThat(conn.texts()).containsExactly("1", "2");
        }
    }

    @Test
    void realServerRoundTripsWithByteBufferAndRawFrames() throws Exception {
        try (FramepipeServer server = TestServers.start();
                FramepipeClient client = FramepipeClient.connect("127.0.0.1", server.framePort())) {
            ByteBuffer text = ByteBuffer.wrap("xxstraßeyy".getBytes(StandardCharsets.UTF_8));
            text.position(2).limit(text.limit() - 2);
            Response upper = client.send(Request.of(2, 1, text)).get(10, TimeUnit.SECONDS);
            assertThat(upper.text()).isEqualTo("STRASSE");
            assertThat(text.position()).as("the caller's buffer is not moved").isEqualTo(2);
            Response error = client.sendRaw(dev.framepipe.testing.Frames.frame(1, 9, 0, 77, new byte[0]), 77)
                    .get(10, TimeUnit.SECONDS);
            assertThat(error.isError()).isTrue();
            assertThat(error.id()).isEqualTo(77);
            assertThat(error.payloadBuffer().getShort(0) & 0xFFFF).as("little-endian view")
                    .isEqualTo(error.errorCode());
            assertThat(client.ping(new byte[] {1, 2}).get(10, TimeUnit.SECONDS).payload()).containsExactly(1, 2);
        }
    }

    @Test
    void aRefusedConnectionNamesHostAndPort() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        int closedPort = port;
        assertThatThrownBy(() -> FramepipeClient.connect("127.0.0.1", closedPort))
                .isInstanceOf(ConnectException.class)
                .hasMessage("cannot connect to 127.0.0.1:" + closedPort + ": connection refused");
    }

    @Test
    void afterTheServerClosesSendsFailWithConnectionClosedAndWhenReadyToo() throws Exception {
        try (FakeServer fake = new FakeServer(n -> false);
                FramepipeClient client = FramepipeClient.connect("127.0.0.1", fake.port())) {
            FakeServer.Conn conn = fake.next();
            CompletableFuture<Response> owed = client.send(ping("x"));
            await().atMost(Duration.ofSeconds(10)).until(() -> conn.received.size() == 1);
            conn.socket.close();
            await().atMost(Duration.ofSeconds(10)).until(owed::isDone);
            assertThat(owed.exceptionNow()).isInstanceOf(ConnectionClosedException.class);
            assertThat(client.send(ping("y")).exceptionNow()).isInstanceOf(ConnectionClosedException.class)
                    .hasNoCause();
            assertThat(client.trySend(ping("z")).exceptionNow()).isInstanceOf(ConnectionClosedException.class);
            assertThat(client.whenReady()).isCompletedExceptionally();
            assertThat(client.inFlight()).isZero();
        }
    }

    @Test
    void tlsSettingsAndOptionsRefuseBadValuesWithClearMessages() throws Exception {
        Path missing = dir.resolve("nope.crt");
        assertThatThrownBy(() -> ClientTls.trusting(missing)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nope.crt");
        Path notPem = Files.writeString(dir.resolve("ca.crt"), "not a certificate");
        ClientOptions options = ClientOptions.builder().tls(ClientTls.trusting(notPem)).build();
        assertThatThrownBy(() -> FramepipeClient.connect("127.0.0.1", 1, options))
                .isInstanceOf(javax.net.ssl.SSLException.class).hasMessageContaining("ca.crt");
        assertThatThrownBy(() -> ClientOptions.builder().maxInFlight(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClientOptions.builder().requestTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Request.upper("x").withTimeout(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FramepipeClient.connect("127.0.0.1", 70_000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("70000");
    }

    /** The client's API speaks plain Java: no Netty type in any public or protected signature. */
    @Test
    void noNettyTypeAppearsInThePublicApi() throws Exception {
        Path jar = ProjectFiles.path("clients", "java", "target", "framepipe-client.jar");
        assertThat(jar).as("the client's jar (built by the reactor before the server's tests)").exists();
        List<String> offenders = new ArrayList<>();
        int publicTypes = 0;
        try (JarFile j = new JarFile(jar.toFile())) {
            for (var e : java.util.Collections.list(j.entries())) {
                String name = e.getName();
                if (!name.endsWith(".class") || name.endsWith("package-info.class")) {
                    continue;
                }
                Class<?> c = Class.forName(name.replace('/', '.').replace(".class", ""), false,
                        getClass().getClassLoader());
                if (!Modifier.isPublic(c.getModifiers())) {
                    continue;
                }
                publicTypes++;
                check(c.getName() + " extends", c.getGenericSuperclass(), offenders);
                for (Type t : c.getGenericInterfaces()) {
                    check(c.getName() + " implements", t, offenders);
                }
                for (Field f : c.getDeclaredFields()) {
                    if (visible(f.getModifiers())) {
                        check(c.getName() + "." + f.getName(), f.getGenericType(), offenders);
                    }
                }
                for (Constructor<?> k : c.getDeclaredConstructors()) {
                    if (visible(k.getModifiers())) {
                        for (Type t : k.getGenericParameterTypes()) {
                            check(c.getName() + " constructor", t, offenders);
                        }
                        for (Type t : k.getGenericExceptionTypes()) {
                            check(c.getName() + " constructor throws", t, offenders);
                        }
                    }
                }
                for (Method m : c.getDeclaredMethods()) {
                    if (visible(m.getModifiers()) && !m.isSynthetic()) {
                        String where = c.getName() + "." + m.getName();
                        check(where + " returns", m.getGenericReturnType(), offenders);
                        for (Type t : m.getGenericParameterTypes()) {
                            check(where + " takes", t, offenders);
                        }
                        for (Type t : m.getGenericExceptionTypes()) {
                            check(where + " throws", t, offenders);
                        }
                    }
                }
            }
        }
        assertThat(publicTypes).as("public types found").isGreaterThanOrEqualTo(10);
        assertThat(offenders).isEmpty();
    }

    private static boolean visible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    private static void check(String where, Type t, List<String> offenders) {
        if (t == null) {
            return;
        }
        if (t instanceof Class<?> c) {
            while (c.isArray()) {
                c = c.getComponentType();
            }
            if (c.getName().startsWith("io.netty.")) {
                offenders.add(where + ": " + c.getName());
            }
        } else if (t instanceof ParameterizedType p) {
            check(where, p.getRawType(), offenders);
            for (Type a : p.getActualTypeArguments()) {
                check(where, a, offenders);
            }
        } else if (t instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) {
                check(where, b, offenders);
            }
            for (Type b : w.getLowerBounds()) {
                check(where, b, offenders);
            }
        } else if (t instanceof GenericArrayType g) {
            check(where, g.getGenericComponentType(), offenders);
        } else if (t instanceof TypeVariable<?> v) {
            for (Type b : v.getBounds()) {
                check(where, b, offenders);
            }
        }
    }

    @Test
    void theCheckAboveWouldSeeANettyType() {
        List<String> offenders = new ArrayList<>();
        check("example", io.netty.buffer.ByteBuf.class, offenders);
        check("example", new java.util.function.Supplier<List<io.netty.channel.EventLoopGroup[]>>() {
            @Override
            public List<io.netty.channel.EventLoopGroup[]> get() {
                return null;
            }
        }.getClass().getGenericInterfaces()[0], offenders);
        assertThat(offenders).hasSize(2);
    }
}
