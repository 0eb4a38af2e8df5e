package dev.framepipe.testing;

import dev.framepipe.client.Response;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A plain blocking socket for tests that need byte-level control: frames split anywhere,
 * half-closes, resets, a client that does not read. Reads time out after 20 s so that a
 * missing answer fails the test instead of hanging it.
 */
public final class RawConnection implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;

    public RawConnection(int port) throws IOException {
        this(connect(new Socket(), port));
    }

    private RawConnection(Socket connected) throws IOException {
        socket = connected;
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
    }

    /**
     * A TLS connection (handshake done). {@link #shutdownOutput()} then sends close_notify and
     * the FIN (TLS 1.3 half-close).
     */
    public static RawConnection tls(int port, javax.net.ssl.SSLContext ssl) throws IOException {
        Socket plain = connect(new Socket(), port);
        javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) ssl.getSocketFactory()
                .createSocket(plain, "127.0.0.1", port, true);
        s.setEnabledProtocols(new String[] {"TLSv1.3"});
        s.startHandshake();
        return new RawConnection(s);
    }

    private static Socket connect(Socket socket, int port) throws IOException {
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(20_000);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        return socket;
    }

    public Socket socket() {
        return socket;
    }

    public RawConnection send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Reads one response frame; throws EOFException if the server closed first. */
    public Response read() throws IOException {
        byte[] lengthBytes = new byte[4];
        in.readFully(lengthBytes);
        int length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (length < 12) {
            throw new IOException("response length " + length + " < 12");
        }
        byte[] rest = new byte[length];
        in.readFully(rest);
        ByteBuffer b = ByteBuffer.wrap(rest).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.get() & 0xFF;
        if (version != 1) {
            throw new IOException("response version " + version);
        }
        int kind = b.get() & 0xFF;
        int op = b.getShort() & 0xFFFF;
        long id = b.getLong();
        byte[] payload = new byte[length - 12];
        b.get(payload);
        return new Response(kind, op, id, payload);
    }

    /**
     * True when the server has closed its sending side cleanly (FIN, not a reset; over TLS
     * close_notify then FIN) and nothing is left.
     */
    public boolean readsCleanEof() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketException | javax.net.ssl.SSLException e) {
            return false; // connection reset, or a TLS truncation
        }
    }

    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Closes with a TCP reset (SO_LINGER 0): an abrupt disconnect. */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

}
