package dev.framepipe.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.TestServers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code framepipe client} against a real server: the answer printed, exit 0 (1 for an error answer). */
class ClientCommandTest {

    private record Run(int status, String out) {
    }

    private static Run client(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int status = ClientCommand.run(args);
            return new Run(status, out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void opsPrintTheirAnswers() throws Exception {
        try (FramepipeServer server = TestServers.start()) {
            String port = Integer.toString(server.framePort());
            assertThat(client("--port", port, "stats", "1", "2", "3", "4"))
                    .isEqualTo(new Run(0, "Stats[count=4, sum=10.0, min=1.0, max=4.0, mean=2.5, variance=1.25]\n"));
            assertThat(client("--port", port, "--timeout", "5s", "upper", "straße")).isEqualTo(new Run(0, "STRASSE\n"));
            assertThat(client("--port", port, "scale", "2", "1", "3")).isEqualTo(new Run(0, "[7.0]\n"));
            assertThat(client("--port", port, "count", "a b")).isEqualTo(
                    new Run(0, "Counts[bytes=3, codePoints=3, words=2, lines=0]\n"));
            assertThat(client("--port", port, "ping", "hi")).isEqualTo(new Run(0, "hi\n"));
        }
    }
}
