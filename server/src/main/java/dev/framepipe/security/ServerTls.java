package dev.framepipe.security;

import dev.framepipe.config.ConfigException;
import dev.framepipe.config.FramepipeConfig.ClientAuth;
import dev.framepipe.config.FramepipeConfig.TlsSettings;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The server's TLS: an {@link SslContext} built from the PEM files of the settings, and rebuilt
 * when they change on disk.
 *
 * <p>Rotation: every {@code tls-reload-interval} the certificate, key and CA files are read and
 * hashed; when the hash changes a new context is built and swapped in. Each new connection
 * takes {@link #newHandler} from whatever context is current, so it uses the new certificate,
 * while open connections keep the SSLEngine they were created with and are not disturbed.
 * Content is compared rather than modification times because cert-manager and Kubernetes
 * secrets rotate by swapping a symlink, and because a copy may keep the old timestamp. A
 * half-written rotation (a key that does not belong to the certificate yet, checked by
 * {@link KeyPairs}) is never installed: it is logged, the old context stays, and the next change
 * is tried again.
 *
 * <p>Client certificates (mutual TLS) are checked by the JDK's trust manager for the CA bundle;
 * with the OpenSSL provider a certificate that chains to no trusted CA is refused with the
 * {@code unknown_ca} alert ({@link UnknownCaTrustManager}) rather than {@code internal_error}.
 */
public final class ServerTls implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ServerTls.class.getName());

    private final TlsSettings settings;
    private final SslProvider provider;
    private final AtomicReference<SslContext> current = new AtomicReference<>();
    private volatile String fingerprint;
    private String failedFingerprint;
    private volatile long reloads;
    private ScheduledFuture<?> watcher;

    private ServerTls(TlsSettings settings, SslProvider provider) {
        this.settings = settings;
        this.provider = provider;
    }

    /** Builds the first context; a problem with the files is a configuration error (exit 2). */
    public static ServerTls create(TlsSettings settings) {
        SslProvider provider;
        try {
            provider = TlsProviders.resolve(settings.provider());
        } catch (IllegalStateException e) {
            throw new ConfigException(e.getMessage(), e);
        }
        ServerTls tls = new ServerTls(settings, provider);
        String print;
        try {
            print = tls.readFingerprint();
            tls.current.set(tls.build());
        } catch (Exception e) {
            throw new ConfigException("TLS: cannot use " + settings.certChain() + " / " + settings.key()
                    + (settings.ca() != null ? " / " + settings.ca() : "") + ": " + e.getMessage(), e);
        }
        tls.fingerprint = print;
        LOG.log(System.Logger.Level.INFO, "TLS on, provider " + TlsProviders.describe(provider)
                + ", protocols TLSv1.3 TLSv1.2, client auth " + settings.clientAuth().name().toLowerCase(java.util.Locale.ROOT));
        return tls;
    }

    /**
     * Checks the files every {@code tls-reload-interval} on {@code executor} (a thread that may
     * block briefly). The only timer of an idle server: one wake-up per interval (10 s by default)
     * to read and hash three small files is idle by any measure, and polling, unlike inotify,
     * sees the symlink swaps by which Kubernetes and cert-manager rotate secrets.
     */
    public void watch(EventExecutor executor) {
        long every = settings.reloadInterval().toNanos();
        if (every > 0) {
            watcher = executor.scheduleWithFixedDelay(this::reloadIfChanged, every, every, TimeUnit.NANOSECONDS);
        }
    }

    /** A handler for a new connection, from the current context; the handshake is bounded in time. */
    public SslHandler newHandler(ByteBufAllocator alloc) {
        SslHandler handler = current.get().newHandler(alloc);
        handler.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
        return handler;
    }

    public SslProvider provider() {
        return provider;
    }

    /** How many times a changed set of files was loaded since start. */
    public long reloads() {
        return reloads;
    }

    /** Reads the files now and swaps the context if they changed; false when unchanged or unusable. */
    public synchronized boolean reloadIfChanged() {
        String print;
        try {
            print = readFingerprint();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "TLS: cannot read the certificate files, keeping the current ones: " + e);
            return false;
        }
        if (print.equals(fingerprint) || print.equals(failedFingerprint)) {
            return false;
        }
        try {
            current.set(build());
            fingerprint = print;
            failedFingerprint = null;
            reloads++;
            LOG.log(System.Logger.Level.INFO, "TLS: certificate files changed, new connections use them");
            return true;
        } catch (Exception e) {
            failedFingerprint = print; // tried once; the next change is tried again
            LOG.log(System.Logger.Level.WARNING, "TLS: changed certificate files are not usable (yet), keeping the"
                    + " current ones: " + e);
            return false;
        }
    }

    private SslContext build() throws IOException, GeneralSecurityException {
        KeyPairs.checkMatch(settings.certChain(), settings.key());
        SslContextBuilder b = SslContextBuilder.forServer(settings.certChain().toFile(), settings.key().toFile())
                .sslProvider(provider)
                .protocols("TLSv1.3", "TLSv1.2");
        if (settings.clientAuth() != ClientAuth.NONE) {
            b.trustManager(provider == SslProvider.JDK
                            ? UnknownCaTrustManager.jdk(settings.ca())
                            : UnknownCaTrustManager.forOpenSsl(settings.ca()))
                    .clientAuth(settings.clientAuth() == ClientAuth.REQUIRE
                            ? io.netty.handler.ssl.ClientAuth.REQUIRE
                            : io.netty.handler.ssl.ClientAuth.OPTIONAL);
        }
        return b.build();
    }

    private String readFingerprint() throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Path p : Arrays.asList(settings.certChain(), settings.key(), settings.ca())) {
            if (p != null) {
                digest.update(Files.readAllBytes(p));
                digest.update((byte) 0);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.cancel(false);
        }
    }
}
