package dev.framepipe.loadgen;

import static dev.framepipe.protocol.FrameDescriptor.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Drives one connection from a platform thread of its own, closed loop, in rounds: it writes its
 * {@code depth} requests as one batch (one {@code write}), reads until every answer of the round
 * has come (one {@code read} per batch of answers the kernel has), verifies them, and starts the
 * next round. No event loop, no hand-off between threads, no allocation per round: what it
 * spends per frame is a header patch and the checks of the answer, so that it leaves the shared
 * cores to the server it measures (a client with one event-loop thread for all connections
 * tops out well below what the raw baseline can serve on two cores).
 *
 * <p>Latency of a frame: from the start of its round's write to the read that brought its answer
 * (one clock read per read, recorded once per read with the count of the answers it brought).
 *
 * <p>A round whose answers could exceed what the socket buffers hold while the client is still
 * writing (large echoes) would deadlock a client that only reads after writing: such a
 * connection runs non-blocking with a selector of its own, writing and reading as each can
 * proceed. Every other connection blocks in {@code read}, and the kernel wakes its thread.
 */
final class BlockingConnection implements LoadGenerator.Driver {

    /** Answer bytes of a round up to which writing first and reading after cannot deadlock. */
    static final int BLOCKING_ANSWER_BYTES = 32 * 1024;
    /** Cached request batches (one per start position in the schedule) up to this many bytes. */
    static final long CACHE_BYTES = 64L << 20;

    private final RequestTemplate[] schedule;
    private final LoadStats stats;
    private final int depth;
    private final int verifyEvery;
    private final boolean verifyValues;
    private final SocketChannel channel;
    private final Thread thread;
    private final boolean blocking;

    // Request batches: one per start position in the schedule (rounds start where the last ended),
    // each with the offsets of its id fields; built when first needed.
    private final ByteBuffer[] batches;
    private final int[][] idOffsets;
    private final boolean cache;
    private int start; // schedule position of the round's first request

    private final ByteBuffer in;
    private final ByteBuf inView; // the same memory, for RequestTemplate.verify

    private long nextId = 1;
    private long sent;
    private long answered;
    private int inFlight;
    private volatile boolean stopping;
    private volatile boolean drained;
    /** Set by {@link #close()}: an error after it is the generator's own close. */
    private volatile boolean closing;
    /** The answer stream could not be read on: this side ends the connection. */
    private boolean broken;

    BlockingConnection(RequestTemplate[] schedule, int offset, LoadStats stats, int depth, int verifyEvery,
                       boolean verifyValues, String host, int port, int index) throws IOException {
        this.schedule = schedule;
        this.stats = stats;
        this.depth = depth;
        this.verifyEvery = Math.max(1, verifyEvery);
        this.verifyValues = verifyValues;
        this.start = offset % schedule.length;
        long batchBytes = 0;
        int maxAnswer = 0;
        long roundAnswers = 0;
        for (int i = 0; i < depth; i++) {
            RequestTemplate t = schedule[(start + i) % schedule.length];
            batchBytes += t.requestFrameBytes();
            roundAnswers += t.responseFrameBytes();
        }
        for (RequestTemplate t : schedule) {
            maxAnswer = Math.max(maxAnswer, t.responseFrameBytes());
        }
        this.batches = new ByteBuffer[schedule.length];
        this.idOffsets = new int[schedule.length][];
        this.cache = batchBytes * schedule.length <= CACHE_BYTES;
        // An answer is read whole (its value may be checked): room for the largest and then some.
        this.in = ByteBuffer.allocateDirect(Math.max(1 << 20, maxAnswer + (64 << 10))).order(ByteOrder.LITTLE_ENDIAN);
        this.inView = Unpooled.wrappedBuffer(in);
        this.blocking = roundAnswers <= BLOCKING_ANSWER_BYTES;
        this.channel = SocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.connect(new InetSocketAddress(host, port));
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        stats.open.incrementAndGet();
        thread = Thread.ofPlatform().name("framepipe-load-" + index).daemon().unstarted(this::run);
    }

    /** Whether this connection blocks in its reads (false: non-blocking with a selector). */
    boolean blocking() {
        return blocking;
    }

    void start() {
        thread.start();
    }

    @Override
    public void stop() {
        stopping = true;
    }

