package dev.framepipe.codec;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {

    private static final class SwitchGate implements FrameDecoder.Gate {
        boolean open = true;

        @Override
        public boolean admitting() {
            return open;
        }
    }

    private static List<Object> drain(EmbeddedChannel ch) {
        List<Object> out = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            out.add(o);
        }
        return out;
    }

    private static byte[] bytesOf(Object frame) {
        ByteBuf b = (ByteBuf) frame;
        byte[] bytes = ByteBufUtil.getBytes(b);
        b.release();
        return bytes;
    }

    @Test
    void framesArePassedOnAsSlicesOfTheBufferTheyArrivedIn() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20, new SwitchGate()));
        byte[] a = frame(Kinds.PING, 0, 1, utf8("first"));
        byte[] b = frame(Kinds.FLOATS, Ops.STATS, 2, floats(1, 2));
        ByteBuf in = Unpooled.directBuffer(a.length + b.length).writeBytes(a).writeBytes(b);
        long base = in.memoryAddress();
        ch.writeInbound(in);
        List<Object> frames = drain(ch);
        assertThat(frames).hasSize(2);
        assertThat(((ByteBuf) frames.get(0)).memoryAddress()).as("a view of the input, not a copy").isEqualTo(base);
        assertThat(((ByteBuf) frames.get(1)).memoryAddress()).isEqualTo(base + a.length);
        assertThat(bytesOf(frames.get(0))).isEqualTo(a);
        assertThat(bytesOf(frames.get(1))).isEqualTo(b);
        assertThat(in.refCnt()).as("the decoder let go of its input").isZero();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aStreamSplitAtEveryByteDecodesToTheSameFrames() {
        byte[] stream = concat(frame(Kinds.PING, 0, 1, new byte[0]), frame(Kinds.TEXT, 1, 2, utf8("héllo")),
                frame(Kinds.FLOATS, 2, 3, scalePayload(1, 2, 3, 4)));
        for (int cut1 = 0; cut1 <= stream.length; cut1++) {
            for (int cut2 = cut1; cut2 <= stream.length; cut2 += 7) {
                EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20, new SwitchGate()));
                ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(stream, 0, cut1)));
                ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(stream, cut1, cut2)));
                ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(stream, cut2, stream.length)));
                List<Object> frames = drain(ch);
                byte[] joined = new byte[0];
                for (Object f : frames) {
                    joined = concat(joined, bytesOf(f));
                }
                assertThat(frames).as("cuts %d/%d", cut1, cut2).hasSize(3);
                assertThat(joined).isEqualTo(stream);
                ch.finishAndReleaseAll();
            }
        }
    }

    @Test
    void aClosedGateHoldsFramesBackUntilResume() {
        SwitchGate gate = new SwitchGate();
        FrameDecoder decoder = new FrameDecoder(1 << 20, gate);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        gate.open = false;
        ch.writeInbound(Unpooled.wrappedBuffer(concat(frame(Kinds.PING, 0, 1, utf8("a")), frame(Kinds.PING, 0, 2, utf8("b")))));
        assertThat(drain(ch)).isEmpty();
        assertThat(decoder.hasBufferedBytes()).isTrue();
        gate.open = true;
        decoder.resume();
        List<Object> frames = drain(ch);
        assertThat(frames).hasSize(2);
        frames.forEach(f -> ((ByteBuf) f).release());
        assertThat(decoder.hasBufferedBytes()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void headerFailuresArePassedOnInTheFramesPlaceAndLaterInputIsDiscarded() {
        record Case(byte[] bytes, ErrorCode code, int op, long id) {
        }
        List<Case> cases = List.of(
                new Case(header(11, 1, 1, 1, 9), ErrorCode.MALFORMED, 0, 0),
                new Case(header(12, 2, 1, 5, 9), ErrorCode.BAD_VERSION, 5, 9),
                new Case(header(1025, 1, 1, 6, 10), ErrorCode.FRAME_TOO_LARGE, 6, 10));
        for (Case c : cases) {
            EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024, new SwitchGate()));
            ch.writeInbound(Unpooled.wrappedBuffer(concat(frame(Kinds.PING, 0, 1, utf8("ok")), c.bytes)));
            ch.writeInbound(Unpooled.wrappedBuffer(frame(Kinds.PING, 0, 2, utf8("after"))));
            List<Object> out = drain(ch);
            assertThat(out).hasSize(2);
            ((ByteBuf) out.get(0)).release();
            assertThat(out.get(1)).isInstanceOfSatisfying(DecodeFailure.class, f -> {
                assertThat(f.code()).isEqualTo(c.code);
                assertThat(f.op()).isEqualTo(c.op);
                assertThat(f.id()).isEqualTo(c.id);
            });
            assertThat(ch.finish()).isFalse();
        }
    }

    @Test
    void aFrameCutOffByTheClientsFinIsDroppedButCompleteHeldFramesAreKept() {
        SwitchGate gate = new SwitchGate();
        FrameDecoder decoder = new FrameDecoder(1 << 20, gate);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        gate.open = false;
        byte[] complete = frame(Kinds.PING, 0, 1, utf8("kept"));
        byte[] cut = Arrays.copyOf(frame(Kinds.PING, 0, 2, utf8("cut off")), 20);
        ch.writeInbound(Unpooled.wrappedBuffer(concat(complete, cut)));
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(decoder.inputClosed()).isTrue();
        gate.open = true;
        decoder.resume();
        List<Object> out = drain(ch);
        assertThat(out).hasSize(1);
        assertThat(bytesOf(out.get(0))).isEqualTo(complete);
        assertThat(decoder.hasBufferedBytes()).as("the cut-off frame was released").isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void whileDecliningTheNextHeaderBecomesShuttingDown() {
        FrameDecoder decoder = new FrameDecoder(1 << 20, new SwitchGate());
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        decoder.decline();
        ch.writeInbound(Unpooled.wrappedBuffer(frame(Kinds.TEXT, 3, 77, utf8("late"))));
        assertThat(drain(ch)).singleElement().isInstanceOfSatisfying(DecodeFailure.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.SHUTTING_DOWN);
            assertThat(f.id()).isEqualTo(77);
            assertThat(f.op()).isEqualTo(3);
        });
        ch.finishAndReleaseAll();
    }

    /** Takes frames in place and keeps them (retained), as the service's connection handler does. */
    private static final class KeepingSink implements FrameDecoder.FrameSink {
        record Kept(ByteBuf buf, int index, int length, long nowNanos) {
            byte[] bytes() {
                byte[] b = ByteBufUtil.getBytes(buf, index, length);
                buf.release();
                return b;
            }
        }

        final List<Kept> kept = new ArrayList<>();
        Runnable onEachFrame = () -> { };

        @Override
        public boolean admitting() {
            return true;
        }

        @Override
        public void onFrame(ByteBuf buf, int index, int length, long nowNanos) {
            kept.add(new Kept(buf.retain(), index, length, nowNanos));
            onEachFrame.run();
        }
    }

    @Test
    void aSinkGetsEachFrameInTheBufferItArrivedInAndNothingIsPassedDownThePipeline() {
        KeepingSink sink = new KeepingSink();
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20, sink));
        byte[] a = frame(Kinds.PING, 0, 1, utf8("first"));
        byte[] b = frame(Kinds.FLOATS, Ops.STATS, 2, floats(1, 2));
        ByteBuf in = Unpooled.directBuffer(a.length + b.length).writeBytes(a).writeBytes(b);
        ch.writeInbound(in);
        assertThat(drain(ch)).as("no slices down the pipeline").isEmpty();
        assertThat(sink.kept).hasSize(2);
        assertThat(sink.kept.get(0).buf()).as("the input itself, not a copy or a slice").isSameAs(in);
        assertThat(sink.kept.get(0).index()).isZero();
        assertThat(sink.kept.get(1).index()).isEqualTo(a.length);
        assertThat(in.refCnt()).as("the decoder let go; the sink holds one reference per frame").isEqualTo(2);
        assertThat(sink.kept.get(0).bytes()).isEqualTo(a);
        assertThat(sink.kept.get(1).bytes()).isEqualTo(b);
        assertThat(in.refCnt()).isZero();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void framesOfOneReadShareOneClockReadingTakenDuringThatRead() {
        KeepingSink sink = new KeepingSink();
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20, sink));
        long before = System.nanoTime();
        ch.writeInbound(Unpooled.wrappedBuffer(concat(frame(Kinds.PING, 0, 1, utf8("a")),
                frame(Kinds.PING, 0, 2, utf8("b")), frame(Kinds.PING, 0, 3, utf8("c")))));
        long between = System.nanoTime();
        ch.writeInbound(Unpooled.wrappedBuffer(frame(Kinds.PING, 0, 4, utf8("d"))));
        long after = System.nanoTime();
        assertThat(sink.kept).hasSize(4);
        long first = sink.kept.get(0).nowNanos();
        assertThat(first).isBetween(before, between);
        assertThat(sink.kept.get(1).nowNanos()).isEqualTo(first);
        assertThat(sink.kept.get(2).nowNanos()).isEqualTo(first);
        assertThat(sink.kept.get(3).nowNanos()).as("the next read reads the clock again").isBetween(between, after);
        sink.kept.forEach(KeepingSink.Kept::bytes); // releases
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aSinkThatDeclinesFromInsideOnFrameGetsShuttingDownForTheRestAndNoFrameTwice() {
        KeepingSink sink = new KeepingSink();
        FrameDecoder decoder = new FrameDecoder(1 << 20, sink);
        sink.onEachFrame = decoder::decline; // re-enters decode() while the first frame is handed on
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        byte[] first = frame(Kinds.PING, 0, 1, utf8("one"));
        ch.writeInbound(Unpooled.wrappedBuffer(concat(first, frame(Kinds.PING, 0, 2, utf8("two")),
                frame(Kinds.PING, 0, 3, utf8("three")))));
        assertThat(sink.kept).hasSize(1);
        assertThat(sink.kept.get(0).bytes()).isEqualTo(first);
        assertThat(drain(ch)).singleElement().isInstanceOfSatisfying(DecodeFailure.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.SHUTTING_DOWN);
            assertThat(f.id()).isEqualTo(2);
        });
        ch.finishAndReleaseAll();
    }
}
