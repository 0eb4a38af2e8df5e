package dev.framepipe.server;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Netty's epoll transport with a socket kept in the epoll set while it has nothing to wait for.
 *
 * <p>Why: Netty 4.2.18's epoll registration removes a socket from the epoll set when its interest
 * set becomes empty, yet keeps treating it as registered. After a client's FIN (half-close) the
 * set is empty whenever no write is waiting (Netty drops read and read-hang-up interest once the
 * input has ended), and the next interest the connection needs (EPOLLIN when reading resumes
 * after back-pressure, EPOLLOUT when an answer does not fit the socket's send buffer) fails with
 * ENOENT from epoll_ctl; Netty then closes the connection and discards the answers still queued.
 * That broke the protocol's promise that every complete frame before a half-close is answered
 * ({@code HalfCloseTest}).
 *
 * <p>What: an empty interest set is handed to epoll as {@code EPOLLET} alone, which waits for
 * nothing and keeps the socket registered, so the next interest is a plain modification.
 * Netty removed sockets with an empty set so that a hung-up socket does not wake the loop for
 * ever (EPOLLHUP and EPOLLERR are always reported); edge-triggered, they are reported once.
 * Everything else goes to Netty's handler unchanged.
 */
final class KeepRegisteredEpoll implements IoHandlerFactory {

    private final IoHandlerFactory epoll = EpollIoHandler.newFactory();

    @Override
    public IoHandler newHandler(ThreadAwareExecutor executor) {
        return new Handler(epoll.newHandler(executor));
    }

    @Override
    public boolean isChangingThreadSupported() {
        return epoll.isChangingThreadSupported();
    }

    /** Netty's handler, with each registration wrapped. */
    private record Handler(IoHandler delegate) implements IoHandler {
        @Override
        public void initialize() {
            delegate.initialize();
        }

        @Override
        public int run(IoHandlerContext context) {
            return delegate.run(context);
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
            return new Registration(delegate.register(handle));
        }

        @Override
        public void wakeup() {
            delegate.wakeup();
        }

        @Override
        public boolean isCompatible(Class<? extends IoHandle> handleType) {
            return delegate.isCompatible(handleType);
        }
    }

    /** One socket's registration. */
    private static final class Registration implements IoRegistration {
        private final IoRegistration delegate;
        /**
         * An interest set has reached epoll: from now on it must never be empty. Written by
         * submit, which Netty calls on the socket's event loop; volatile so that a submit from
         * any other thread would still see it (interest changes are rare: no cost per frame).
         */
        private volatile boolean added;

        Registration(IoRegistration delegate) {
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
