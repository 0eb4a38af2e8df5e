package dev.framepipe.client;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.TimeUnit;

/**
 * I/O threads shared by several clients. Without it every {@link FramepipeClient} and
 * {@link ReconnectingClient} runs on one I/O thread of its own, which is what most applications
 * want; an application with hundreds of connections shares a few threads instead:
 *
 * <pre>{@code
 * try (ClientEventLoops loops = ClientEventLoops.create(2)) {
 *     ClientOptions options = ClientOptions.builder().eventLoops(loops).build();
 *     ... FramepipeClient.connect(host, port, options) ...
 * }
 * }</pre>
 *
 * Each connection stays on one of the threads for its life. Closing the loops closes every
 * connection still open on them; close the clients first. The threads are daemon threads.
 */
public final class ClientEventLoops implements AutoCloseable {

    final EventLoopGroup group;
    private final int threads;

    private ClientEventLoops(int threads, String name) {
        this.threads = threads;
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true),
                Transport.ioHandlerFactory());
    }

    /** {@code threads} I/O threads (at least 1). */
    public static ClientEventLoops create(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        return new ClientEventLoops(threads, "framepipe-client-shared");
    }

    /** One thread for one client (closed with it). */
    static ClientEventLoops single(String name) {
        return new ClientEventLoops(1, name);
    }

    public int threads() {
        return threads;
    }

    /**
     * The socket transport the loops use: {@code "epoll"} when Netty's native transport is on the
     * class path and loads on this platform, else {@code "nio"}.
     */
    public static String transport() {
        return Transport.name();
    }

    /** Whether the calling thread is one of these loops' threads (where nothing may block). */
    boolean inEventLoop() {
        for (EventExecutor e : group) {
            if (e.inEventLoop()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Stops the threads (waiting up to a second for them when called from another thread).
     * Connections still open on them are closed.
     */
    @Override
    public void close() {
        var terminated = group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        if (!inEventLoop()) {
            terminated.syncUninterruptibly();
        }
    }
}
