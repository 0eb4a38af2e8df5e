package dev.framepipe.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * Keeps a TLS client's half-close from costing it answers: the record that may carry its
 * close_notify (and everything after it, the FIN included) reaches the TLS engine only once the
 * connection owes nothing for the frames before it.
 *
 * <p>Why: PROTOCOL.md promises every complete frame before a client's half-close an answer, and
 * TLS 1.3 lets the client close only its sending side (close_notify, then FIN) while it reads on.
 * Netty's OpenSSL engine does not keep the other direction open: on the client's close_notify it
 * closes its own side too, and the answers it has not encrypted yet fail ("SSLEngine closed
 * already"); under TLS 1.2 every engine must answer close_notify by closing. So the alert must
 * not reach the engine while answers are owed.
 *
 * <p>How: this handler sits between the socket and the SslHandler and reads the TLS record
 * headers (5 bytes per record of up to 16 KiB: nothing per frame). A record that may be a
 * close_notify is an alert record (type 21: TLS 1.2) or, under TLS 1.3, where alerts are
 * encrypted, an application-data record whose body is what a 2-byte alert becomes: 19 bytes
 * (the alert, its content type and a 16-byte tag: OpenSSL, BoringSSL, Go, rustls) or 35 bytes
 * (the JDK pads every record with 16 zero bytes). Everything before such a record goes on as
 * usual; from it on, bytes wait here while the connection owes answers, and go on when it owes
 * none ({@link #release}, called whenever answers have been flushed or the connection changes
 * state). A data record of that size (2 bytes of a frame) only waits until the answers owed are
 * written, never longer, since they do not depend on it.
 */
final class TlsCloseGate extends ChannelInboundHandlerAdapter {

    private static final int HEADER = 5;
    private static final int ALERT = 21;
    private static final int APPLICATION_DATA = 23;
    /** A TLS 1.3 alert record's body: 2 bytes, the inner content type, a 16-byte AEAD tag. */
    private static final int SEALED_ALERT_LENGTH = 2 + 1 + 16;
    /** The same from the JDK, which pads every TLS 1.3 record's plaintext with 16 zero bytes. */
    private static final int PADDED_SEALED_ALERT_LENGTH = SEALED_ALERT_LENGTH + 16;

    private final Connection conn;
    private ChannelHandlerContext ctx;
    /** Bytes of the current record's body still to pass before the next header. */
    private int bodyLeft;
    /** The start of a record header that the last read ended inside of (at most 4 bytes); null when none. */
    private ByteBuf partialHeader;
    /** Bytes held back from a record that may be a close_notify on; null when not holding. */
    private ByteBuf held;
    private boolean inputShutdownHeld;

    TlsCloseGate(Connection conn) {
        this.conn = conn;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (held != null) {
            held = append(held, in);
            return;
        }
        if (partialHeader != null) {
            ByteBuf joined = append(partialHeader, in);
            partialHeader = null;
            in = joined;
        }
        scan(in);
    }

    /** Passes {@code in} on up to the first record that may be a close_notify, if the connection owes answers. */
    private void scan(ByteBuf in) {
        int from = in.readerIndex();
        int i = from;
        int end = in.writerIndex();
        while (i < end) {
            if (bodyLeft > 0) {
                int n = Math.min(bodyLeft, end - i);
                i += n;
                bodyLeft -= n;
                continue;
            }
            if (end - i < HEADER) {
                // A header cut by the read: it is judged when its last bytes come.
                pass(in, from, i - from);
                partialHeader = in.alloc().heapBuffer(end - i).writeBytes(in, i, end - i);
                in.release();
                return;
            }
            int type = in.getUnsignedByte(i);
            int length = in.getUnsignedShort(i + 3);
            if (mayCloseNotify(type, length)) {
                pass(in, from, i - from); // the frames before it reach the decoder first...
                if (owesAnswers()) {      // ...and only then is it known whether any are owed
                    held = in.retainedSlice(i, end - i);
                    in.release();
                    return;
                }
                from = i;
            }
            i += HEADER;
            bodyLeft = length;
        }
        pass(in, from, end - from);
        in.release();
    }

    /** Passes {@code length} bytes of {@code in} from {@code from} on (a retained slice). */
    private void pass(ByteBuf in, int from, int length) {
        if (length > 0) {
            ctx.fireChannelRead(in.retainedSlice(from, length));
        }
    }

    private static boolean mayCloseNotify(int type, int length) {
        return type == ALERT || (type == APPLICATION_DATA
                && (length == SEALED_ALERT_LENGTH || length == PADDED_SEALED_ALERT_LENGTH));
    }

    /** Whether answers are owed for frames that came before: in flight, or complete but not yet admitted. */
    private boolean owesAnswers() {
        if (conn.closingOrClosed()) {
            return false; // the server is closing anyway: nothing more will be answered
        }
        return conn.inFlight > 0 || conn.terminal != null
                || (conn.decoder.hasBufferedBytes() && !conn.decoder.frameInProgress());
    }

    /** Lets held bytes (and a held FIN) on once nothing is owed. I/O thread. */
    void release() {
        if (held == null || owesAnswers()) {
            return;
        }
        ByteBuf bytes = held;
        held = null;
        scan(bytes); // they may hold another suspect record (a 19-byte data record was not one)
        ctx.fireChannelReadComplete();
        if (held == null && inputShutdownHeld) {
            inputShutdownHeld = false;
            ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && held != null) {
            inputShutdownHeld = true; // the FIN follows the held close_notify
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        discard();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        discard();
    }

    private void discard() {
        if (held != null) {
            held.release();
            held = null;
        }
        if (partialHeader != null) {
            partialHeader.release();
            partialHeader = null;
        }
    }

    /** {@code first}'s readable bytes followed by {@code then}'s; both are released into the result. */
    private static ByteBuf append(ByteBuf first, ByteBuf then) {
        CompositeByteBuf c;
        if (first instanceof CompositeByteBuf composite) {
            c = composite;
        } else {
            c = first.alloc().compositeBuffer();
            c.addComponent(true, first);
        }
        return c.addComponent(true, then);
    }
}
