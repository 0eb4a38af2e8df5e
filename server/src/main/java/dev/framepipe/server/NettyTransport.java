package dev.framepipe.server;

import dev.framepipe.config.ConfigException;
import dev.framepipe.config.FramepipeConfig.Transport;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * Picks Netty's native epoll transport where it loads, NIO otherwise (or as configured); either
 * runs under {@link LoopIoHandler}.
 */
public record NettyTransport(String name, IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannel) {

    public static NettyTransport select(Transport wanted) {
        boolean epoll = switch (wanted) {
            case NIO -> false;
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw new ConfigException("setting 'transport' = 'epoll': native epoll is not available here: "
                            + Epoll.unavailabilityCause());
                }
                yield true;
            }
            case AUTO -> Epoll.isAvailable();
        };
        return epoll
                ? new NettyTransport("epoll", LoopIoHandler.factory(EpollIoHandler.newFactory(), true),
                        EpollServerSocketChannel.class)
                : new NettyTransport("nio", LoopIoHandler.factory(NioIoHandler.newFactory(), false),
                        NioServerSocketChannel.class);
    }
}
