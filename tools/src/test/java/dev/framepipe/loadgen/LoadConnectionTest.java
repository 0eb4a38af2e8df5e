package dev.framepipe.loadgen;

import static dev.framepipe.protocol.FrameDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.codec.FrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The open loop's sending, on one connection driven by hand: requests go out on the pacer's
 * ticks, and a connection behind its schedule sends overdue requests as soon as answers free its
 * window.
 */
class LoadConnectionTest {

    private final RequestTemplate ping = RequestTemplate.of(MixEntry.parseAll("ping:16").getFirst(), 42);
    private final LoadStats stats = new LoadStats();
    private EmbeddedChannel channel;

    private LoadConnection open(int depth, double ratePerSecond) {
        LoadConnection c = new LoadConnection(new RequestTemplate[] {ping}, 0, stats, depth, ratePerSecond, 1, false);
        channel = new EmbeddedChannel(new FrameDecoder(1 << 16, c), c);
        return c;
    }

    @AfterEach
    void release() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
        ping.payload.release();
    }

    /** Ids of the request frames written since the last call. */
    private List<Long> sentIds() {
        List<Long> ids = new ArrayList<>();
        ByteBuf out;
        while ((out = channel.readOutbound()) != null) {
            try {
                for (int at = out.readerIndex(); at < out.writerIndex(); at += LENGTH_FIELD_SIZE + (int) length(out, at)) {
                    ids.add(id(out, at));
                }
            } finally {
                out.release();
            }
        }
        return ids;
    }

    /** Answers (pongs) to the given ids, in one read. */
    private void answer(long... ids) {
        ByteBuf in = Unpooled.buffer();
        for (long id : ids) {
            writeHeader(in, 16, ping.answerKind(), ping.op, id);
            in.writeZero(16);
        }
        channel.writeInbound(in); // channelRead, then channelReadComplete
    }

    @Test
    void aConnectionBehindItsScheduleSendsOverdueRequestsAsAnswersFreeTheWindowWithoutWaitingForATick() throws Exception {
        LoadConnection c = open(4, 1e9); // a request due every nanosecond: always behind
        c.tick(); // the schedule starts
        Thread.sleep(1);
        c.tick();
        assertThat(sentIds()).containsExactly(1L, 2L, 3L, 4L); // the window, no more
        answer(1, 2);
        assertThat(sentIds()).as("sent on the answers' read, no tick in between").containsExactly(5L, 6L);
        answer(3);
        assertThat(sentIds()).containsExactly(7L);
        assertThat(stats.mismatches.sum()).isZero();
    }

    @Test
    void aConnectionOnScheduleSendsOnlyOnTicks() throws Exception {
        LoadConnection c = open(1000, 1000); // one request a millisecond, a window far larger
        c.tick(); // the schedule starts: nothing due yet
        assertThat(sentIds()).isEmpty();
        Thread.sleep(5);
        c.tick();
        List<Long> first = sentIds();
        assertThat(first).hasSizeGreaterThanOrEqualTo(5).hasSizeLessThan(1000);
        Thread.sleep(5); // more requests come due meanwhile, but the connection was never behind
        answer(first.stream().mapToLong(Long::longValue).toArray());
        assertThat(sentIds()).as("answers send nothing while on schedule").isEmpty();
        c.tick();
        assertThat(sentIds()).as("the next tick sends what came due").isNotEmpty();
        assertThat(stats.mismatches.sum()).isZero();
    }
}
