package dev.framepipe.codec;

import dev.framepipe.protocol.ErrorCode;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Coverage-guided fuzzing of the frame decoder (Jazzer). Arbitrary bytes, cut into arbitrary
 * chunks, with the admission gate opening and closing at arbitrary points and the input
 * optionally ending early, with frames handed on as slices and, separately, in place to a
 * sink: the decoder must pass on exactly what a plain reference parse of
 * the whole byte string says (every complete frame, byte for byte, then the right failure, then
 * nothing), never throw, and release every buffer it was given or allocated.
 *
 * <p>In {@code bin/framepipe test} this runs in regression mode over the inputs under
 * {@code src/test/resources/dev/framepipe/protocol/FrameDecoderFuzzTestInputs/}; {@code
 * bin/framepipe fuzz} fuzzes it (crashing inputs are written to that directory: commit them).
 */
class FrameDecoderFuzzTest {

    private static final int[] MAX_LENGTHS = {12, 13, 40, 1000, 1 << 16};

    @FuzzTest(maxDuration = "60s")
    void decodesArbitraryBytesSplitAnywhereIntoFramesOrTheRightFailure(FuzzedDataProvider data) {
        int maxLength = MAX_LENGTHS[data.consumeInt(0, MAX_LENGTHS.length - 1)];
        boolean endInput = data.consumeBoolean();
        int chunks = data.consumeInt(1, 16);
        int[] cuts = new int[chunks];
        boolean[] gateOpen = new boolean[chunks];
        for (int i = 0; i < chunks; i++) {
            cuts[i] = data.consumeInt(0, 64);
            gateOpen[i] = data.consumeBoolean();
        }
        byte[] stream = data.consumeRemainingAsBytes();

        List<Object> expected = reference(stream, maxLength, endInput);
        for (boolean inPlace : new boolean[] {false, true}) {
            decodeAndCheck(stream, maxLength, endInput, cuts, gateOpen, inPlace, expected);
        }
    }

