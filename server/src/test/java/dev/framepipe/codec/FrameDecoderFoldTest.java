package dev.framepipe.codec;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.FrameDescriptor;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Large STATS frames folded as they arrive: {@link FrameDecoder.FrameSink#beginFold} and what follows. */
class FrameDecoderFoldTest {

    /** Records what the decoder hands over, in order, as text events; the folded bytes are kept too. */
    private static final class RecordingSink implements FrameDecoder.FrameSink {
        final List<String> events = new ArrayList<>();
        final ByteArrayOutputStream folded = new ByteArrayOutputStream();
        boolean open = true;
        boolean folds = true;
        int oddFolds;
        int reservations;

        @Override
        public boolean admitting() {
            return open;
        }

        @Override
        public void onFrame(ByteBuf buf, int index, int length, long nowNanos) {
            events.add("frame " + id(buf, index));
        }

        @Override
        public void onAssembledFrame(ByteBuf buf, int length, long nowNanos, long reserved) {
            events.add("assembled " + id(buf, 0));
        }

        @Override
        public boolean reserve(long bytes) {
            reservations++;
            return true;
        }

        @Override
        public boolean beginFold(int op, long id, int payloadBytes) {
            if (folds) {
                events.add("begin " + id + " op " + op + " " + payloadBytes + " B");
            }
            return folds;
        }

        @Override
        public void fold(ByteBuf buf, int index, int length) {
            if (length % Float.BYTES != 0) {
                oddFolds++;
            }
            byte[] b = new byte[length];
            buf.getBytes(index, b);
            folded.writeBytes(b);
        }

        @Override
        public void onFoldedFrame(int op, long id, int frameSize, long nowNanos) {
            events.add("folded " + frameSize + " B");
        }

        @Override
        public void abandonFold() {
            events.add("abandoned");
        }

        @Override
        public boolean onFailure(ErrorCode code, int op, long id, String message) {
            events.add("failure " + code + " op " + op + " id " + id);
            return true;
        }

        private static long id(ByteBuf buf, int index) {
            return FrameDescriptor.id(buf, index);
        }
    }

    private static final int FLOATS = 20_000; // 80 KB of payload: a frame that would be assembled

    private static byte[] statsPayload(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * 0.25f - 7;
        }
        return floats(v);
    }

    private static void feed(EmbeddedChannel ch, byte[] stream, int from, int to, SplittableRandom cuts) {
        for (int at = from; at < to; ) {
            int n = Math.min(to - at, 1 + cuts.nextInt(9_000));
            ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(stream, at, at + n)));
            at += n;
        }
    }

    @Test
    void aLargeStatsFrameSplitAtOddPointsIsFoldedByteForByteAndAnsweredInItsPlace() {
        byte[] payload = statsPayload(FLOATS);
        byte[] stats = frame(Kinds.FLOATS, Ops.STATS, 2, payload);
        byte[] stream = concat(frame(Kinds.PING, 0, 1, utf8("before")), stats, frame(Kinds.PING, 0, 3, utf8("after")));
        for (int seed = 0; seed < 40; seed++) {
            RecordingSink sink = new RecordingSink();
            EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20, sink));
            feed(ch, stream, 0, stream.length, new SplittableRandom(seed));
            assertThat(sink.events).as("seed %d", seed).containsExactly("frame 1",
                    "begin 2 op " + Ops.STATS + " " + payload.length + " B", "folded " + stats.length + " B", "frame 3");
            assertThat(sink.folded.toByteArray()).as("the payload, every byte once, in order").isEqualTo(payload);
            assertThat(sink.oddFolds).as("folds of whole values only").isZero();
            assertThat(sink.reservations).as("nothing assembled").isZero();
            assertThat(ch.finish()).isFalse();
        }
    }

    @Test
    void withTheGateOpeningAndClosingAtRandomEveryFrameIsHandedOnOnceInOrder() {
        byte[] payload = statsPayload(FLOATS);
        byte[] stream = concat(frame(Kinds.PING, 0, 1, utf8("before")), frame(Kinds.FLOATS, Ops.STATS, 2, payload),
                frame(Kinds.FLOATS, Ops.STATS, 3, payload), frame(Kinds.PING, 0, 4, utf8("after")));
        for (int seed = 0; seed < 200; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            RecordingSink sink = new RecordingSink();
            FrameDecoder decoder = new FrameDecoder(1 << 20, sink);
            EmbeddedChannel ch = new EmbeddedChannel(decoder);
            for (int at = 0; at < stream.length; ) {
                int n = Math.min(stream.length - at, 1 + random.nextInt(40_000));
                sink.open = random.nextInt(3) > 0;
                ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(stream, at, at + n)));
                if (sink.open) {
                    decoder.resume();
                }
                at += n;
            }
            sink.open = true;
            decoder.resume();
            List<String> handedOn = sink.events.stream().filter(e -> !e.startsWith("begin")).toList();
            int folds = (int) sink.events.stream().filter(e -> e.startsWith("begin")).count();
            assertThat(handedOn).as("seed %d: %s", seed, sink.events).hasSize(4);
            assertThat(handedOn.get(0)).isEqualTo("frame 1");
            // folded; or, when the gate was closed as its header came, assembled or (joined while held) whole
            assertThat(handedOn.get(1)).isIn("folded " + (payload.length + 16) + " B", "assembled 2", "frame 2");
            assertThat(handedOn.get(2)).isIn("folded " + (payload.length + 16) + " B", "assembled 3", "frame 3");
            assertThat(handedOn.get(3)).isEqualTo("frame 4");
            assertThat(sink.folded.size()).as("every folded frame's payload once").isEqualTo(folds * payload.length);
            assertThat(sink.oddFolds).isZero();
            assertThat(ch.finish()).isFalse();
        }
    }

    @Test
    void aFoldIsAFrameInProgressUntilItsLastByteAndThenWaitsForTheGate() {
        byte[] stats = frame(Kinds.FLOATS, Ops.STATS, 7, statsPayload(FLOATS));
        byte[] stream = concat(stats, frame(Kinds.PING, 0, 8, utf8("next")));
        RecordingSink sink = new RecordingSink();
        FrameDecoder decoder = new FrameDecoder(1 << 20, sink);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        feed(ch, stream, 0, 1_001, new SplittableRandom(1));
        assertThat(decoder.frameInProgress()).as("the client owes the rest").isTrue();
        sink.open = false;
        feed(ch, stream, 1_001, stream.length, new SplittableRandom(2));
        assertThat(sink.events).as("complete, held back by the gate").containsExactly(
                "begin 7 op " + Ops.STATS + " " + (stats.length - 16) + " B");
        assertThat(decoder.frameInProgress()).as("the server is the one waiting").isFalse();
        assertThat(decoder.hasBufferedBytes()).isTrue();
        sink.open = true;
        decoder.resume();
        assertThat(sink.events).endsWith("folded " + stats.length + " B", "frame 8");
        assertThat(decoder.hasBufferedBytes()).isFalse();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aDeclineDuringAFoldDeclinesThatFrameByItsIdAndDiscardsTheRest() {
        byte[] stats = frame(Kinds.FLOATS, Ops.STATS, 11, statsPayload(FLOATS));
        RecordingSink sink = new RecordingSink();
        FrameDecoder decoder = new FrameDecoder(1 << 20, sink);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        feed(ch, stats, 0, 5_000, new SplittableRandom(3));
        decoder.decline("draining");
        feed(ch, stats, 5_000, stats.length, new SplittableRandom(4));
        ch.writeInbound(Unpooled.wrappedBuffer(frame(Kinds.PING, 0, 12, utf8("late"))));
        assertThat(sink.events).containsExactly("begin 11 op " + Ops.STATS + " " + (stats.length - 16) + " B",
                "abandoned", "failure SHUTTING_DOWN op " + Ops.STATS + " id 11");
        assertThat(decoder.hasBufferedBytes()).isFalse();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aFoldCutOffByTheClientsFinGetsNoAnswerButACompleteOneHeldBackDoes() {
        byte[] stats = frame(Kinds.FLOATS, Ops.STATS, 21, statsPayload(FLOATS));
        RecordingSink cut = new RecordingSink();
        FrameDecoder decoder = new FrameDecoder(1 << 20, cut);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        feed(ch, stats, 0, stats.length - 3, new SplittableRandom(5));
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(cut.events).endsWith("abandoned");
        assertThat(decoder.frameInProgress()).isFalse();
        assertThat(decoder.hasBufferedBytes()).isFalse();
        ch.finishAndReleaseAll();

        RecordingSink held = new RecordingSink();
        decoder = new FrameDecoder(1 << 20, held);
        ch = new EmbeddedChannel(decoder);
        held.open = true;
        feed(ch, stats, 0, 100, new SplittableRandom(6));
        held.open = false;
        byte[] rest = concat(Arrays.copyOfRange(stats, 100, stats.length), Arrays.copyOf(frame(Kinds.PING, 0, 22, utf8("cut")), 10));
        ch.writeInbound(Unpooled.wrappedBuffer(rest));
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        held.open = true;
        decoder.resume();
        assertThat(held.events).endsWith("folded " + stats.length + " B");
        assertThat(held.events).doesNotContain("abandoned");
        ch.finishAndReleaseAll();
    }

    @Test
    void framesThatAreNotWholeStatsOrThatTheSinkDeclinesToFoldAreAssembledAsBefore() {
        byte[] oddStats = frame(Kinds.FLOATS, Ops.STATS, 31, Arrays.copyOf(statsPayload(FLOATS), FLOATS * 4 - 1));
        byte[] scale = frame(Kinds.FLOATS, Ops.SCALE, 32, scalePayload(2, 1, new float[FLOATS]));
        byte[] stats = frame(Kinds.FLOATS, Ops.STATS, 33, statsPayload(FLOATS));
        for (byte[] f : List.of(oddStats, scale)) {
            RecordingSink sink = new RecordingSink();
            EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20, sink));
            feed(ch, f, 0, f.length, new SplittableRandom(7));
            assertThat(sink.events).containsExactly("assembled " + (f == oddStats ? 31 : 32));
            assertThat(sink.reservations).isEqualTo(1);
            ch.finishAndReleaseAll();
        }
        RecordingSink refusing = new RecordingSink();
        refusing.folds = false;
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20, refusing));
        feed(ch, stats, 0, stats.length, new SplittableRandom(8));
        assertThat(refusing.events).containsExactly("assembled 33");
        ch.finishAndReleaseAll();

        RecordingSink closed = new RecordingSink();
        closed.open = false; // not admitting when the header is read: assembled, as before
        FrameDecoder decoder = new FrameDecoder(1 << 20, closed);
        ch = new EmbeddedChannel(decoder);
        feed(ch, stats, 0, stats.length, new SplittableRandom(9));
        closed.open = true;
        decoder.resume();
        assertThat(closed.events).containsExactly("assembled 33");
        ch.finishAndReleaseAll();
    }
}
