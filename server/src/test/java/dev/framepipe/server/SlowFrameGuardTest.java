package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.codec.FrameDecoder;
import dev.framepipe.metrics.RefusalMetrics;
import dev.framepipe.metrics.RefusalMetrics.Reason;
import dev.framepipe.protocol.Kinds;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The slow-frame guard's rule on a channel whose clock of checks this test drives: the guard's
 * checks run only when the test runs the channel's scheduled tasks, so nothing happens between
 * the steps. Time only ever passes for longer than the test asks (sleeps), which can make a
 * window longer but never shorter: the outcomes do not depend on the machine's speed.
 */
class SlowFrameGuardTest {

    private static final Duration GRACE = Duration.ofMillis(100);
    private static final long MIN_RATE = 1024; // B/s: 103 bytes a window

    private final RefusalMetrics refusals = new RefusalMetrics();
    private final List<Object> events = new ArrayList<>();
    private final List<ByteBuf> frames = new ArrayList<>();
    private boolean gateOpen = true;
    private EmbeddedChannel ch;

    private EmbeddedChannel channel() {
        refusals.bindTo(new SimpleMeterRegistry());
        FrameDecoder decoder = new FrameDecoder(1 << 20, () -> gateOpen);
        ch = new EmbeddedChannel(new SlowFrameGuard(decoder, refusals, GRACE, MIN_RATE), decoder,
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        frames.add((ByteBuf) msg); // released after the test
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        events.add(evt);
                    }
                });
        return ch;
    }

    @AfterEach
    void release() {
        frames.forEach(ByteBuf::release);
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    /** Lets {@code windows} windows of the guard pass, with its checks running a few times each. */
    private void pass(int windows) throws InterruptedException {
        long tick = GRACE.toNanos() / 4;
        for (int i = 0; i < 4 * windows + 1; i++) {
            TimeUnit.NANOSECONDS.sleep(tick + TimeUnit.MILLISECONDS.toNanos(2));
            ch.runScheduledPendingTasks();
        }
    }

    private static ByteBuf bytes(byte[] b, int from, int to) {
        return Unpooled.wrappedBuffer(Arrays.copyOfRange(b, from, to));
    }

    @Test
    void aFrameThatStopsArrivingIsRefusedAfterAWindow() throws Exception {
        channel();
        byte[] frame = frame(Kinds.PING, 0, 1, new byte[4096]);
        ch.writeInbound(bytes(frame, 0, 20));
        pass(3);
        assertThat(refusals.count(Reason.SLOW_FRAME)).isEqualTo(1);
        assertThat(events).containsExactly(new LimitExceeded(Reason.SLOW_FRAME));
    }

    @Test
    void timeWhileTheServerItselfStoppedReadingDoesNotCountAgainstTheClient() throws Exception {
        channel();
        byte[] frame = frame(Kinds.PING, 0, 2, new byte[4096]);
        ch.writeInbound(bytes(frame, 0, 20)); // a frame in progress: the client owes bytes
        ch.config().setAutoRead(false);        // ...but the server stopped reading (back-pressure)
        pass(4);
        assertThat(refusals.count(Reason.SLOW_FRAME)).as("refused while the server was not reading").isZero();
        ch.config().setAutoRead(true);         // reading again: the client's time starts now
        ch.writeInbound(bytes(frame, 20, frame.length));
        pass(2);
        assertThat(refusals.count(Reason.SLOW_FRAME)).isZero();
        assertThat(events).isEmpty();
        assertThat(frames).hasSize(1);
        assertThat(frames.getFirst().readableBytes()).isEqualTo(frame.length);
    }

    @Test
    void aCompleteFrameHeldBackByTheGateIsTheServersWaitNotTheClients() throws Exception {
        channel();
        gateOpen = false; // e.g. the lane is full: the decoder holds a whole frame
        byte[] frame = frame(Kinds.PING, 0, 3, new byte[300]);
        ch.writeInbound(bytes(frame, 0, frame.length));
        pass(3);
        assertThat(refusals.count(Reason.SLOW_FRAME)).isZero();
        assertThat(events).isEmpty();
    }
}
