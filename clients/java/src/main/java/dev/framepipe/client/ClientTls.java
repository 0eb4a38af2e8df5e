package dev.framepipe.client;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SSLException;

/**
 * TLS settings of a client, from PEM files: the CA certificates that sign the server's
 * certificate, and for mutual TLS the client's certificate chain and private key (PKCS#8,
 * {@code BEGIN PRIVATE KEY}). The server's name is always verified against its certificate
 * (HTTPS rules: a DNS or IP subject alternative name matching the host connected to, or
 * {@link Builder#serverName(String)}). TLS 1.3 and 1.2.
 *
 * <pre>{@code
 * ClientTls tls = ClientTls.builder()
 *         .trustedCertificates(Path.of("pki/ca.crt"))
 *         .clientCertificate(Path.of("pki/client.crt"), Path.of("pki/client.key"))
 *         .build();
 * }</pre>
 *
 * The files are read at every connection, so a client certificate renewed on disk is used by
 * the next connection. Immutable.
 */
public final class ClientTls {

    /** Which TLS implementation to use. */
    public enum Provider {
        /** OpenSSL (BoringSSL) when netty-tcnative is on the class path and loads, else the JDK's. */
        AUTO,
        /** The JDK's TLS. */
        JDK,
        /** OpenSSL through netty-tcnative; connecting fails when it is not available. */
        OPENSSL
    }

    private final Path trustedCertificates;
    private final Path certificateChain;
    private final Path privateKey;
    private final Provider provider;
    private final String serverName;

    private ClientTls(Builder b) {
        this.trustedCertificates = b.trustedCertificates;
        this.certificateChain = b.certificateChain;
        this.privateKey = b.privateKey;
        this.provider = b.provider;
        this.serverName = b.serverName;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Server authentication only, against the CA certificates in {@code caPem}. */
    public static ClientTls trusting(Path caPem) {
        return builder().trustedCertificates(caPem).build();
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.trustedCertificates = trustedCertificates;
        b.certificateChain = certificateChain;
        b.privateKey = privateKey;
        b.provider = provider;
        b.serverName = serverName;
        return b;
    }

    /** The CA bundle (PEM), or null for the JDK's default trust store. */
    public Path trustedCertificates() {
        return trustedCertificates;
    }

    /** The client's certificate chain (PEM) for mutual TLS, or null. */
    public Path certificateChain() {
        return certificateChain;
    }

    /** The client's private key (PEM, PKCS#8) for mutual TLS, or null. */
    public Path privateKey() {
        return privateKey;
    }

    public Provider provider() {
        return provider;
    }

    /** The name verified against the server's certificate (and sent as SNI), or null for the host connected to. */
    public String serverName() {
        return serverName;
    }

    /** Whether OpenSSL (netty-tcnative) is on the class path and loads on this platform. */
    public static boolean openSslAvailable() {
        try {
            return OpenSsl.isAvailable();
        } catch (LinkageError e) {
            return false;
        }
    }

    /** The provider {@link Provider#AUTO} picks here: {@code OPENSSL} or {@code JDK}. */
    public Provider effectiveProvider() {
        return provider != Provider.AUTO ? provider : openSslAvailable() ? Provider.OPENSSL : Provider.JDK;
    }

    /** A client-side context, reading the files now. */
    SslContext sslContext() throws SSLException {
        Provider p = effectiveProvider();
        if (p == Provider.OPENSSL && !openSslAvailable()) {
            throw new SSLException("TLS provider OPENSSL asked for, but netty-tcnative is not available: "
                    + OpenSsl.unavailabilityCause());
        }
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(p == Provider.OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK)
                .protocols("TLSv1.3", "TLSv1.2")
                .endpointIdentificationAlgorithm("HTTPS");
        try {
            if (trustedCertificates != null) {
                b.trustManager(trustedCertificates.toFile());
            }
            if (certificateChain != null) {
                b.keyManager(certificateChain.toFile(), privateKey.toFile());
            }
            return b.build();
        } catch (IllegalArgumentException e) { // Netty's word for a PEM file it cannot read
            throw new SSLException("cannot use the TLS files (" + describe() + "): " + e.getMessage(), e);
        }
    }

    private String describe() {
        return "trusted " + (trustedCertificates == null ? "JDK default" : trustedCertificates)
                + (certificateChain == null ? "" : ", certificate " + certificateChain + ", key " + privateKey);
    }

    @Override
    public String toString() {
        return "ClientTls[" + describe() + ", provider " + provider.name().toLowerCase(Locale.ROOT)
                + (serverName == null ? "" : ", server name " + serverName) + "]";
    }

    /** Settings for {@link ClientTls}; every file must exist and be readable when {@link #build()} is called. */
    public static final class Builder {
        private Path trustedCertificates;
        private Path certificateChain;
        private Path privateKey;
        private Provider provider = Provider.AUTO;
        private String serverName;

        private Builder() {
        }

        /** CA certificates (PEM) that sign the server's certificate; unset: the JDK's default trust store. */
        public Builder trustedCertificates(Path caPem) {
            this.trustedCertificates = Objects.requireNonNull(caPem, "caPem");
            return this;
        }

        /**
         * For mutual TLS: the client's certificate chain (PEM, own certificate first) and its
         * private key (PEM, PKCS#8).
         */
        public Builder clientCertificate(Path chainPem, Path keyPem) {
            this.certificateChain = Objects.requireNonNull(chainPem, "chainPem");
            this.privateKey = Objects.requireNonNull(keyPem, "keyPem");
            return this;
        }

        /** The TLS implementation; default {@link Provider#AUTO}. */
        public Builder provider(Provider provider) {
            this.provider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * The name to verify the server's certificate against and send as SNI, when it differs
         * from the host connected to (for instance connecting to an IP address of a server whose
         * certificate names it by DNS name).
         */
        public Builder serverName(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("serverName must not be blank");
            }
            this.serverName = name;
            return this;
        }

        /** @throws IllegalArgumentException when a file does not exist or cannot be read */
        public ClientTls build() {
            requireReadable(trustedCertificates, "trusted certificates");
            requireReadable(certificateChain, "client certificate chain");
            requireReadable(privateKey, "client private key");
            return new ClientTls(this);
        }

        private static void requireReadable(Path file, String what) {
            if (file != null && !(Files.isRegularFile(file) && Files.isReadable(file))) {
                throw new IllegalArgumentException(what + ": " + file + " is not a readable file");
            }
        }
    }
}
