package dev.framepipe.testing;

import dev.framepipe.client.Response;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * A TLS client over a plain blocking socket, with the JDK's {@link SSLEngine} doing the TLS and
 * this class the TCP, so that a test sees what a TLS socket hides: whether the peer's close came
 * as close_notify and then FIN, as a bare FIN, or as a reset, and in which order. Reads time out
 * after 20 s. {@link #send} may run on another thread than the reads (SSLEngine allows a wrap and
 * an unwrap at once; the handshake is over before either).
 */
public final class TlsRawConnection implements AutoCloseable {

    /** How the server ended its side of the connection, as this client saw it. */
    public enum Close {
        /** close_notify, then FIN: a clean TLS close. */
        CLOSE_NOTIFY_THEN_FIN,
        /** close_notify, then a reset instead of a FIN. */
        CLOSE_NOTIFY_THEN_RESET,
        /** FIN without close_notify: a truncation as far as TLS can tell. */
        FIN_WITHOUT_CLOSE_NOTIFY,
        /** A reset before any close_notify. */
        RESET,
        /** Application data came where the close was expected. */
        MORE_DATA
    }

    private final Socket socket;
    private final InputStream rawIn;
    private final OutputStream rawOut;
    private final SSLEngine engine;
    private final ByteBuffer netIn;
    private final ByteBuffer appIn; // decrypted bytes not yet taken, read mode
    private boolean closeNotify;

    public TlsRawConnection(int port, SSLContext tls) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(20_000);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        rawIn = socket.getInputStream();
        rawOut = socket.getOutputStream();
        engine = tls.createSSLEngine("localhost", port);
        engine.setUseClientMode(true);
        netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
        handshake();
    }

    /** The raw socket, e.g. to see what plain TCP shows of the connection. */
    public Socket socket() {
        return socket;
    }

    private void handshake() throws IOException {
        engine.beginHandshake();
        HandshakeStatus hs = engine.getHandshakeStatus();
        while (hs != HandshakeStatus.FINISHED && hs != HandshakeStatus.NOT_HANDSHAKING) {
            switch (hs) {
                case NEED_WRAP -> hs = wrap(ByteBuffer.allocate(0)).getHandshakeStatus();
                case NEED_TASK -> {
                    for (Runnable t; (t = engine.getDelegatedTask()) != null; ) {
                        t.run();
                    }
                    hs = engine.getHandshakeStatus();
                }
                default -> { // NEED_UNWRAP, NEED_UNWRAP_AGAIN
                    SSLEngineResult r = unwrap();
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        throw new SSLException("the server closed during the handshake");
                    }
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && fill() < 0) {
                        throw new EOFException("the server closed the socket during the handshake");
                    }
                    hs = r.getHandshakeStatus();
                }
            }
        }
    }

    private synchronized SSLEngineResult wrap(ByteBuffer app) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        SSLEngineResult r = engine.wrap(app, out);
        rawOut.write(out.array(), 0, out.position());
        rawOut.flush();
        return r;
    }

    /** Unwraps what is buffered into appIn (which must be empty). */
    private SSLEngineResult unwrap() throws SSLException {
        appIn.clear();
        netIn.flip();
        SSLEngineResult r = engine.unwrap(netIn, appIn);
        netIn.compact();
        appIn.flip();
        return r;
    }

    /** Reads raw bytes from the socket into netIn; -1 at the peer's FIN. */
    private int fill() throws IOException {
        int n = rawIn.read(netIn.array(), netIn.position(), netIn.remaining());
        if (n > 0) {
            netIn.position(netIn.position() + n);
        }
        return n;
    }

    /** Writes {@code bytes} as application data. */
    public TlsRawConnection send(byte[] bytes) throws IOException {
        ByteBuffer app = ByteBuffer.wrap(bytes);
        while (app.hasRemaining()) {
            wrap(app);
        }
        return this;
    }

    /**
     * Makes decrypted bytes available in appIn.
     *
     * @return false at the server's close_notify
     * @throws EOFException at a FIN without close_notify; SocketException at a reset
     */
    private boolean more() throws IOException {
        while (!appIn.hasRemaining()) {
            if (closeNotify) {
                return false;
            }
            SSLEngineResult r = unwrap();
            switch (r.getStatus()) {
                case CLOSED -> closeNotify = true;
                case BUFFER_UNDERFLOW -> {
                    if (fill() < 0) {
                        throw new EOFException("FIN without close_notify");
                    }
                }
                case BUFFER_OVERFLOW -> throw new IllegalStateException("application buffer too small");
                case OK -> {
                    if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
                        for (Runnable t; (t = engine.getDelegatedTask()) != null; ) {
                            t.run();
                        }
                    }
                }
            }
        }
        return true;
    }

    private void readFully(byte[] dst) throws IOException {
        int at = 0;
        while (at < dst.length) {
            if (!more()) {
                throw new EOFException("close_notify after " + at + " of " + dst.length + " bytes");
            }
            int n = Math.min(appIn.remaining(), dst.length - at);
            appIn.get(dst, at, n);
            at += n;
        }
    }

    /** Reads one response frame. */
    public Response read() throws IOException {
        byte[] lengthBytes = new byte[4];
        readFully(lengthBytes);
        int length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (length < 12) {
            throw new IOException("response length " + length + " < 12");
        }
        byte[] rest = new byte[length];
        readFully(rest);
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

    /** Reads on until the server's side has ended, and says how it ended. */
    public Close readClose() throws IOException {
        try {
            if (more()) {
                return Close.MORE_DATA;
            }
        } catch (EOFException fin) {
            return Close.FIN_WITHOUT_CLOSE_NOTIFY;
        } catch (SocketException reset) {
            return Close.RESET;
        }
        // close_notify seen; TLS allows no records after it, only the TCP close
        netIn.flip();
        boolean trailing = netIn.hasRemaining();
        netIn.compact();
        if (trailing) {
            return Close.MORE_DATA;
        }
        try {
            return rawIn.read() == -1 ? Close.CLOSE_NOTIFY_THEN_FIN : Close.MORE_DATA;
        } catch (SocketException reset) {
            return Close.CLOSE_NOTIFY_THEN_RESET;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