    /**
     * One decoding of {@code stream}, frames handed on as slices or, with {@code inPlace}, to a
     * {@link FrameDecoder.FrameSink} that retains each frame's buffer and reads the bytes only
     * after all input is decoded: the decoder must neither overwrite nor free what it handed on.
     */
    private static void decodeAndCheck(byte[] stream, int maxLength, boolean endInput, int[] cuts, boolean[] gateOpen,
                                       boolean inPlace, List<Object> expected) {
        int chunks = cuts.length;
        TrackingAllocator alloc = new TrackingAllocator();
        List<Object> out = new ArrayList<>();
        Gate gate = inPlace ? new Sink(out) : new Gate();
        FrameDecoder decoder = new FrameDecoder(maxLength, gate);
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setOption(ChannelOption.ALLOCATOR, alloc);
        ch.pipeline().addLast(decoder, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof ByteBuf frame) {
                    assertThat(inPlace).as("a slice passed on to a sink's pipeline").isFalse();
                    out.add(ByteBufUtil.getBytes(frame));
                    frame.release(); // the frame's owner is done with it
                } else {
                    out.add(msg);
                }
            }
        });
        List<ByteBuf> inputs = new ArrayList<>();
        int pos = 0;
        for (int i = 0; i < chunks && pos < stream.length; i++) {
            int len = i == chunks - 1 ? stream.length - pos : Math.min(cuts[i], stream.length - pos);
            ByteBuf in = alloc.directBuffer(Math.max(len, 1)).writeBytes(stream, pos, len);
            inputs.add(in);
            pos += len;
            gate.open = gateOpen[i];
            ch.writeInbound(in); // ownership passes to the decoder
            if (gate.open) {
                decoder.resume();
            }
        }
        if (pos < stream.length) {
            ByteBuf rest = alloc.directBuffer(stream.length - pos).writeBytes(stream, pos, stream.length - pos);
            inputs.add(rest);
            ch.writeInbound(rest);
        }
        gate.open = true;
        decoder.resume();
        if (endInput) {
            ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
        // Frames a sink kept are read only now, after every later read and join.
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i) instanceof Kept k) {
                out.set(i, ByteBufUtil.getBytes(k.buf(), k.index(), k.length()));
                k.buf().release();
            }
        }

        assertThat(out).as("items passed on (in place: %s)", inPlace).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            Object want = expected.get(i);
            Object got = out.get(i);
            if (want instanceof byte[] frame) {
                assertThat(got).as("item %d", i).isInstanceOf(byte[].class);
                assertThat((byte[]) got).as("frame %d", i).isEqualTo(frame);
            } else {
                DecodeFailure w = (DecodeFailure) want;
                assertThat(got).as("item %d", i).isInstanceOf(DecodeFailure.class);
                DecodeFailure g = (DecodeFailure) got;
                assertThat(List.of(g.code(), g.op(), g.id())).as("failure").isEqualTo(List.of(w.code(), w.op(), w.id()));
            }
        }
        ch.finishAndReleaseAll();
        for (ByteBuf b : inputs) {
            assertThat(b.refCnt()).as("input buffer released").isZero();
        }
        alloc.assertAllReleased();
    }

    /** What the protocol says the byte string contains, parsed in one go. */
    static List<Object> reference(byte[] s, int maxLength, boolean endInput) {
        List<Object> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
        int pos = 0;
        while (s.length - pos >= 4) {
            long length = Integer.toUnsignedLong(b.getInt(pos));
            if (length < 12) {
                out.add(new DecodeFailure(ErrorCode.MALFORMED, 0, 0, ""));
                return out;
            }
            if (s.length - pos < 16) {
                return out;
            }
            int version = s[pos + 4] & 0xFF;
            int op = b.getShort(pos + 6) & 0xFFFF;
            long id = b.getLong(pos + 8);
            if (version != 1) {
                out.add(new DecodeFailure(ErrorCode.BAD_VERSION, op, id, ""));
                return out;
            }
            if (length > maxLength) {
                out.add(new DecodeFailure(ErrorCode.FRAME_TOO_LARGE, op, id, ""));
                return out;
            }
            if (s.length - pos < 4 + length) {
                return out; // incomplete: waits for more, or is dropped when the input ends
            }
            out.add(Arrays.copyOfRange(s, pos, pos + 4 + (int) length));
            pos += 4 + (int) length;
        }
        return out;
    }

    private static class Gate implements FrameDecoder.Gate {
        boolean open = true;

        @Override
        public boolean admitting() {
            return open;
        }
    }

    /** A frame a sink kept: its buffer (retained) and bounds. */
    private record Kept(ByteBuf buf, int index, int length) {
    }

    /** Takes frames in place, as the service's connection handler does: retains and keeps them. */
    private static final class Sink extends Gate implements FrameDecoder.FrameSink {
        private final List<Object> out;

        Sink(List<Object> out) {
            this.out = out;
        }

        @Override
        public void onFrame(ByteBuf buf, int index, int length, long nowNanos) {
            out.add(new Kept(buf.retain(), index, length));
        }
    }

    /** Unpooled buffers whose every allocation is remembered, so a leak is seen at once, not at GC. */
    private static final class TrackingAllocator extends AbstractByteBufAllocator {
        private final List<ByteBuf> made = new ArrayList<>();

        TrackingAllocator() {
            super(true);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return track(Unpooled.buffer(initialCapacity, maxCapacity));
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return track(Unpooled.directBuffer(initialCapacity, maxCapacity));
        }

        private ByteBuf track(ByteBuf b) {
            made.add(b);
            return b;
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        void assertAllReleased() {
            for (ByteBuf b : made) {
                assertThat(b.refCnt()).as("buffer allocated during decoding released").isZero();
            }
        }
    }
}
