package dev.framepipe.baseline;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The wire's limit on this machine: a blocking server with one platform thread per connection
 * that answers every frame with an answer of the service's size and computes nothing
 * ({@link RawAnswerer}). Per batch it makes one {@code read} into a large buffer and one
 * {@code write} of every answer that read produced: no selector, no {@code epoll_wait}, no
 * hand-off between threads, no wake-up other than the kernel's for the socket that has data.
 * Whatever a server does beyond that costs the difference, which is why the load tests compare
 * framepipe with it per server core-second.
 *
 * <p>After a closing error (PROTOCOL.md, Errors) it flushes, shuts its sending side down, and
 * reads and discards what the client still sends until the client closes or {@link #LINGER}
 * passes, so that a reset cannot destroy the answers the client has not read yet.
 */
public final class RawBaselineServer implements AutoCloseable {

    /** Bytes of a connection's read buffer (its answer buffer is as large). */
    public static final int DEFAULT_BUFFER_BYTES = 1 << 20;
    /** How long a closing connection keeps reading what the client still sends. */
    static final Duration LINGER = Duration.ofSeconds(2);

    private final ServerSocketChannel listener;
    private final Thread acceptor;
    private final int bufferBytes;
    private final long maxLength;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * @param port        0 for any free port
     * @param bufferBytes read buffer per connection, at least 4096
     * @param maxLength   largest accepted value of the length field ({@code max-frame-bytes})
     */
    public RawBaselineServer(String bindAddress, int port, int bufferBytes, long maxLength) throws IOException {
        if (bufferBytes < 4096) {
            throw new IllegalArgumentException("buffer of " + bufferBytes + " bytes: at least 4096");
        }
        if (maxLength < 12) {
            throw new IllegalArgumentException("largest frame length " + maxLength + ": at least 12");
        }
        this.bufferBytes = bufferBytes;
        this.maxLength = maxLength;
        listener = ServerSocketChannel.open();
        listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        listener.bind(new InetSocketAddress(bindAddress, port), 1024);
        acceptor = Thread.ofPlatform().name("raw-accept").daemon().start(this::accept);
    }

    public int port() {
        try {
            return ((InetSocketAddress) listener.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new IllegalStateException("the listening socket is closed", e);
        }
    }

    private void accept() {
        for (int n = 0; !closed; n++) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("raw baseline: accept failed: " + e.getMessage());
                }
                return;
            }
            open.add(ch);
            if (closed) { // close() may have swept the set before this one was in it
                closeQuietly(ch);
                return;
            }
            // Platform threads: a blocking read parks the thread in the kernel, which wakes it
            // when its socket has data (a virtual thread would add a poller and a hand-off).
            Thread.ofPlatform().name("raw-conn-" + n).daemon().start(() -> serve(ch));
        }
    }

    private void serve(SocketChannel ch) {
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            RawAnswerer a = new RawAnswerer(bufferBytes, maxLength);
            ByteBuffer out = a.out;
            for (;;) {
                RawAnswerer.Next next = a.process();
                if (out.position() > 0) { // one write of everything this input produced
                    out.flip();
                    while (out.hasRemaining()) {
                        ch.write(out);
                    }
                    out.clear();
                }
                if (next == RawAnswerer.Next.CLOSE) {
                    lingerAndClose(ch);
                    return;
                }
                if (next == RawAnswerer.Next.INPUT) {
                    a.compact();
                    if (ch.read(a.in) < 0) {
                        return; // the client closed: a frame it cut off gets no answer
                    }
                }
            }
        } catch (ClosedChannelException e) {
            // close() closed it
        } catch (IOException e) {
            // the client reset the connection: nothing to answer any more
        } finally {
            open.remove(ch);
            closeQuietly(ch);
        }
    }

    /** FIN after the last answer, then discard input until the client closes or the linger ends. */
    private static void lingerAndClose(SocketChannel ch) throws IOException {
        ch.shutdownOutput();
        ch.socket().setSoTimeout((int) LINGER.toMillis());
        long deadline = System.nanoTime() + LINGER.toNanos();
        byte[] discard = new byte[64 * 1024];
        try (InputStream in = ch.socket().getInputStream()) {
            while (System.nanoTime() < deadline && in.read(discard) >= 0) {
                // discarded: the connection is closing
            }
        } catch (SocketTimeoutException e) {
            // the linger ended
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Stops accepting and closes every connection. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (SocketChannel ch : open) {
            closeQuietly(ch);
        }
        acceptor.join(5_000);
    }
}
