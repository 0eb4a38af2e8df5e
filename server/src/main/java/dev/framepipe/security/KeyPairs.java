package dev.framepipe.security;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.PSSParameterSpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a PEM private key belongs to the first certificate of a PEM chain: the key signs a
 * random challenge and the certificate's public key must verify it. A TLS provider given a
 * certificate with somebody else's key may build a context that fails every handshake (the
 * client sees {@code internal_error} or a bad signature), so a rotation is installed only after
 * this check; a half-written rotation (a new certificate beside the old key) is refused.
 */
final class KeyPairs {

    private static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    private KeyPairs() {
    }

    /** Throws with a message naming both files when the key does not belong to the certificate. */
    static void checkMatch(Path certChain, Path key) throws IOException, GeneralSecurityException {
        X509Certificate leaf = firstCertificate(certChain);
        PrivateKey privateKey = readPkcs8(key, leaf.getPublicKey().getAlgorithm());
        if (!signsFor(privateKey, leaf.getPublicKey())) {
            throw new GeneralSecurityException("the private key " + key + " does not belong to the certificate "
                    + leaf.getSubjectX500Principal().getName() + " in " + certChain);
        }
    }

    static X509Certificate firstCertificate(Path chain) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(chain)) {
            List<? extends java.security.cert.Certificate> certs =
                    List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (certs.isEmpty()) {
                throw new GeneralSecurityException("no certificate in " + chain);
            }
            return (X509Certificate) certs.get(0);
        }
    }

    private static PrivateKey readPkcs8(Path key, String algorithm) throws IOException, GeneralSecurityException {
        Matcher m = PKCS8.matcher(Files.readString(key));
        if (!m.find()) {
            throw new GeneralSecurityException("no PKCS#8 private key (BEGIN PRIVATE KEY) in " + key);
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(1));
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new GeneralSecurityException("the private key " + key + " is not a " + algorithm
                    + " key like the certificate's: " + e.getMessage(), e);
        }
    }

    private static boolean signsFor(PrivateKey privateKey, PublicKey publicKey) throws GeneralSecurityException {
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        Signature signer = signature(publicKey.getAlgorithm());
        signer.initSign(privateKey);
        signer.update(challenge);
        byte[] signed = signer.sign();
        Signature verifier = signature(publicKey.getAlgorithm());
        verifier.initVerify(publicKey);
        verifier.update(challenge);
        return verifier.verify(signed);
    }

    private static Signature signature(String keyAlgorithm) throws GeneralSecurityException {
        return switch (keyAlgorithm) {
            case "EC" -> Signature.getInstance("SHA256withECDSA");
            case "RSA" -> Signature.getInstance("SHA256withRSA");
            case "RSASSA-PSS" -> {
                Signature pss = Signature.getInstance("RSASSA-PSS");
                pss.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
                yield pss;
            }
            case "Ed25519", "Ed448", "EdDSA" -> Signature.getInstance(keyAlgorithm);
            default -> throw new GeneralSecurityException("unsupported key algorithm " + keyAlgorithm);
        };
    }
}
