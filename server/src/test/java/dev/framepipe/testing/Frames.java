package dev.framepipe.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds raw frames as bytes, exactly as the protocol lays them out, for socket-level tests. */
public final class Frames {

    private Frames() {
    }

    public static byte[] frame(int version, int kind, int op, long id, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(16 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(12 + payload.length).put((byte) version).put((byte) kind).putShort((short) op).putLong(id).put(payload);
        return b.array();
    }

    public static byte[] frame(int kind, int op, long id, byte[] payload) {
        return frame(1, kind, op, id, payload);
    }

    /** A header only, with an arbitrary length field (for length errors). */
    public static byte[] header(long length, int version, int kind, int op, long id) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt((int) length).put((byte) version).put((byte) kind).putShort((short) op).putLong(id);
        return b.array();
    }

    public static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    public static byte[] scalePayload(float a, float bb, float... values) {
        ByteBuffer b = ByteBuffer.allocate(8 + values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(a).putFloat(bb);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
