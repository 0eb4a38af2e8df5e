package dev.framepipe.codec;

import dev.framepipe.protocol.ErrorCode;

import static dev.framepipe.protocol.FrameDescriptor.ERROR_KIND;
import static dev.framepipe.protocol.FrameDescriptor.ERROR_MESSAGE_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.HEADER_LENGTH;
import static dev.framepipe.protocol.FrameDescriptor.writeHeader;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

/** Builds error answers, which need a buffer of their own. */
public final class Responses {

    /** Error messages are for humans; capped so an error answer stays a small buffer. */
    public static final int MAX_MESSAGE_CHARS = 200;

    private Responses() {
    }

    public static ByteBuf error(ByteBufAllocator alloc, int op, long id, ErrorCode code, String message) {
        CharSequence text = message == null ? code.name() : message;
        if (text.length() > MAX_MESSAGE_CHARS) {
            int cut = MAX_MESSAGE_CHARS;
            if (Character.isHighSurrogate(text.charAt(cut - 1))) {
                cut--; // never split a surrogate pair: the message must stay well-formed UTF-8
            }
            text = text.subSequence(0, cut);
        }
        int payload = ERROR_MESSAGE_OFFSET + ByteBufUtil.utf8Bytes(text);
        ByteBuf buf = alloc.directBuffer(HEADER_LENGTH + payload);
        writeHeader(buf, payload, ERROR_KIND, op, id);
        buf.writeShortLE(code.code());
        ByteBufUtil.writeUtf8(buf, text);
        return buf;
    }
}
