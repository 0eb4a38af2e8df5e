package dev.framepipe.loadgen;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.codec.FrameDecoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The load generator: opens connections, drives them (on Netty event loops, {@link LoadConnection},
 * or one blocking thread per connection, {@link BlockingConnection}), prints a progress line each
 * second, and summarises the measured part of the run (after the warm-up) in a {@link LoadResult}.
 */
public final class LoadGenerator {

    /** How the connections are driven. */
    public enum Client {
        /** Netty event loops ({@code --threads} of them): closed or open loop, TLS. */
        NETTY,
        /** One platform thread per connection, closed loop in rounds of {@code depth} requests. */
        BLOCKING;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One connection's driver, whichever client runs it. */
    interface Driver {
        /** Stops sending; the answers in flight are still collected. Any thread. */
        void stop();

        /** Every answer in flight has come, or the connection has ended. */
        boolean drained();

        /** Open loop: whether the pacer ever reached this connection. */
        boolean paced();
    }

    /** Settings of one run. {@code serverPid} > 0: the server process whose CPU the run reports. */
    public record Options(String host, int port, int connections, int depth, List<MixEntry> mix,
                          Duration duration, long frames, Duration warmup, double rate, int verifyEvery,
                          boolean verifyValues, int threads, Duration drainTimeout,
                          dev.framepipe.client.ClientTls tls, boolean hiccups, Client client, long serverPid) {

        /** Refuses settings that cannot make a run (a usage error, not a run of nothing). */
        public Options {
            require(port >= 1 && port <= 65535, "--port must be between 1 and 65535, not " + port);
            require(connections >= 1, "--connections must be at least 1, not " + connections);
            require(depth >= 1, "--depth must be at least 1, not " + depth);
            require(threads >= 1, "--threads must be at least 1, not " + threads);
            require(verifyEvery >= 1, "--verify-every must be at least 1, not " + verifyEvery);
            require(rate >= 0 && Double.isFinite(rate), "--rate must be 0 (closed loop) or more, not " + rate);
            require(frames >= 0, "--frames must be 0 (use --duration) or more, not " + frames);
            require(frames > 0 || duration.compareTo(Duration.ZERO) > 0, "--duration must be more than 0");
            require(!warmup.isNegative(), "--warmup must not be negative");
            require(mix != null && !mix.isEmpty(), "--mix must name at least one op");
            require(client != null, "a client mode is required");
            require(serverPid >= 0, "--server-pid must be a process id, not " + serverPid);
            if (client == Client.BLOCKING) {
                require(rate == 0, "--client blocking runs a closed loop: an open loop (--rate) runs on --client netty");
                require(tls == null, "--client blocking speaks plain TCP: TLS runs on --client netty");
                require(threads == 1, "--threads sets the netty client's event loops: --client blocking runs one thread per connection");
            }
        }

        /** The Netty client, no server CPU. */
        public Options(String host, int port, int connections, int depth, List<MixEntry> mix,
                       Duration duration, long frames, Duration warmup, double rate, int verifyEvery,
                       boolean verifyValues, int threads, Duration drainTimeout,
                       dev.framepipe.client.ClientTls tls, boolean hiccups) {
            this(host, port, connections, depth, mix, duration, frames, warmup, rate, verifyEvery, verifyValues,
                    threads, drainTimeout, tls, hiccups, Client.NETTY, 0);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }

        /** Plain TCP, with the {@link HiccupMeter}. */
        public Options(String host, int port, int connections, int depth, List<MixEntry> mix,
                       Duration duration, long frames, Duration warmup, double rate, int verifyEvery,
                       boolean verifyValues, int threads, Duration drainTimeout) {
            this(host, port, connections, depth, mix, duration, frames, warmup, rate, verifyEvery, verifyValues,
                    threads, drainTimeout, null, true);
        }
    }

    private LoadGenerator() {
    }

