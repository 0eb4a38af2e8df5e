package dev.framepipe.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.framepipe.config.Setting;
import dev.framepipe.testing.TestServers;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import dev.framepipe.protocol.FrameDescriptor;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The request-path warm-up: before ready, frames of every op go through the real pipeline over a
 * loopback connection, every answer checked; none of it shows in /metrics; and it is bounded and
 * harmless when the path does not answer.
 */
class RequestPathWarmupTest {

    private static final Pattern WARMED = Pattern.compile("request path warmed up: (\\d+) frames .* in (\\d+) ms");

    @Test
    void beforeReadyFramesOfEveryOpGoThroughThePipelineAndNoneShowsInTheMetrics() throws Exception {
        List<String> log = serverLog(() -> {
            FramepipeServer server = TestServers.start(Map.of(Setting.WARMUP_ROUNDS, "20"));
            try {
                String scrape = server.registry().scrape();
                for (String family : List.of("pipeline_frames_received_total", "pipeline_frames_completed_total",
                        "pipeline_received_bytes_total", "pipeline_sent_bytes_total", "pipeline_connections_opened_total",
                        "pipeline_connections_active", "pipeline_errors_total", "pipeline_connections_refused_total")) {
                    List<String> samples = scrape.lines().filter(l -> l.startsWith(family)).toList();
                    assertThat(samples).as(family).isNotEmpty()
                            .allSatisfy(l -> assertThat(Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                                    .as(l).isZero());
                }
                assertThat(server.openConnections()).isZero();
            } finally {
                server.close();
            }
        });
        String line = log.stream().filter(m -> m.startsWith("request path warmed up")).findFirst().orElseThrow();
        Matcher m = WARMED.matcher(line);
        assertThat(m.find()).as(line).isTrue();
        assertThat(line).doesNotContain("failed");
        // every small op and at least one large frame: a cycle is 19 frames, the first has a large one
        assertThat(Long.parseLong(m.group(1))).as(line).isGreaterThan(RequestPathWarmup.smallFrames(16 << 20).size());
        int warmed = log.indexOf(line);
        int ready = log.indexOf(log.stream().filter(s -> s.startsWith("framepipe ready:")).findFirst().orElseThrow());
        assertThat(warmed).as("warmed up before ready").isLessThan(ready);
    }

    @Test
    void withNoWarmUpThereIsNone() throws Exception {
        List<String> log = serverLog(() -> TestServers.start(Map.of(Setting.WARMUP_ROUNDS, "0")).close());
        assertThat(log).noneMatch(m -> m.startsWith("request path"));
    }

    @Test
    void framesAboveMaxFrameBytesAreLeftOut() throws Exception {
        List<String> log = serverLog(() -> TestServers.start(Map.of(Setting.WARMUP_ROUNDS, "20",
                Setting.MAX_FRAME_BYTES, "1KiB")).close());
        String line = log.stream().filter(m -> m.startsWith("request path warmed up")).findFirst().orElseThrow();
        assertThat(line).doesNotContain("failed");
        assertThat(RequestPathWarmup.largeFrames(1024, 262_144)).isEmpty();
        assertThat(RequestPathWarmup.smallFrames(1024)).allSatisfy(f -> assertThat(f.length - 4).isLessThanOrEqualTo(1024));
        // the forked STATS frame needs max-frame-bytes above parallel-threshold-floats x 4
        assertThat(RequestPathWarmup.largeFrames(16 << 20, 262_144)).hasSize(5);
        assertThat(RequestPathWarmup.largeFrames(1 << 20, 262_144)).hasSize(4);
    }

    @Test
    void aPathThatClosesOrDoesNotAnswerEndsTheWarmUpWithAFailureNotAHang() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            long start = System.nanoTime();
            RequestPathWarmup.Result closed = RequestPathWarmup.run(server(group, true), 100_000, Duration.ofSeconds(2),
                    16 << 20, 262_144);
            assertThat(closed.ok()).isFalse();
            assertThat(closed.frames()).isZero();
            assertThat(closed.failure()).containsAnyOf("closed", "Broken pipe", "reset");
            assertThat(RequestPathWarmup.describe(closed)).contains("it failed");

            RequestPathWarmup.Result silent = RequestPathWarmup.run(server(group, false), 100_000, Duration.ofSeconds(1),
                    16 << 20, 262_144);
            assertThat(silent.ok()).isFalse();
            assertThat(silent.frames()).isZero();
            assertThat(silent.failure()).contains("stopped coming");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("bounded: budget + 5 s grace each")
                    .isLessThan(Duration.ofSeconds(20));
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void itEndsOnceEveryFrameWasSentAndTheJitStayedIdleElseAtItsCap() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            int small = RequestPathWarmup.smallFrames(16 << 20).size();
            int large = RequestPathWarmup.largeFrames(16 << 20, 262_144).size();
            long everyFrameOnce = (long) RequestPathWarmup.LARGE_EVERY * large * small + large;
            AtomicInteger checks = new AtomicInteger();
            RequestPathWarmup.Result idle = RequestPathWarmup.run(answering(group), 1_000_000, Duration.ofSeconds(20),
                    16 << 20, 262_144, () -> checks.incrementAndGet() > 0);
            assertThat(idle.ok()).as(idle.failure()).isTrue();
            assertThat(idle.end()).isEqualTo(RequestPathWarmup.JIT_IDLE);
            assertThat(idle.frames()).as("every frame once, not the cap").isGreaterThanOrEqualTo(everyFrameOnce)
                    .isLessThan(1_000_000);
            assertThat(checks.get()).isGreaterThanOrEqualTo(RequestPathWarmup.IDLE_CHECKS);
            assertThat(RequestPathWarmup.describe(idle)).endsWith("(" + RequestPathWarmup.JIT_IDLE + ")");

            // a JIT that is never idle (or no probe): the frame cap ends it
            RequestPathWarmup.Result busy = RequestPathWarmup.run(answering(group), 30_000, Duration.ofSeconds(20),
                    16 << 20, 262_144, () -> false);
            assertThat(busy.ok()).as(busy.failure()).isTrue();
            assertThat(busy.end()).isEqualTo(RequestPathWarmup.AT_CAP);
            assertThat(busy.frames()).isBetween(30_000L, 30_000L + small + 1);
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    /** A listener that answers every frame with a bare response of its id and kind, in order. */
    private static ServerBootstrap answering(MultiThreadIoEventLoopGroup group) {
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true) // answers all, then closes (below)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(ByteOrder.LITTLE_ENDIAN, 32 << 20,
                                FrameDescriptor.LENGTH_OFFSET, FrameDescriptor.LENGTH_FIELD_SIZE, 0, 0, true),
                                new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        ByteBuf frame = (ByteBuf) msg;
                                        try {
                                            ByteBuf answer = ctx.alloc().buffer(FrameDescriptor.HEADER_LENGTH);
                                            answer.writeIntLE(FrameDescriptor.MIN_LENGTH)
                                                    .writeByte(FrameDescriptor.VERSION)
                                                    .writeByte(frame.getByte(FrameDescriptor.KIND_OFFSET)
                                                            | FrameDescriptor.RESPONSE_BIT)
                                                    .writeShortLE(frame.getShortLE(FrameDescriptor.OP_OFFSET))
                                                    .writeLongLE(frame.getLongLE(FrameDescriptor.ID_OFFSET));
                                            ctx.write(answer);
                                        } finally {
                                            frame.release();
                                        }
                                    }

                                    @Override
                                    public void channelReadComplete(ChannelHandlerContext ctx) {
                                        ctx.flush();
                                    }

                                    @Override
                                    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                                        if (event instanceof ChannelInputShutdownEvent) { // the client's FIN: the reader's end
                                            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                                        }
                                    }
                                });
                    }
                });
    }

    /** A listener whose connections are closed at once ({@code close}) or read and never answered. */
    private static ServerBootstrap server(MultiThreadIoEventLoopGroup group, boolean close) {
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true) // the client's FIN does not end it
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (close) {
                            ch.close();
                            return;
                        }
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ((ByteBuf) msg).release();
                            }
                        });
                    }
                });
    }

    interface Body {
        void run() throws Exception;
    }

    /** The messages FramepipeServer logs while {@code body} runs. */
    static List<String> serverLog(Body body) throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(FramepipeServer.class.getName());
        ch.qos.logback.classic.Level before = logger.getLevel();
        ListAppender<ILoggingEvent> records = new ListAppender<>();
        records.start();
        logger.addAppender(records);
        logger.setLevel(ch.qos.logback.classic.Level.INFO);
        try {
            body.run();
        } finally {
            logger.detachAppender(records);
            logger.setLevel(before);
        }
        return records.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
}
