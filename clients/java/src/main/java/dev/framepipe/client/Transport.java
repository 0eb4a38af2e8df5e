package dev.framepipe.client;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The socket transport: Netty's native epoll when its classes and native library are on the
 * class path (an optional dependency of the client), else NIO. Decided once per JVM.
 */
final class Transport {

    /** Whether epoll is in use. */
    static final boolean NATIVE = nativeAvailable();

    private Transport() {
    }

    static IoHandlerFactory ioHandlerFactory() {
        return NATIVE ? NativeTransport.ioHandlerFactory() : NioIoHandler.newFactory();
    }

    static Class<? extends SocketChannel> channelClass() {
        return NATIVE ? NativeTransport.channelClass() : NioSocketChannel.class;
    }

    static String name() {
        return NATIVE ? "epoll" : "nio";
    }

    private static boolean nativeAvailable() {
        // NativeTransport names epoll classes: it is loaded only once they are known to exist,
        // so a class path without the optional jars never sees a NoClassDefFoundError.
        try {
            Class.forName("io.netty.channel.epoll.Epoll", false, Transport.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError absent) {
            return false;
        }
        try {
            return NativeTransport.available();
        } catch (LinkageError broken) { // classes without their native library, or of another version
            return false;
        }
    }
}
