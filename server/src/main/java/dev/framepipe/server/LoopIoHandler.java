package dev.framepipe.server;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.ArrayList;

/**
 * The transport's I/O handler (epoll or NIO) as every event loop of the service runs it, with
 * two additions:
 *
 * <ol>
 *   <li><b>Hooks after the next I/O pass</b> ({@link #afterNextIo}): code on the loop that must
 *       know the socket's already-arrived bytes have been read (a draining connection closes only
 *       once whatever sat in its receive buffer was read and declined) registers a hook; it runs
 *       right after the loop's next pass over ready sockets, which does not block while a hook
 *       waits. Level-triggered readiness means a socket with unread bytes and reading on is
 *       read in that pass.</li>
 *   <li><b>Epoll: a socket stays in the epoll set while it has nothing to wait for.</b> Netty
 *       4.2.18 removes a socket from the set when its interest set becomes empty, yet keeps
 *       treating it as registered. After a client's FIN the set is empty whenever no write is
 *       waiting (Netty drops read and read-hang-up interest once the input has ended), and the
 *       next interest the connection needs (EPOLLIN when reading resumes after back-pressure,
 *       EPOLLOUT when an answer does not fit the send buffer) then failed with ENOENT, and Netty
 *       closed the connection with the answers still queued ({@code HalfCloseTest}). An empty set
 *       is handed to epoll as {@code EPOLLET} alone instead: it waits for nothing and keeps the
 *       socket registered. (Netty removed such sockets so that a hung-up socket does not wake the
 *       loop for ever; edge-triggered, EPOLLHUP and EPOLLERR are reported once.)</li>
 * </ol>
 */
final class LoopIoHandler implements IoHandler {

    /** The handler of the loop running on this thread (set on the loop's first pass). */
    private static final ThreadLocal<LoopIoHandler> CURRENT = new ThreadLocal<>();

    private final IoHandler delegate;
    private final boolean epoll;
    /** Hooks for the pass after the current one; loop thread only. */
    private ArrayList<Runnable> next = new ArrayList<>();
    /** Hooks of the pass running now; loop thread only. */
    private ArrayList<Runnable> now = new ArrayList<>();
    private boolean current;

    private LoopIoHandler(IoHandler delegate, boolean epoll) {
        this.delegate = delegate;
        this.epoll = epoll;
    }

    /** Wraps a transport's factory; {@code epoll} adds the registration fix. */
    static IoHandlerFactory factory(IoHandlerFactory transport, boolean epoll) {
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor executor) {
                return new LoopIoHandler(transport.newHandler(executor), epoll);
            }

            @Override
            public boolean isChangingThreadSupported() {
                return transport.isChangingThreadSupported();
            }
        };
    }

    /**
     * Runs {@code hook} on this loop right after its next pass over ready sockets (one that
     * starts after this call). Loop thread only.
     *
     * @throws IllegalStateException if the calling thread is not a loop of the service
     */
    static void afterNextIo(Runnable hook) {
        LoopIoHandler handler = CURRENT.get();
        if (handler == null) {
            throw new IllegalStateException("not on a framepipe event loop: " + Thread.currentThread().getName());
        }
        handler.next.add(hook);
    }

    @Override
    public void initialize() {
        delegate.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
        if (!current) {
            CURRENT.set(this);
            current = true;
        }
        ArrayList<Runnable> hooks = next;
        next = now;
        now = hooks;
        int handled = delegate.run(hooks.isEmpty() ? context : new NonBlocking(context));
        for (int i = 0; i < hooks.size(); i++) {
            hooks.get(i).run();
        }
        hooks.clear();
        return handled;
    }

    @Override
    public void prepareToDestroy() {
        delegate.prepareToDestroy();
    }

    @Override
    public void destroy() {
        delegate.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        IoRegistration registration = delegate.register(handle);
        return epoll ? new KeptRegistration(registration) : registration;
    }

    @Override
    public void wakeup() {
        delegate.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return delegate.isCompatible(handleType);
    }

    /** The loop's context, but the pass must not block: hooks are waiting for it to end. */
    private record NonBlocking(IoHandlerContext context) implements IoHandlerContext {
        @Override
        public boolean canBlock() {
            return false;
        }

        @Override
        public long delayNanos(long currentTimeNanos) {
            return 0;
        }

        @Override
        public long deadlineNanos() {
            return context.deadlineNanos();
        }
    }

    /** One epoll socket's registration, never handed an empty interest set once added. */
    private static final class KeptRegistration implements IoRegistration {
        private final IoRegistration delegate;
        /**
         * An interest set has reached epoll: from now on it must never be empty. Written by
         * submit, which Netty calls on the socket's event loop; volatile so that a submit from
         * any other thread would still see it (interest changes are rare: no cost per frame).
         */
        private volatile boolean added;

        KeptRegistration(IoRegistration delegate) {
            this.delegate = delegate;
        }

        @Override
        public <T> T attachment() {
            return delegate.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            if (ops instanceof EpollIoOps e && e.value() == EpollIoOps.NONE.value()) {
                if (!added) {
                    return delegate.submit(ops); // not in epoll yet: Netty keeps it out, as it should
                }
                ops = EpollIoOps.EPOLLET;
            }
            long result = delegate.submit(ops);
            if (result > 0) {
                added = true;
            }
            return result;
        }

        @Override
        public boolean isValid() {
            return delegate.isValid();
        }

        @Override
        public boolean cancel() {
            return delegate.cancel();
        }
    }
}
