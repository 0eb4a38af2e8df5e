package dev.framepipe.security;

import dev.framepipe.config.FramepipeConfig.TlsProvider;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/** Resolves the {@code tls-provider} setting to a Netty provider. */
public final class TlsProviders {

    private TlsProviders() {
    }

    /**
     * {@code auto}: OpenSSL (BoringSSL from netty-tcnative) when its native library loads here,
     * because it is markedly faster than the JDK's engine and copies less; the JDK provider
     * otherwise. {@code openssl} insists, and fails clearly when the library does not load.
     */
    public static SslProvider resolve(TlsProvider setting) {
        return switch (setting) {
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new IllegalStateException("tls-provider openssl: netty-tcnative does not load here: "
                            + OpenSsl.unavailabilityCause());
                }
                yield SslProvider.OPENSSL;
            }
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    /** For the log: which provider, and for OpenSSL which library version. */
    public static String describe(SslProvider provider) {
        return provider == SslProvider.JDK ? "jdk" : "openssl (" + OpenSsl.versionString() + ")";
    }
}
