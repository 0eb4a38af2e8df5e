package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.config.FramepipeConfig.Transport;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import io.netty.channel.epoll.Epoll;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The transport is chosen, not fallen back to: {@code auto} picks epoll wherever the build ships
 * its native library (netty-transport-native-epoll for linux-x86_64, server/pom.xml), so a
 * library that fails to load there fails here instead of quietly running NIO; and the servers the
 * tests start run the transport the test JVM asks for (NIO in the surefire execution of its own).
 */
class NettyTransportTest {

    private static boolean epollShipped() {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        return System.getProperty("os.name").equals("Linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    @Test
    void autoPicksEpollWhereItsNativeLibraryIsShippedAndNioElsewhere() {
        if (epollShipped()) {
            assertThat(Epoll.isAvailable()).as("native epoll on linux-x86_64: %s", Epoll.unavailabilityCause()).isTrue();
            assertThat(NettyTransport.select(Transport.AUTO).name()).isEqualTo("epoll");
        } else {
            assertThat(NettyTransport.select(Transport.AUTO).name()).isEqualTo("nio");
        }
        assertThat(NettyTransport.select(Transport.NIO).name()).isEqualTo("nio");
    }

    @Test
    void testServersRunTheTransportTheTestJvmAsksFor() throws Exception {
        String wanted = TestServers.transport();
        String expected = wanted.equals("auto") ? (epollShipped() ? "epoll" : "nio") : wanted;
        try (FramepipeServer server = TestServers.start();
             RawConnection c = new RawConnection(server.framePort())) {
            assertThat(server.transport()).as("-D%s=%s", TestServers.TRANSPORT_PROPERTY, wanted).isEqualTo(expected);
            assertThat(c.send(frame(Kinds.PING, 0, 1, utf8("over " + expected))).read().text()).isEqualTo("over " + expected);
        }
    }
}
