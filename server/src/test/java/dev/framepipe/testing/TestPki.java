package dev.framepipe.testing;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Certificates made by the tests (netty-pkitesting), written as PEM files into a test's
 * temporary directory: a CA, server certificates for 127.0.0.1/localhost, client certificates.
 * Nothing here is committed; every run makes fresh keys.
 */
public final class TestPki {

    private TestPki() {
    }

    /** PEM files of one certificate: its chain (leaf first) and its PKCS#8 key. */
    public record Pem(Path chain, Path key) {
    }

    public static X509Bundle ca(String name) throws Exception {
        return base().subject("CN=" + name).setIsCertificateAuthority(true).buildSelfSigned();
    }

    public static X509Bundle server(X509Bundle ca) throws Exception {
        return base().subject("CN=framepipe test server").addSanIpAddress("127.0.0.1").addSanDnsName("localhost")
                .addExtendedKeyUsageServerAuth().buildIssuedBy(ca);
    }

    public static X509Bundle client(X509Bundle ca, String name) throws Exception {
        return base().subject("CN=" + name).addExtendedKeyUsageClientAuth().buildIssuedBy(ca);
    }

    /** Writes the bundle's chain and key as {@code <name>.crt} and {@code <name>.key} in {@code dir}. */
    public static Pem write(X509Bundle bundle, Path dir, String name) throws IOException {
        Path chain = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        Files.writeString(chain, bundle.getCertificatePathPEM());
        Files.writeString(key, bundle.getPrivateKeyPEM());
        return new Pem(chain, key);
    }

    /** Writes the CA's own certificate (the trust anchor) as {@code <name>.crt}. */
    public static Path writeCa(X509Bundle ca, Path dir, String name) throws IOException {
        Path p = dir.resolve(name + ".crt");
        Files.writeString(p, ca.getCertificatePEM());
        return p;
    }

    private static CertificateBuilder base() {
        Instant now = Instant.now();
        return new CertificateBuilder().ecp256()
                .notBefore(now.minus(1, ChronoUnit.HOURS))
                .notAfter(now.plus(1, ChronoUnit.DAYS));
    }
}