    @Override
    public boolean drained() {
        return drained;
    }

    @Override
    public boolean paced() {
        return true; // closed loop: no pacer
    }

    /** Closes the connection (waking a read still waiting) and waits for its thread. */
    void close() throws InterruptedException {
        closing = true;
        try {
            channel.close(); // wakes a read still waiting (a server that stopped answering)
        } catch (IOException ignored) {
            // closing anyway
        }
        thread.join(5_000);
    }

    private void run() {
        boolean byServer = false;
        Selector selector = null;
        try {
            if (!blocking) {
                selector = Selector.open();
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_READ);
            }
            while (!stopping) {
                ByteBuffer batch = batch(start);
                int[] ids = idOffsets[start];
                for (int i = 0; i < depth; i++) {
                    batch.putLong(ids[i], nextId + i);
                }
                batch.position(0);
                long roundStart = System.nanoTime();
                inFlight = depth;
                sent += depth;
                nextId += depth;
                if (!(blocking ? roundBlocking(batch, roundStart) : roundSelecting(batch, roundStart, selector))) {
                    byServer = !broken && !closing && !stats.finishing;
                    break;
                }
                start = (start + depth) % schedule.length;
            }
        } catch (IOException e) {
            if (!closing && !stats.finishing) {
                stats.problem("connection failed: " + e.getMessage());
                byServer = true;
            }
        } catch (RuntimeException e) { // a bug of the generator's: say so rather than die silently
            stats.mismatches.increment();
            stats.problem("load connection failed: " + e);
        } finally {
            finish(byServer);
            if (selector != null) {
                try {
                    selector.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }

    /** One round on a blocking socket; false when the server closed the connection. */
    private boolean roundBlocking(ByteBuffer batch, long roundStart) throws IOException {
        while (batch.hasRemaining()) {
            channel.write(batch);
        }
        while (inFlight > 0) {
            if (channel.read(in) < 0) {
                return false;
            }
            if (!answers(System.nanoTime() - roundStart)) {
                return false;
            }
        }
        return true;
    }

    /** One round writing and reading as each can proceed; false when the server closed. */
    private boolean roundSelecting(ByteBuffer batch, long roundStart, Selector selector) throws IOException {
        SelectionKey key = channel.keyFor(selector);
        while (inFlight > 0) {
            boolean progress = false;
            if (batch.hasRemaining()) {
                progress = channel.write(batch) > 0;
            }
            int n = channel.read(in);
            if (n < 0) {
                return false;
            }
            if (n > 0) {
                progress = true;
                if (!answers(System.nanoTime() - roundStart)) {
                    return false;
                }
            }
            if (!progress) {
                key.interestOps(batch.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
                selector.select();
                selector.selectedKeys().clear();
            }
        }
        return true;
    }

    /**
     * Checks and counts the whole answers in {@code in}, keeps a partial one for the next read.
     * False when the answer stream is broken (a header no answer can have, an answer with nothing
     * in flight): the connection is not read further.
     */
    private boolean answers(long latencyNanos) {
        ByteBuffer in = this.in;
        int end = in.position();
        int at = 0;
        int count = 0;
        long responseBytes = 0;
        long requestBytes = 0;
        boolean ok = true;
        while (end - at >= HEADER_LENGTH) {
            long length = in.getInt(at + LENGTH_OFFSET) & 0xFFFF_FFFFL;
            int version = in.get(at + VERSION_OFFSET) & 0xFF;
            if (length < MIN_LENGTH || version != VERSION || LENGTH_FIELD_SIZE + length > in.capacity()) {
                broken("answer stream broken: length " + length + ", version " + version);
                ok = false;
                break;
            }
            int frameBytes = LENGTH_FIELD_SIZE + (int) length;
            if (end - at < frameBytes) {
                break;
            }
            if (inFlight == 0) {
                broken("answer with nothing in flight: id " + in.getLong(at + ID_OFFSET));
                ok = false;
                break;
            }
            RequestTemplate template = schedule[(start + depth - inFlight) % schedule.length];
            check(template, at, frameBytes);
            inFlight--;
            answered++;
            count++;
            responseBytes += frameBytes;
            requestBytes += template.requestFrameBytes();
            at += frameBytes;
        }
        if (count > 0 && stats.measuring) {
            stats.frames.add(count);
            stats.requestBytes.add(requestBytes);
            stats.responseBytes.add(responseBytes);
            stats.latency.recordValueWithCount(Math.max(0, latencyNanos), count);
        }
        // keep the partial answer, at the start of the buffer
        if (at == end) {
            in.clear();
        } else if (at > 0) {
            in.limit(end).position(at);
            in.compact();
        }
        return ok;
    }

    private void check(RequestTemplate template, int at, int frameBytes) {
        long expectedId = nextId - inFlight;
        long id = in.getLong(at + ID_OFFSET);
        int kind = in.get(at + KIND_OFFSET) & 0xFF;
        int op = in.getShort(at + OP_OFFSET) & 0xFFFF;
        int payloadLength = frameBytes - HEADER_LENGTH;
        if (id != expectedId) {
            stats.mismatches.increment();
            stats.problem("answer out of order: id " + id + ", expected " + expectedId);
        }
        if (kind == ERROR_KIND) {
            int code = payloadLength >= 2 ? in.getShort(at + PAYLOAD_OFFSET) & 0xFFFF : 0;
            stats.errorCounted(code);
            if (stats.wantsProblems()) {
                byte[] text = new byte[Math.max(0, payloadLength - 2)];
                in.get(at + PAYLOAD_OFFSET + 2, text);
                stats.errorAnswer(template.entry.toString(), code, new String(text, StandardCharsets.UTF_8));
            }
        } else if (kind != template.answerKind() || op != template.op) {
            stats.mismatches.increment();
            stats.problem(template.entry + ": answer kind 0x" + Integer.toHexString(kind) + " op " + op);
        } else if (payloadLength != template.expectedLength) {
            stats.mismatches.increment();
            stats.problem(template.entry + ": answer payload " + payloadLength + " bytes, expected " + template.expectedLength);
        } else if (verifyValues && (answered + 1) % verifyEvery == 0) {
            String wrong = template.verify(inView, at + PAYLOAD_OFFSET, payloadLength);
            if (wrong != null) {
                stats.mismatches.increment();
                stats.problem(wrong);
            }
        }
    }

    private void broken(String why) {
        broken = true;
        stats.mismatches.increment();
        stats.problem(why);
    }

    /** The request batch of a round starting at schedule position {@code from}. */
    private ByteBuffer batch(int from) {
        ByteBuffer b = batches[from];
        if (b != null) {
            return b;
        }
        long bytes = 0;
        for (int i = 0; i < depth; i++) {
            bytes += schedule[(from + i) % schedule.length].requestFrameBytes();
        }
        if (bytes > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a round of " + depth + " requests is " + bytes + " bytes: lower --depth");
        }
        if (!cache) {
            // one buffer reused for every start position, rebuilt each round
            for (ByteBuffer other : batches) {
                if (other != null && other.capacity() >= bytes) {
                    b = other;
                    break;
                }
            }
            java.util.Arrays.fill(batches, null);
        }
        if (b == null) {
            b = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        b.clear();
        int[] ids = new int[depth];
        for (int i = 0; i < depth; i++) {
            RequestTemplate t = schedule[(from + i) % schedule.length];
            int payload = t.payload.readableBytes();
            int at = b.position();
            b.putInt(MIN_LENGTH + payload).put((byte) VERSION).put((byte) t.kind).putShort((short) t.op).putLong(0);
            ids[i] = at + ID_OFFSET;
            b.put(t.payload.nioBuffer(t.payload.readerIndex(), payload));
        }
        b.flip();
        batches[from] = b;
        idOffsets[from] = ids;
        return b;
    }

    /** Adds this connection's totals and marks it drained, whatever ended it. */
    private void finish(boolean byServer) {
        stats.sentTotal.add(sent);
        stats.answeredTotal.add(answered);
        if (byServer) {
            stats.closedByServer.incrementAndGet();
        }
        if (inFlight > 0) {
            // not wrong answers: answers that never came
            stats.problem((byServer ? "the server closed a connection" : "connection closed") + " with " + inFlight
                    + " requests unanswered");
            stats.lost.add(inFlight);
        }
        // last: a run that sees no connection open reads this one's counts complete (atomics: sequentially consistent)
        stats.open.decrementAndGet();
        drained = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
