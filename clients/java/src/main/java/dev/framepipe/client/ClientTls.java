package dev.framepipe.client;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * TLS for {@link FramepipeClient}: the CA bundle that signs the server's certificate (null: the
 * JDK's default trust store), and for mutual TLS the client's certificate chain and key (PEM).
 * The server's name is verified against its certificate (HTTPS rules: DNS or IP SAN).
 *
 * @param provider null picks OpenSSL where it loads, else the JDK
 */
public record ClientTls(Path trustedCa, Path certChain, Path key, SslProvider provider) {

    public ClientTls {
        if ((certChain == null) != (key == null)) {
            throw new IllegalArgumentException("a client certificate needs its key and the other way round");
        }
    }

    public static ClientTls trusting(Path ca) {
        return new ClientTls(ca, null, null, null);
    }

    public ClientTls withClientCertificate(Path chain, Path privateKey) {
        return new ClientTls(trustedCa, chain, privateKey, provider);
    }

    public ClientTls withProvider(SslProvider p) {
        return new ClientTls(trustedCa, certChain, key, p);
    }

    /** The client-side context (one per client or load run; each connection takes a handler from it). */
    public SslContext build() throws SSLException {
        SslProvider p = provider != null ? provider : OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(p)
                .protocols("TLSv1.3", "TLSv1.2")
                .endpointIdentificationAlgorithm("HTTPS");
        if (trustedCa != null) {
            b.trustManager(trustedCa.toFile());
        }
        if (certChain != null) {
            b.keyManager(certChain.toFile(), key.toFile());
        }
        return b.build();
    }
}
