package dev.framepipe.security;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.framepipe.config.ConfigException;
import dev.framepipe.config.Setting;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestPki;
import dev.framepipe.testing.TestPki.Pem;
import dev.framepipe.testing.TestServers;
import io.netty.pkitesting.X509Bundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.Socket;
import java.nio.file.StandardCopyOption;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.EnumMap;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * docs/security.md, Rotation: a key that does not match the certificate yet is logged and
 * skipped, and the old pair stays until the files are consistent; rotations by symlink swap
 * (Kubernetes secrets, cert-manager) are picked up. And a client certificate from an unknown CA
 * is refused with the alert that says so. Handshakes here are plain JDK sockets, so what the
 * server presents is read straight from the handshake.
 */
class CertificateRotationTest {

    @TempDir
    Path dir;

    private X509Bundle oldCa;
    private X509Bundle newCa;
    private Pem oldPair;
    private Pem newPair;

    @BeforeEach
    void certificates() throws Exception {
        oldCa = TestPki.ca("this year's CA");
        newCa = TestPki.ca("next year's CA");
        oldPair = TestPki.write(TestPki.server(oldCa), Files.createDirectory(dir.resolve("old")), "tls");
        newPair = TestPki.write(TestPki.server(newCa), Files.createDirectory(dir.resolve("new")), "tls");
    }

