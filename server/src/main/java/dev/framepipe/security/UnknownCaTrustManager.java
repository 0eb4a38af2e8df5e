package dev.framepipe.security;

import io.netty.handler.ssl.OpenSslCertificateException;
import io.netty.internal.tcnative.CertificateVerifier;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilderException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The JDK's trust manager for a PEM bundle of client CAs, reporting "no path to a trusted CA" so
 * that the OpenSSL provider sends the {@code unknown_ca} alert. Netty's OpenSSL engine turns a
 * trust manager's failure into an X.509 verification error, which BoringSSL maps to an alert;
 * the JDK's failure for an unknown issuer carries no reason Netty recognises, so it became
 * {@code X509_V_ERR_UNSPECIFIED} and the client saw {@code internal_error}, as if the server
 * were broken. Every other failure (expired, revoked, ...) is passed on unchanged.
 */
final class UnknownCaTrustManager extends X509ExtendedTrustManager {

    private final X509ExtendedTrustManager jdk;

    private UnknownCaTrustManager(X509ExtendedTrustManager jdk) {
        this.jdk = jdk;
    }

    /** For the OpenSSL provider. */
    static TrustManager forOpenSsl(Path caBundle) throws IOException, GeneralSecurityException {
        return new UnknownCaTrustManager(jdk(caBundle));
    }

    /** The JDK's trust manager for the CAs in {@code caBundle} (PEM). */
    static X509ExtendedTrustManager jdk(Path caBundle) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(caBundle)) {
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new GeneralSecurityException("no CA certificate in " + caBundle);
            }
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        for (TrustManager tm : factory.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager from " + factory.getAlgorithm());
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        try {
            jdk.checkClientTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            throw translated(e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        try {
            jdk.checkClientTrusted(chain, authType, socket);
        } catch (CertificateException e) {
            throw translated(e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
            jdk.checkClientTrusted(chain, authType);
        } catch (CertificateException e) {
            throw translated(e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        jdk.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        jdk.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        jdk.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return jdk.getAcceptedIssuers();
    }

    private static CertificateException translated(CertificateException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof CertPathBuilderException) {
                OpenSslCertificateException unknownCa = new OpenSslCertificateException(
                        "client certificate is not signed by a trusted CA",
                        CertificateVerifier.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
                unknownCa.initCause(e);
                return unknownCa;
            }
        }
        return e;
    }
}
