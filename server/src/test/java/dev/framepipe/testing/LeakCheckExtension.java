package dev.framepipe.testing;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a leaked buffer while (or before) it ran. Registered
 * for every class through {@code junit.jupiter.extensions.autodetection.enabled}.
 */
public final class LeakCheckExtension implements AfterAllCallback {

    @Override
    public void afterAll(ExtensionContext context) {
        List<String> leaks = LeakGuard.collectLeaks();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " ByteBuf leak(s) reported by Netty's PARANOID leak detector "
                    + "during or before " + context.getDisplayName() + ":\n" + String.join("\n\n", leaks));
        }
    }
}
