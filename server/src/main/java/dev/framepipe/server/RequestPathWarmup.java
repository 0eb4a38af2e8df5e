package dev.framepipe.server;

import dev.framepipe.protocol.FrameDescriptor;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The request path warmed up before the server turns ready: frames of every kind and op, small
 * and large, sent over a loopback TCP connection through the same pipeline a client's frames take
 * (decoder, admission, the lane's rings, the workers' kernels, write-back), so that the JIT has
 * compiled that path, not only the kernels, when the first client arrives. A fresh replica
 * otherwise answered its first half second several times slower (p99 110 ms against 37 ms warm).
 *
 * <p>Invisible to clients: the connection goes to a listener of its own on 127.0.0.1 and an
 * ephemeral port, closed before the frame port accepts anything, and its connections use lanes of
 * their own on the same I/O threads and workers (same code, same threads), whose counters no
 * meter reads: warm-up frames, bytes and connections are not in /metrics, so a restart does not
 * show up as traffic.
 *
 * <p>It ends once its work is done: every frame has been sent at least once and the JIT has stayed
 * idle (nothing compiling, nothing queued) for {@link #IDLE_CHECKS} checks {@link #CHECK_MILLIS} ms
 * apart while the frames kept flowing, so that the path's methods are compiled as far as its
 * traffic takes them. At tens of thousands of frames a second, a method still counting up to a
 * compile threshold crosses it within such a check. Bounded still: it stops after {@code frames}
 * answers or when {@code budget} has passed, whichever comes first; a failure is logged and
 * start-up goes on (the frames were only practice).
 */
final class RequestPathWarmup {

    /** What one warm-up did, and why it ended ({@code end}: {@link #JIT_IDLE}, {@link #AT_CAP}). */
    record Result(long frames, long bytes, long nanos, String failure, String end) {
        boolean ok() {
            return failure == null;
        }
    }

    /** A large frame goes once every this many cycles (a cycle: every small frame once). */
    static final int LARGE_EVERY = 64;
    /** How often the JIT's queue is read once every frame has been sent. */
    static final long CHECK_MILLIS = 50;
    /** Consecutive idle checks that end the warm-up. */
    static final int IDLE_CHECKS = 3;
    static final String JIT_IDLE = "the JIT idle";
    static final String AT_CAP = "at its frame or time cap";
    /** After the budget, how long the answers to what was sent may take. */
    private static final long GRACE_NANOS = 5_000_000_000L;

    private RequestPathWarmup() {
    }

    /** {@link #run(ServerBootstrap, int, Duration, int, int, BooleanSupplier)} to its cap. */
    static Result run(ServerBootstrap bootstrap, int frames, Duration budget, int maxFrameBytes,
                      int parallelThresholdFloats) throws InterruptedException {
        return run(bootstrap, frames, budget, maxFrameBytes, parallelThresholdFloats, null);
    }

    /**
     * Binds {@code bootstrap} (the warm-up's child handler) to an ephemeral loopback port, sends
     * frames through it until {@code jitIdle} has said true {@link #IDLE_CHECKS} times in a row
     * once every frame was sent (never when null), {@code frames} are answered or {@code budget}
     * passes, checks every answer's id, kind and order, then closes the connection and the
     * listener.
     */
    static Result run(ServerBootstrap bootstrap, int frames, Duration budget, int maxFrameBytes,
                      int parallelThresholdFloats, BooleanSupplier jitIdle) throws InterruptedException {
        long start = System.nanoTime();
        Channel listener;
        try {
            listener = bootstrap.bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        } catch (Exception e) {
            return new Result(0, 0, System.nanoTime() - start, "cannot listen on loopback: " + e, AT_CAP);
        }
        listener.config().setAutoRead(true); // the frame port's listener stays shut meanwhile; this one accepts
        try {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            return drive(port, frames, start + budget.toNanos(), start, maxFrameBytes, parallelThresholdFloats, jitIdle);
        } finally {
            listener.close().sync();
        }
    }

    private static Result drive(int port, int frames, long deadline, long start, int maxFrameBytes,
                                int parallelThresholdFloats, BooleanSupplier jitIdle) throws InterruptedException {
        List<byte[]> small = smallFrames(maxFrameBytes);
        List<byte[]> large = largeFrames(maxFrameBytes, parallelThresholdFloats);
        // every frame once: LARGE_EVERY cycles per large frame
        long everyFrameOnce = large.isEmpty() ? small.size()
                : (long) LARGE_EVERY * large.size() * small.size() + large.size();
        // Set by this thread, read by the writer (volatile): it only ends the writer's loop.
        AtomicBoolean enough = new AtomicBoolean();
        AtomicLong sent = new AtomicLong(-1); // -1 while sending: the reader then waits for more
        AtomicLong answered = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        AtomicReference<String> failure = new AtomicReference<>();
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            InputStream in = socket.getInputStream();
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            // Answers are read on a thread of their own, so the writer never waits for them: the
            // server's back-pressure (max-in-flight, the lane's capacity) paces it through TCP.
            Thread reader = Thread.ofPlatform().name("framepipe-warmup-reader").daemon().start(() -> {
                try {
                    read(in, sent, answered, bytes);
                } catch (IOException | RuntimeException e) {
                    failure.compareAndSet(null, e.getMessage() == null ? e.toString() : e.getMessage());
                }
            });
            Thread writer = Thread.ofPlatform().name("framepipe-warmup-writer").daemon().start(() -> {
                long id = 0;
                try {
                    for (int cycle = 0; id < frames && !enough.get() && System.nanoTime() < deadline
                            && failure.get() == null; cycle++) {
                        for (byte[] frame : small) {
                            id = send(out, frame, id);
                        }
                        if (cycle % LARGE_EVERY == 0 && !large.isEmpty()) {
                            id = send(out, large.get(cycle / LARGE_EVERY % large.size()), id);
                        }
                    }
                    out.flush();
                    sent.set(id);
                    socket.shutdownOutput(); // the server answers what it has, then closes: the reader's end
                } catch (IOException e) {
                    sent.set(id);
                    failure.compareAndSet(null, "sending: " + e.getMessage());
                }
            });
            // Bounded whatever the server does: a path that stops answering (a bug) is cut off here.
            long stop = deadline + GRACE_NANOS;
            int idle = 0;
            while (writer.isAlive() && System.nanoTime() < stop) {
                writer.join(Math.max(1, Math.min(CHECK_MILLIS, (stop - System.nanoTime()) / 1_000_000)));
                if (jitIdle != null && writer.isAlive() && answered.get() >= everyFrameOnce) {
                    idle = jitIdle.getAsBoolean() ? idle + 1 : 0;
                    if (idle >= IDLE_CHECKS) {
                        enough.set(true);
                    }
                }
            }
            reader.join(Math.max(1, (stop - System.nanoTime()) / 1_000_000));
            if (writer.isAlive() || reader.isAlive()) {
                failure.compareAndSet(null, "the answers stopped coming: " + answered.get() + " answered, "
                        + Math.max(0, sent.get()) + " sent");
                socket.close(); // wakes both threads, blocked in a write or a read
                writer.join(1_000);
                reader.join(1_000);
            }
        } catch (IOException e) {
            failure.compareAndSet(null, "loopback connection: " + e.getMessage());
        }
        return new Result(answered.get(), bytes.get(), System.nanoTime() - start, failure.get(),
                enough.get() ? JIT_IDLE : AT_CAP);
    }

    private static long send(OutputStream out, byte[] frame, long id) throws IOException {
        ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN).putLong(FrameDescriptor.ID_OFFSET, id);
        out.write(frame);
        return id + 1;
    }

    /**
     * Reads answers until the connection ends: each must carry the next id and a result (the
     * request's kind with the response bit), never an error.
     */
    private static void read(InputStream in, AtomicLong sent, AtomicLong answered, AtomicLong bytes)
            throws IOException {
        DataInputStream data = new DataInputStream(new BufferedInputStream(in, 64 * 1024));
        byte[] header = new byte[FrameDescriptor.HEADER_LENGTH];
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        byte[] skip = new byte[64 * 1024];
        long next = 0;
        while (true) {
            try {
                data.readFully(header);
            } catch (EOFException e) {
                long total = sent.get();
                if (total < 0 || next < total) {
                    throw new IOException("the server closed the connection after " + next + " answers");
                }
                return;
            }
            long length = Integer.toUnsignedLong(h.getInt(FrameDescriptor.LENGTH_OFFSET));
            int kind = header[FrameDescriptor.KIND_OFFSET] & 0xFF;
            long id = h.getLong(FrameDescriptor.ID_OFFSET);
            if (id != next || kind == FrameDescriptor.ERROR_KIND || (kind & FrameDescriptor.RESPONSE_BIT) == 0) {
                throw new IOException(String.format(Locale.ROOT, "answer %d: id %d, kind 0x%02x", next, id, kind));
            }
            long payload = length - FrameDescriptor.MIN_LENGTH;
            while (payload > 0) {
                int n = data.read(skip, 0, (int) Math.min(skip.length, payload));
                if (n < 0) {
                    throw new EOFException("the connection ended inside answer " + next);
                }
                payload -= n;
            }
            bytes.addAndGet(length + FrameDescriptor.LENGTH_FIELD_SIZE);
            answered.set(++next);
        }
    }

    // ---- the frames -----------------------------------------------------------------------------

    /**
     * One of each op at the sizes most clients send (tens to a thousand values or bytes), those
     * that {@code max-frame-bytes} allows.
     */
    static List<byte[]> smallFrames(int maxFrameBytes) {
        String ascii = "The quick brown Fox jumps over the lazy dog. ";
        String mixed = "Grüße, Καλημέρα κόσμε! straße ıİ 😀 ";
        List<byte[]> r = new ArrayList<>();
        for (int n : new int[] {16, 64, 1000}) {
            r.add(floats(Ops.STATS, n));
            r.add(floats(Ops.SCALE, n));
        }
        for (String s : new String[] {ascii.repeat(2), ascii.repeat(20), mixed.repeat(4)}) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            r.add(request(Kinds.TEXT, Ops.UPPER, b));
            r.add(request(Kinds.TEXT, Ops.LOWER, b));
            r.add(request(Kinds.TEXT, Ops.COUNT, b));
        }
        r.add(request(Kinds.PING, Ops.PING, "warm-up".getBytes(StandardCharsets.US_ASCII)));
        r.removeIf(f -> f.length - FrameDescriptor.LENGTH_FIELD_SIZE > maxFrameBytes);
        return r;
    }

    /**
     * Frames assembled in buffers of their own (at least 64 KiB): STATS, SCALE and text of a few
     * hundred KiB, and last, one STATS frame above {@code parallel-threshold-floats} (the forked
     * path) when {@code max-frame-bytes} allows.
     */
    static List<byte[]> largeFrames(int maxFrameBytes, int parallelThresholdFloats) {
        List<byte[]> r = new ArrayList<>();
        int values = Math.min(100_000, (maxFrameBytes - 20) / Float.BYTES);
        if (values * Float.BYTES < 64 * 1024) {
            return r; // max-frame-bytes below the large-frame path: nothing of that size can arrive
        }
        r.add(floats(Ops.STATS, values));
        r.add(floats(Ops.SCALE, values));
        byte[] text = "Large frames are assembled in one buffer. ".repeat(values * Float.BYTES / 42)
                .getBytes(StandardCharsets.US_ASCII);
        r.add(request(Kinds.TEXT, Ops.UPPER, text));
        r.add(request(Kinds.TEXT, Ops.COUNT, text));
        long forked = parallelThresholdFloats + 1024L;
        if (forked * Float.BYTES + FrameDescriptor.MIN_LENGTH <= maxFrameBytes) {
            r.add(floats(Ops.STATS, (int) forked));
        }
        return r;
    }

    private static byte[] floats(int op, int n) {
        ByteBuffer b = ByteBuffer.allocate((op == Ops.SCALE ? 8 : 0) + n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        if (op == Ops.SCALE) {
            b.putFloat(1.5f).putFloat(-2f);
        }
        for (int i = 0; i < n; i++) {
            b.putFloat((float) Math.sin(i) * 100 + 1000);
        }
        return request(Kinds.FLOATS, op, b.array());
    }

    private static byte[] request(int kind, int op, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(FrameDescriptor.HEADER_LENGTH + payload.length);
        ByteBuffer h = ByteBuffer.allocate(FrameDescriptor.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(FrameDescriptor.LENGTH_OFFSET, FrameDescriptor.MIN_LENGTH + payload.length);
        h.put(FrameDescriptor.VERSION_OFFSET, (byte) FrameDescriptor.VERSION);
        h.put(FrameDescriptor.KIND_OFFSET, (byte) kind);
        h.putShort(FrameDescriptor.OP_OFFSET, (short) op);
        out.writeBytes(h.array());
        out.writeBytes(payload);
        return out.toByteArray();
    }

    /** The log line of a warm-up. */
    static String describe(Result r) {
        String done = String.format(Locale.ROOT, "request path warmed up: %d frames (%.1f MiB) through a loopback connection in %d ms (%s)",
                r.frames(), r.bytes() / 1048576.0, r.nanos() / 1_000_000, r.end());
        return r.ok() ? done : done + "; it failed: " + r.failure();
    }
}