    private static Map<Setting, String> tls(Path chain, Path key, String provider) {
        Map<Setting, String> s = new EnumMap<>(Setting.class);
        s.put(Setting.TLS_CERT_CHAIN, chain.toString());
        s.put(Setting.TLS_KEY, key.toString());
        s.put(Setting.TLS_PROVIDER, provider);
        s.put(Setting.TLS_RELOAD_INTERVAL, "0"); // the test reloads by hand, at the moments it chooses
        return s;
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aNewCertificateBesideTheOldKeyIsNotInstalledUntilItsKeyArrives(String provider) throws Exception {
        Path chain = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        Files.copy(oldPair.chain(), chain);
        Files.copy(oldPair.key(), key);
        try (FramepipeServer server = TestServers.start(tls(chain, key, provider))) {
            assertThat(issuerOfServer(server, oldCa)).contains("this year's CA");

            // Half-written: the certificate is new, the key is still the old one.
            Files.copy(newPair.chain(), chain, StandardCopyOption.REPLACE_EXISTING);
            assertThat(server.tls().reloadIfChanged()).as("a mismatched pair is refused").isFalse();
            assertThat(issuerOfServer(server, oldCa)).as("new connections keep the old pair").contains("this year's CA");
            assertThat(server.tls().reloads()).isZero();

            Files.copy(newPair.key(), key, StandardCopyOption.REPLACE_EXISTING);
            assertThat(server.tls().reloadIfChanged()).as("the completed rotation is installed").isTrue();
            assertThat(issuerOfServer(server, newCa)).contains("next year's CA");
            assertThatThrownBy(() -> issuerOfServer(server, oldCa)).isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void aServerStartedWithAKeyThatIsNotTheCertificatesStopsNamingBothFiles() {
        assertThatThrownBy(() -> TestServers.start(tls(newPair.chain(), oldPair.key(), "auto")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(oldPair.key().toString())
                .hasMessageContaining(newPair.chain().toString())
                .hasMessageContaining("does not belong");
    }

    @Test
    void aRotationBySwappingTheDataSymlinkIsPickedUp() throws Exception {
        // The layout of a Kubernetes secret volume: tls.crt -> ..data/tls.crt, ..data -> a dated
        // directory; a rotation writes a new directory and swaps ..data in one rename.
        Path volume = Files.createDirectory(dir.resolve("secret"));
        Path first = Files.createDirectory(volume.resolve("..2026_12_03_01"));
        Files.copy(oldPair.chain(), first.resolve("tls.crt"));
        Files.copy(oldPair.key(), first.resolve("tls.key"));
        Files.createSymbolicLink(volume.resolve("..data"), first.getFileName());
        Files.createSymbolicLink(volume.resolve("tls.crt"), Path.of("..data", "tls.crt"));
        Files.createSymbolicLink(volume.resolve("tls.key"), Path.of("..data", "tls.key"));
        try (FramepipeServer server = TestServers.start(tls(volume.resolve("tls.crt"), volume.resolve("tls.key"),
                "auto"))) {
            assertThat(issuerOfServer(server, oldCa)).contains("this year's CA");

            Path second = Files.createDirectory(volume.resolve("..2026_12_03_02"));
            Files.copy(newPair.chain(), second.resolve("tls.crt"));
            Files.copy(newPair.key(), second.resolve("tls.key"));
            Path swap = Files.createSymbolicLink(volume.resolve("..data_tmp"), second.getFileName());
            Files.move(swap, volume.resolve("..data"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);

            assertThat(server.tls().reloadIfChanged()).isTrue();
            assertThat(issuerOfServer(server, newCa)).contains("next year's CA");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aClientCertificateFromAnUnknownCaIsRefusedAndOpenSslSaysUnknownCa(String provider) throws Exception {
        Path caFile = TestPki.writeCa(oldCa, dir, "client-ca");
        Map<Setting, String> settings = tls(oldPair.chain(), oldPair.key(), provider);
        settings.put(Setting.TLS_CLIENT_AUTH, "require");
        settings.put(Setting.TLS_CA, caFile.toString());
        X509Bundle strangerCa = TestPki.ca("nobody we know");
        X509Bundle stranger = TestPki.client(strangerCa, "stranger");
        X509Bundle friend = TestPki.client(oldCa, "friend");
        try (FramepipeServer server = TestServers.start(settings)) {
            try (RawConnection ok = RawConnection.tls(server.framePort(), context(oldCa, friend))) {
                assertThat(ok.send(frame(Kinds.PING, 0, 1, utf8("hi"))).read().text()).isEqualTo("hi");
            }
            // TLS 1.3: the client's handshake ends before the server has judged its certificate;
            // the alert is the first thing it reads (writing first could meet the closed socket).
            // Which alert the JDK's provider sends is the JDK's choice; OpenSSL's is ours.
            var refused = assertThatThrownBy(() -> {
                try (RawConnection c = RawConnection.tls(server.framePort(), context(oldCa, stranger))) {
                    c.socket().getInputStream().read();
                }
            }).isInstanceOf(java.io.IOException.class);
            if (provider.equals("openssl")) {
                refused.hasMessageContaining("unknown_ca");
            }
        }
    }

    /** Connects trusting only {@code ca}; returns the issuer of the certificate the server presented. */
    private static String issuerOfServer(FramepipeServer server, X509Bundle ca) throws Exception {
        try (RawConnection c = RawConnection.tls(server.framePort(), context(ca, null))) {
            X509Certificate presented = (X509Certificate) ((SSLSocket) c.socket()).getSession()
                    .getPeerCertificates()[0];
            assertThat(c.send(frame(Kinds.PING, 0, 7, utf8("ok"))).read().text()).isEqualTo("ok");
            return presented.getIssuerX500Principal().getName();
        }
    }

    /**
     * Presents its certificate whatever CAs the server asks for (the JDK's own key manager sends
     * none when the server's list does not name its issuer, and the server then only sees a
     * missing certificate), as a misconfigured client or {@code openssl s_client -cert} does.
     */
    private static final class AlwaysPresent extends X509ExtendedKeyManager {
        private final X509ExtendedKeyManager keys;

        AlwaysPresent(X509ExtendedKeyManager keys) {
            this.keys = keys;
        }

        private String onlyAlias(String keyType) {
            String[] aliases = keys.getClientAliases(keyType, null);
            return aliases == null || aliases.length == 0 ? null : aliases[0];
        }

        @Override
        public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
            return chooseClientAlias(keyTypes, issuers, null);
        }

        @Override
        public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
            for (String type : keyTypes) {
                String alias = onlyAlias(type);
                if (alias != null) {
                    return alias;
                }
            }
            return null;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return keys.getClientAliases(keyType, null);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return keys.getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return keys.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return keys.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return keys.getPrivateKey(alias);
        }
    }

    private static SSLContext context(X509Bundle trusted, X509Bundle clientCertificate) throws Exception {
        SSLContext ssl = SSLContext.getInstance("TLS");
        javax.net.ssl.KeyManager[] keys = null;
        if (clientCertificate != null) {
            KeyStore store = clientCertificate.toKeyStore("secret".toCharArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, "secret".toCharArray());
            keys = new javax.net.ssl.KeyManager[] {new AlwaysPresent((X509ExtendedKeyManager) kmf.getKeyManagers()[0])};
        }
        ssl.init(keys, trusted.toTrustManagerFactory().getTrustManagers(), null);
        return ssl;
    }
}
