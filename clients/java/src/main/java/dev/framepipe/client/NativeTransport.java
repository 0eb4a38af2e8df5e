package dev.framepipe.client;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;

/** The epoll side of {@link Transport}; loaded only when the epoll classes are present. */
final class NativeTransport {

    private NativeTransport() {
    }

    static boolean available() {
        return Epoll.isAvailable();
    }

    static IoHandlerFactory ioHandlerFactory() {
        return EpollIoHandler.newFactory();
    }

    static Class<? extends SocketChannel> channelClass() {
        return EpollSocketChannel.class;
    }
}
