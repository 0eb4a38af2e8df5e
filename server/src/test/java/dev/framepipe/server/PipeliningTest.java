package dev.framepipe.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.client.FramepipeClient;
import dev.framepipe.client.Response;
import dev.framepipe.testing.TestServers;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Many requests in flight on one connection: every answer arrives, in order, with the right value. */
class PipeliningTest {

    static FramepipeServer server;

    @BeforeAll
    static void start() {
        server = TestServers.start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
    }

    private record Expectation(CompletableFuture<Response> future, java.util.function.Consumer<Response> check) {
    }

    /**
     * Sends {@code count} requests on one connection without waiting (request {@code i} made by
     * {@code request}), then checks that every answer came, is no error, passes its check, and
     * that the answers arrived in the order the requests were sent.
     */
    private static void sendAllThenCheckInOrder(int count,
            java.util.function.BiFunction<FramepipeClient, Integer, Expectation> request) throws Exception {
        List<Expectation> sent = new ArrayList<>();
        List<Long> order = new ArrayList<>();
        try (FramepipeClient client = FramepipeClient.connect("127.0.0.1", server.framePort())) {
            for (int i = 0; i < count; i++) {
                Expectation e = request.apply(client, i);
                sent.add(e);
                e.future.thenAccept(r -> {
                    synchronized (order) {
                        order.add(r.id());
                    }
                });
            }
            CompletableFuture.allOf(sent.stream().map(Expectation::future).toArray(CompletableFuture[]::new))
                    .get(60, TimeUnit.SECONDS);
        }
        for (Expectation e : sent) {
            Response r = e.future.join();
            assertThat(r.isError()).as("%s", r).isFalse();
            e.check.accept(r);
        }
        synchronized (order) {
            assertThat(order).hasSize(count).isSorted();
        }
    }

    @Test
    void twentyThousandMixedFramesAreAnsweredInOrderWithCorrectValues() throws Exception {
        Random rnd = new Random(20_000);
        sendAllThenCheckInOrder(20_000, (client, i) -> {
            CompletableFuture<Response> f;
            java.util.function.Consumer<Response> check;
            switch (i % 6) {
                case 0 -> {
                    float[] x = randomFloats(rnd, rnd.nextInt(300));
                    double sum = 0;
                    for (float v : x) {
                        sum += v;
                    }
                    double expected = sum;
                    f = client.stats(x);
                    check = r -> {
                        assertThat(r.stats().count()).isEqualTo(x.length);
                        assertThat(r.stats().sum()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-6));
                    };
                }
                case 1 -> {
                    float[] x = randomFloats(rnd, rnd.nextInt(100));
                    f = client.scale(2f, 1f, x);
                    check = r -> {
                        float[] y = r.floats();
                        assertThat(y).hasSize(x.length);
                        for (int k = 0; k < x.length; k++) {
                            assertThat(y[k]).isEqualTo(Math.fma(2f, x[k], 1f));
                        }
                    };
                }
                case 2 -> {
                    String s = "Mixed Case " + i + " grüße";
                    f = client.upper(s);
                    check = r -> assertThat(r.text()).isEqualTo(s.toUpperCase(Locale.ROOT));
                }
                case 3 -> {
                    String s = "Mixed Case " + i + " ΣΟΦΟΣ";
                    f = client.lower(s);
                    check = r -> assertThat(r.text()).isEqualTo(s.toLowerCase(Locale.ROOT));
                }
                case 4 -> {
                    int lines = 1 + i % 5;
                    f = client.count("a b  c\n".repeat(lines));
                    check = r -> assertThat(r.counts().words()).isEqualTo(3L * lines);
                }
                default -> {
                    byte[] p = new byte[rnd.nextInt(64)];
                    rnd.nextBytes(p);
                    f = client.ping(p);
                    check = r -> assertThat(r.payload()).isEqualTo(p);
                }
            }
            return new Expectation(f, check);
        });
    }

    @Test
    void smallAnswersCopiedIntoOneBufferStayInOrderAroundLargeOnesWrittenAsTheyAre() throws Exception {
        // Answers up to COPY_LIMIT are copied into a per-batch buffer, larger ones are
        // written as they are: runs of small answers long enough to fill several coalescing
        // buffers, with large answers (and answers exactly at the threshold) in between, must
        // arrive whole and in order.
        int maxSmall = dev.framepipe.pipeline.BatchProcessor.COPY_LIMIT;
        int atThresholdFloats = (maxSmall - dev.framepipe.protocol.FrameDescriptor.HEADER_LENGTH) / Float.BYTES;
        Random rnd = new Random(1024);
        sendAllThenCheckInOrder(6_000, (client, i) -> {
            CompletableFuture<Response> f;
            java.util.function.Consumer<Response> check;
            int phase = i % 600;
            if (phase == 599 || phase == 300) {
                // large: a scaled array of 1-4 KiB, written zero-copy
                float[] x = randomFloats(rnd, 300 + rnd.nextInt(700));
                f = client.scale(-1f, 0f, x);
                check = r -> {
                    float[] y = r.floats();
                    assertThat(y).hasSize(x.length);
                    for (int k = 0; k < x.length; k++) {
                        assertThat(y[k]).isEqualTo(-x[k]);
                    }
                };
            } else if (phase == 150) {
                // exactly at the threshold, and one float past it
                float[] x = randomFloats(rnd, atThresholdFloats + (i / 600) % 2);
                f = client.scale(1f, 1f, x);
                check = r -> {
                    float[] y = r.floats();
                    assertThat(y).hasSize(x.length);
                    for (int k = 0; k < x.length; k++) {
                        assertThat(y[k]).isEqualTo(x[k] + 1f);
                    }
                };
            } else {
                String text = "small answer " + i;
                f = client.upper(text);
                check = r -> assertThat(r.text()).isEqualTo(text.toUpperCase(Locale.ROOT));
            }
            return new Expectation(f, check);
        });
    }

    private static float[] randomFloats(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * 100);
        }
        return x;
    }

    /**
     * Small frames are answered by the I/O thread itself unless one of the lane's batches is with
     * the workers; frames over inline-max-bytes (64 KiB) go to the workers. Mixed on one
     * connection, pipelined, the two paths must never let an answer overtake another.
     */
    @Test
    void smallFramesAnsweredOnTheIoThreadNeverOvertakeLargeOnesAtTheWorkers() throws Exception {
        Random rnd = new Random(64);
        sendAllThenCheckInOrder(600, (client, i) -> {
            // every 7th frame large (80-160 KB of floats), the others small
            float[] x = randomFloats(rnd, i % 7 == 0 ? 20_000 + rnd.nextInt(20_000) : 1 + rnd.nextInt(64));
            double sum = 0;
            for (float v : x) {
                sum += v;
            }
            double expected = sum;
            if (i % 2 == 0) {
                return new Expectation(client.stats(x), r -> {
                    assertThat(r.stats().count()).isEqualTo(x.length);
                    assertThat(r.stats().sum()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-3 * x.length));
                });
            }
            return new Expectation(client.scale(2f, 1f, x), r -> {
                float[] y = r.floats();
                assertThat(y).hasSize(x.length);
                for (int k = 0; k < x.length; k += 97) {
                    assertThat(y[k]).isEqualTo(Math.fma(2f, x[k], 1f));
                }
            });
        });
    }

}