    public static LoadResult run(Options o, PrintStream progress) throws InterruptedException {
        List<RequestTemplate> templates = new ArrayList<>();
        for (int i = 0; i < o.mix().size(); i++) {
            templates.add(RequestTemplate.of(o.mix().get(i), 42 + i));
        }
        List<RequestTemplate> weighted = new ArrayList<>();
        for (RequestTemplate t : templates) {
            for (int w = 0; w < t.entry.weight(); w++) {
                weighted.add(t);
            }
        }
        RequestTemplate[] schedule = weighted.toArray(RequestTemplate[]::new);
        int maxAnswer = 0;
        for (RequestTemplate t : templates) {
            maxAnswer = Math.max(maxAnswer, t.responseFrameBytes());
        }
        int maxFrame = Math.max(maxAnswer, 1024);

        boolean netty = o.client() == Client.NETTY;
        boolean epoll = Epoll.isAvailable();
        MultiThreadIoEventLoopGroup group = null;
        LoadStats stats = new LoadStats();
        io.netty.handler.ssl.SslContext ssl = null;
        List<Driver> drivers = new ArrayList<>();
        List<LoadConnection> nettyDrivers = new ArrayList<>();
        List<BlockingConnection> blockingDrivers = new ArrayList<>();
        List<Channel> channels = new ArrayList<>();
        List<ScheduledFuture<?>> pacers = new ArrayList<>();
        HiccupMeter hiccups = null;
        try {
            if (netty) {
                IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
                group = new MultiThreadIoEventLoopGroup(o.threads(), new DefaultThreadFactory("framepipe-load", true), io);
                try {
                    ssl = o.tls() == null ? null : LoadTls.context(o.tls()); // one context; a handler (and engine) per connection
                } catch (javax.net.ssl.SSLException e) {
                    throw new IllegalArgumentException("TLS settings of the load generator: " + e.getMessage(), e);
                }
            }
            hiccups = o.hiccups() ? HiccupMeter.start() : null;
            double perConnectionRate = o.rate() > 0 ? o.rate() / o.connections() : 0;
            for (int c = 0; c < o.connections(); c++) {
                if (!netty) {
                    BlockingConnection driver;
                    try {
                        driver = new BlockingConnection(schedule, c, stats, o.depth(), o.verifyEvery(), o.verifyValues(),
                                o.host(), o.port(), c);
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(connectFailure(o.host(), o.port(), e), e);
                    }
                    blockingDrivers.add(driver);
                    drivers.add(driver);
                    continue;
                }
                LoadConnection driver = new LoadConnection(schedule, c, stats, o.depth(), perConnectionRate,
                        o.verifyEvery(), o.verifyValues());
                nettyDrivers.add(driver);
                drivers.add(driver);
                io.netty.handler.ssl.SslContext tls = ssl;
                Bootstrap b = new Bootstrap().group(group)
                        .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                        .option(ChannelOption.TCP_NODELAY, true)
                        .handler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel ch) {
                                if (tls != null) {
                                    // requests written before the handshake ends wait in the SslHandler
                                    ch.pipeline().addLast(tls.newHandler(ch.alloc(),
                                            o.tls().serverName() != null ? o.tls().serverName() : o.host(), o.port()));
                                }
                                // answers are read in place: the decoder hands each to the driver
                                ch.pipeline().addLast(new FrameDecoder(maxFrame, driver));
                                ch.pipeline().addLast(driver);
                            }
                        });
                channels.add(connect(b, o.host(), o.port()));
            }
            for (BlockingConnection d : blockingDrivers) {
                d.start(); // every connection open before any sends
            }
            if (o.rate() > 0) {
                pacers.addAll(startPacers(nettyDrivers, channels));
            }
            long warmupEnd = System.nanoTime() + o.warmup().toNanos();
            Histogram total = new Histogram(60_000_000_000L, 3);
            Histogram interval = null;
            long lastFrames = 0;
            long lastBytes = 0;
            long lastReport = System.nanoTime();
            // warm-up: run, discard what it records
            while (System.nanoTime() < warmupEnd) {
                TimeUnit.MILLISECONDS.sleep(50);
            }
            interval = stats.latency.getIntervalHistogram(interval); // drop warm-up samples
            Histogram hiccupsMeasured = hiccups == null ? null : hiccups.interval(null); // the same for hiccups
            CpuMeter serverCpu = o.serverPid() > 0 ? CpuMeter.ofProcess(o.serverPid()) : null;
            CpuMeter clientCpu = CpuMeter.ofThisProcess();
            stats.measuring = true;
            long start = System.nanoTime();
            long end = o.frames() > 0 ? Long.MAX_VALUE : start + o.duration().toNanos();
            int reportedClosed = 0;
            String endedEarly = null;
            while (System.nanoTime() < end && (o.frames() <= 0 || stats.frames.sum() < o.frames())) {
                TimeUnit.MILLISECONDS.sleep(o.frames() > 0 ? 10 : 50);
                long now = System.nanoTime();
                int closed = stats.closedByServer.get();
                if (closed > reportedClosed) {
                    progress.printf(Locale.ROOT, "%6.1fs  the server closed %d of %d connections%n",
                            (now - start) / 1e9, closed, o.connections());
                    reportedClosed = closed;
                }
                if (stats.open.get() == 0) {
                    // nothing left to measure: say so rather than print rates of zero until the end. Read
                    // again: a connection counts itself closed before it stops counting as open.
                    closed = stats.closedByServer.get();
                    endedEarly = String.format(Locale.ROOT, "the server closed %s after %.1f s",
                            closed == o.connections() ? "all " + closed + " connections" : "the connections",
                            (now - start) / 1e9);
                    break;
                }
                if (now - lastReport >= 1_000_000_000L) {
                    interval = stats.latency.getIntervalHistogram(interval);
                    total.add(interval);
                    long f = stats.frames.sum();
                    long bytes = stats.requestBytes.sum() + stats.responseBytes.sum();
                    double secs = (now - lastReport) / 1e9;
                    progress.printf(Locale.ROOT, "%6.1fs  %,10.0f frames/s  %8.1f MB/s  p99 %,8.0f us  errors %d  mismatches %d%n",
                            (now - start) / 1e9, (f - lastFrames) / secs, (bytes - lastBytes) / secs / 1e6,
                            total.getValueAtPercentile(99) / 1e3, stats.errors.sum(), stats.mismatches.sum());
                    lastFrames = f;
                    lastBytes = bytes;
                    lastReport = now;
                }
            }
            if (endedEarly != null) {
                progress.println("stopped: " + endedEarly);
            }
            stats.measuring = false;
            long measuredNanos = System.nanoTime() - start;
            double serverCores = serverCpu == null ? Double.NaN : serverCpu.cores();
            double clientCores = clientCpu.cores();
            interval = stats.latency.getIntervalHistogram(interval);
            total.add(interval);
            if (hiccups != null) {
                hiccupsMeasured = hiccups.interval(hiccupsMeasured);
            }
            for (ScheduledFuture<?> p : pacers) {
                p.cancel(false);
            }
            for (Driver d : drivers) {
                d.stop();
            }
            long drainDeadline = System.nanoTime() + o.drainTimeout().toNanos();
            for (Driver d : drivers) {
                while (!d.drained() && System.nanoTime() < drainDeadline) {
                    TimeUnit.MILLISECONDS.sleep(5);
                }
                if (!d.drained()) {
                    stats.problem("answers still missing after the drain timeout");
                    stats.mismatches.increment();
                } else if (o.rate() > 0 && !d.paced()) {
                    // the generator's own fault: this connection sent nothing, so the rate was not the one asked for
                    stats.problem("connection " + drivers.indexOf(d) + ": its event loop's pacer never ran");
                    stats.mismatches.increment();
                }
            }
            stats.finishing = true; // the closes from here on are the generator's
            for (Channel ch : channels) {
                ch.close().await(5, TimeUnit.SECONDS); // each adds its sent and answered counts as it closes
            }
            for (BlockingConnection d : blockingDrivers) {
                d.close(); // its thread added its counts as it ended
            }
            double secs = measuredNanos / 1e9;
            long frames = stats.frames.sum();
            Map<String, Long> byCode = new LinkedHashMap<>();
            for (int code = 0; code < stats.errorsByCode.length; code++) {
                long n = stats.errorsByCode[code].sum();
                if (n > 0) {
                    ErrorCode ec = ErrorCode.of(code);
                    byCode.put(ec == null ? "code_" + code : ec.label(), n);
                }
            }
            return new LoadResult(o.host() + ":" + o.port(), mixString(o.mix()), o.connections(), o.depth(), o.rate(),
                    secs, frames, frames / secs, stats.requestBytes.sum() / secs / 1e6,
                    stats.responseBytes.sum() / secs / 1e6,
                    total.getValueAtPercentile(50) / 1e3, total.getValueAtPercentile(90) / 1e3,
                    total.getValueAtPercentile(99) / 1e3, total.getValueAtPercentile(99.9) / 1e3,
                    total.getMaxValue() / 1e3, stats.errors.sum(), byCode, stats.mismatches.sum(),
                    List.copyOf(stats.firstProblems),
                    hiccupsMeasured == null ? Double.NaN : hiccupsMeasured.getValueAtPercentile(99) / 1e3,
                    hiccupsMeasured == null ? Double.NaN : hiccupsMeasured.getMaxValue() / 1e3,
                    stats.sentTotal.sum(), stats.answeredTotal.sum(), stats.lost.sum(), stats.closedByServer.get(),
                    endedEarly, o.client().label(), serverCores, clientCores, percentiles(total));
        } finally {
            stats.finishing = true;
            if (hiccups != null) {
                hiccups.close();
            }
            for (Channel ch : channels) {
                ch.close();
            }
            for (BlockingConnection d : blockingDrivers) {
                d.close();
            }
            if (group != null) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
            }
            for (RequestTemplate t : templates) {
                t.payload.release();
            }
        }
    }

    /**
     * Connects, turning Netty's native errors ("finishConnect(..) failed with error(-111)") into
     * a message that names the host and port.
     */
    static Channel connect(Bootstrap b, String host, int port) throws InterruptedException {
        io.netty.channel.ChannelFuture f = b.connect(host, port).await();
        if (f.isSuccess()) {
            return f.channel();
        }
        // no cause: a command prints the innermost message, which would be Netty's again
        IllegalStateException failure = new IllegalStateException(connectFailure(host, port, f.cause()));
        failure.addSuppressed(f.cause());
        throw failure;
    }

    /** "connection to HOST:PORT refused" and the like, for a failed connect. */
    public static String connectFailure(String host, int port, Throwable cause) {
        String where = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (m.contains("connection refused")) {
                return "connection to " + where + " refused (is the server running and listening there?)";
            }
            if (t instanceof java.net.UnknownHostException) {
                return "cannot connect to " + where + ": unknown host " + host;
            }
            if (t instanceof io.netty.channel.ConnectTimeoutException || m.contains("timed out")) {
                return "connection to " + where + " timed out";
            }
        }
        String why = cause == null || cause.getMessage() == null ? String.valueOf(cause)
                : cause.getMessage().replaceFirst("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ", "");
        return "cannot connect to " + where + ": " + why;
    }

    /** Percentiles of the latency spectrum that a run reports (HdrHistogram's, log scale: 50 % to the max). */
    static final double[] SPECTRUM = {0, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.975, 99.99, 99.995,
        99.999, 99.9995, 99.9999, 100};

    /** The latency at each percentile of {@link #SPECTRUM}, in microseconds: [percentile, us] pairs. */
    static List<double[]> percentiles(Histogram h) {
        List<double[]> points = new ArrayList<>();
        if (h.getTotalCount() == 0) {
            return points;
        }
        for (double p : SPECTRUM) {
            double us = (p == 100 ? h.getMaxValue() : h.getValueAtPercentile(p)) / 1e3;
            points.add(new double[] {p, us});
        }
        return points;
    }

    /** Open loop: how often each event loop sends what has come due on its connections. */
    static final long PACER_PERIOD_MICROS = 200;

    /**
     * One pacer task per event loop, ticking all of that loop's connections in turn: one timer
     * wake-up per period for the loop instead of one per connection (with 8 connections on one
     * thread at a 200 us period, 5,000 wake-ups a second instead of 40,000, each a system call).
     */
    private static List<ScheduledFuture<?>> startPacers(List<LoadConnection> drivers, List<Channel> channels) {
        Map<EventLoop, List<LoadConnection>> byLoop = new LinkedHashMap<>();
        for (int i = 0; i < drivers.size(); i++) {
            byLoop.computeIfAbsent(channels.get(i).eventLoop(), l -> new ArrayList<>()).add(drivers.get(i));
        }
        List<ScheduledFuture<?>> pacers = new ArrayList<>();
        for (Map.Entry<EventLoop, List<LoadConnection>> e : byLoop.entrySet()) {
            LoadConnection[] onLoop = e.getValue().toArray(LoadConnection[]::new);
            pacers.add(e.getKey().scheduleAtFixedRate(() -> {
                for (LoadConnection d : onLoop) {
                    d.tick();
                }
            }, 0, PACER_PERIOD_MICROS, TimeUnit.MICROSECONDS));
        }
        return pacers;
    }

    static String mixString(List<MixEntry> mix) {
        StringBuilder sb = new StringBuilder();
        for (MixEntry e : mix) {
            sb.append(sb.isEmpty() ? "" : ",").append(e);
        }
        return sb.toString();
    }
}
