package dev.framepipe.client;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/**
 * A stand-in server on a plain {@link ServerSocket}, for what the real one never does on cue:
 * hold its answers, stop reading, close cleanly with requests unanswered. Each accepted
 * connection records the frames it reads; it echoes them (as PING answers: kind with the
 * response bit, same op, id and payload) only when told, unless {@code autoAnswer} says so for
 * its number (1 for the first connection).
 */
final class FakeServer implements AutoCloseable {

    private final ServerSocket listener;
    private final Thread acceptor;
    private final BlockingQueue<Conn> accepted = new LinkedBlockingQueue<>();
    private final List<Conn> all = new CopyOnWriteArrayList<>();

    /** Reads every connection from the start; answers connections for which {@code autoAnswer} holds. */
    FakeServer(IntPredicate autoAnswer) throws IOException {
        this(autoAnswer, true, 0);
    }

    /**
     * @param reading        whether connections are read from the start (else after {@link Conn#startReading()})
     * @param receiveBuffer  the accepted sockets' receive buffer, 0 for the system's default
     */
    FakeServer(IntPredicate autoAnswer, boolean reading, int receiveBuffer) throws IOException {
        listener = new ServerSocket();
        if (receiveBuffer > 0) {
            listener.setReceiveBufferSize(receiveBuffer); // inherited by accepted sockets
        }
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        acceptor = Thread.ofPlatform().daemon().name("fake-server-accept").start(() -> {
            int n = 0;
            while (!listener.isClosed()) {
                try {
                    Socket s = listener.accept();
                    Conn c = new Conn(s, autoAnswer.test(++n));
                    all.add(c);
                    accepted.add(c);
                    if (reading) {
                        c.startReading();
                    }
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    int port() {
        return listener.getLocalPort();
    }

    /** The next connection accepted (in order), waiting up to 10 s for it. */
    Conn next() throws InterruptedException {
        Conn c = accepted.poll(10, TimeUnit.SECONDS);
        if (c == null) {
            throw new AssertionError("no connection to the fake server within 10 s");
        }
        return c;
    }

    /** Connections accepted so far. */
    int accepted() {
        return all.size();
    }

    @Override
    public void close() throws Exception {
        listener.close();
        for (Conn c : all) {
            c.socket.close();
        }
        acceptor.join(5_000);
    }

    /** One frame as read: kind, op, id and payload. */
    record Frame(int kind, int op, long id, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    static final class Conn {
        final Socket socket;
        private final boolean autoAnswer;
        private final DataInputStream in;
        private final OutputStream out;
        /** Every frame read, in order. */
        final List<Frame> received = new CopyOnWriteArrayList<>();
        private final BlockingQueue<Frame> unanswered = new LinkedBlockingQueue<>();
        private volatile boolean ended;
        private Thread reader;

        Conn(Socket socket, boolean autoAnswer) throws IOException {
            this.socket = socket;
            this.autoAnswer = autoAnswer;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        synchronized void startReading() {
            if (reader == null) {
                reader = Thread.ofPlatform().daemon().name("fake-server-read").start(this::read);
            }
        }

        private void read() {
            try {
                while (true) {
                    byte[] head = new byte[16];
                    in.readFully(head);
                    ByteBuffer h = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
                    byte[] payload = new byte[h.getInt(0) - 12];
                    in.readFully(payload);
                    Frame f = new Frame(h.get(5) & 0xFF, h.getShort(6) & 0xFFFF, h.getLong(8), payload);
                    received.add(f);
                    if (autoAnswer) {
                        write(f);
                    } else {
                        unanswered.add(f);
                    }
                }
            } catch (EOFException e) {
                // the client closed its side
            } catch (IOException e) {
                // reset or closed here
            } finally {
                ended = true;
            }
        }

        /** Payloads read, as text. */
        List<String> texts() {
            List<String> t = new ArrayList<>();
            for (Frame f : received) {
                t.add(f.text());
            }
            return t;
        }

        /** Echoes the next {@code n} frames read and not yet answered (waiting up to 10 s for each). */
        void answer(int n) throws IOException, InterruptedException {
            for (int i = 0; i < n; i++) {
                Frame f = unanswered.poll(10, TimeUnit.SECONDS);
                if (f == null) {
                    throw new AssertionError("no frame to answer within 10 s");
                }
                write(f);
            }
        }

        private synchronized void write(Frame f) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(16 + f.payload.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(12 + f.payload.length).put((byte) 1).put((byte) (f.kind | 0x80)).putShort((short) f.op)
                    .putLong(f.id).put(f.payload);
            out.write(b.array());
            out.flush();
        }

        /** A clean close of the sending side (FIN), as the real server's drain ends; reading goes on. */
        void fin() throws IOException {
            socket.shutdownOutput();
        }

        /** Whether the client has closed (its FIN or reset read). */
        boolean ended() {
            return ended;
        }
    }
}
