package dev.framepipe.loadgen;

import dev.framepipe.client.ClientTls;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import javax.net.ssl.SSLException;

/**
 * The load generator's TLS context, from the client library's {@link ClientTls} settings and with
 * the same rules (TLS 1.3 and 1.2, the server's name verified). The client library keeps its own
 * Netty context out of its API, so the load generator, which drives Netty channels directly,
 * builds one here.
 */
final class LoadTls {

    private LoadTls() {
    }

    static SslContext context(ClientTls tls) throws SSLException {
        ClientTls.Provider p = tls.effectiveProvider();
        if (p == ClientTls.Provider.OPENSSL && !ClientTls.openSslAvailable()) {
            throw new SSLException("TLS provider openssl asked for, but netty-tcnative is not available");
        }
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(p == ClientTls.Provider.OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK)
                .protocols("TLSv1.3", "TLSv1.2")
                .endpointIdentificationAlgorithm("HTTPS");
        if (tls.trustedCertificates() != null) {
            b.trustManager(tls.trustedCertificates().toFile());
        }
        if (tls.certificateChain() != null) {
            b.keyManager(tls.certificateChain().toFile(), tls.privateKey().toFile());
        }
        return b.build();
    }
}
