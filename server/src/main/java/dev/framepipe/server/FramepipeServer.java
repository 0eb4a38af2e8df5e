package dev.framepipe.server;

import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.FramepipeConfig.AllocatorKind;
import dev.framepipe.http.HttpEndpoint;
import dev.framepipe.kernel.KernelCompilation;
import dev.framepipe.kernel.Kernels;
import dev.framepipe.metrics.ConnectionErrors;
import dev.framepipe.logging.LogFields;
import dev.framepipe.metrics.ConnectionMetrics;
import dev.framepipe.metrics.RefusalMetrics;
import dev.framepipe.metrics.ServiceMetrics;
import dev.framepipe.pipeline.BatchProcessor;
import dev.framepipe.codec.FrameReadAllocator;
import dev.framepipe.pipeline.Lane;
import dev.framepipe.ring.SpscRing;
import dev.framepipe.security.ServerTls;
import dev.framepipe.security.TlsHandshakeGuard;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The framepipe service: the frame port (Netty, one lane per I/O thread, workers on a
 * ForkJoinPool) and the HTTP port (metrics and health). {@link #start()} binds both;
 * {@link #drainAndStop()} is the graceful stop of SIGTERM.
 */
public final class FramepipeServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(FramepipeServer.class.getName());

    /**
     * STARTING until the warm-up ends; READY; NOT_READY for {@code drain-delay} after a stop was
     * asked for (serving, but /health/ready is 503); DRAINING; STOPPED.
     */
    public enum Phase { STARTING, READY, NOT_READY, DRAINING, STOPPED }

    private final FramepipeConfig config;
    private final PrometheusMeterRegistry registry;
    private final ServiceMetrics metrics;
    private final Set<GracefulClose> connections = ConcurrentHashMap.newKeySet();
    private final NettyTransport transport;
    private final ByteBufAllocator allocator;
    private final RefusalMetrics refusals = new RefusalMetrics();
    private final ConnectionErrors errors = new ConnectionErrors();
    private final DirectMemoryBudget memoryBudget;
    private volatile Phase phase = Phase.STARTING;

    private MultiThreadIoEventLoopGroup acceptGroup;
    private MultiThreadIoEventLoopGroup ioGroup;
    private ForkJoinPool workers;
    private List<Lane> lanes;
    private Channel serverChannel;
    private HttpEndpoint http;
    private ServerTls tls;

    public FramepipeServer(FramepipeConfig config) {
        this.config = config;
        if (config.warmupRounds() > 0) {
            KernelCompilation.probeSoon(); // the warm-up's JIT probe, made on a thread of its own meanwhile
        }
        this.transport = NettyTransport.select(config.transport());
        this.allocator = config.allocator() == AllocatorKind.POOLED
                ? PooledByteBufAllocator.DEFAULT
                : new AdaptiveByteBufAllocator();
        this.metrics = new ServiceMetrics(allocator);
        this.registry = metrics.registry();
        this.memoryBudget = DirectMemoryBudget.of(config.directMemoryBudget());
        metrics.bind(refusals);
        metrics.bind(errors);
        metrics.bind(memoryBudget);
    }

    /** The lanes, one per I/O thread; for tests. */
    List<Lane> lanes() {
        return lanes;
    }

    /** Binds both ports and starts accepting frames. */
    public synchronized FramepipeServer start() throws InterruptedException {
        FileDescriptorBudget.check(config); // both ports' connections must fit the open-file limit
        if (config.tls().enabled()) {
            tls = ServerTls.create(config.tls()); // before any thread: bad files are a configuration error
        }
        acceptGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("framepipe-accept", true),
                transport.ioHandlerFactory());
        ioGroup = new MultiThreadIoEventLoopGroup(config.effectiveIoThreads(),
                metrics.threads().ioThreadFactory(new DefaultThreadFactory("framepipe-io", true)),
                transport.ioHandlerFactory());
        workers = new ForkJoinPool(config.effectiveWorkerParallelism(), workerThreadFactory(), null, true);

        long idlePark = Lane.idleParkNanos(workers.getParallelism(), config.effectiveIoThreads());
        Map<EventLoop, Lane> laneByLoop = lanes(idlePark);
        lanes = new ArrayList<>(laneByLoop.values());
        for (Lane lane : lanes) {
            lane.eventLoop().execute(() -> LogFields.lane(lane.index())); // every record of this I/O thread names its lane
        }

        metrics.bindPipeline(List.copyOf(lanes));
        ConnectionContext shared = new ConnectionContext(config, connections,
                () -> phase == Phase.DRAINING || phase == Phase.STOPPED, refusals, memoryBudget, errors);

        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptGroup, ioGroup)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                // bound before the warm-up but accepting nothing until it ends: connections wait in
                // the kernel's backlog (see below)
                .option(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(config.writeBufferLowWater(), config.writeBufferHighWater()))
                .childHandler(frameChannels(shared, laneByLoop, metrics.connections(), tls));
        // Both ports are bound before the warm-up, so a port in use fails at once, naming it.
        serverChannel = StartupWarmup.bind("frame port", config.bindAddress(), config.framePort(),
                () -> bootstrap.bind(config.bindAddress(), config.framePort()).sync().channel());
        http = new HttpEndpoint(config, registry, () -> phase == Phase.READY, refusals, errors);
        if (tls != null) {
            tls.watch(acceptGroup.next());
            if (config.tls().httpTls()) {
                http.useTls(tls::newHandler);
            }
        }
        StartupWarmup.bind("HTTP port", config.bindAddress(), config.httpPort(), () -> {
            http.start();
            return http;
        });
        // Not ready (503) until the kernels are compiled: cold Vector API code is ~100x slower.
        // The frame port accepts nothing meanwhile (auto-read off): no client meets the cold kernels.
        StartupWarmup.run(config.warmupRounds(), Duration.ofSeconds(30), LOG);
        if (config.warmupRounds() > 0) {
            // then the whole request path, on a loopback listener and lanes of its own (RequestPathWarmup)
            StartupWarmup.requestPath(bootstrap.clone().childHandler(frameChannels(warmupContext(),
                    lanes(idlePark), new ConnectionMetrics(), null)), config, LOG);
        }
        phase = Phase.READY; // before accepting: a connection served is served by a ready server
        serverChannel.config().setAutoRead(true);
        LOG.log(System.Logger.Level.INFO, "framepipe ready: frames on " + framePort() + ", http on " + httpPort()
                + ", transport " + transport.name() + ", allocator " + config.allocator().name().toLowerCase()
                + ", kernels " + Kernels.implementationName() + ", ring slots " + SpscRing.slotAccess()
                + ", " + lanes.size() + " I/O threads, "
                + workers.getParallelism() + " workers"
                + (idlePark > 0 ? "" : " (no more workers than I/O threads: drains do not park between bursts)"));
        LOG.log(System.Logger.Level.INFO, StartupReport.line());
        return this;
    }

    /** One lane per I/O thread, on the shared worker pool. */
    private Map<EventLoop, Lane> lanes(long idlePark) {
        Map<EventLoop, Lane> laneByLoop = new LinkedHashMap<>();
        for (EventExecutor executor : ioGroup) {
            EventLoop loop = (EventLoop) executor;
            BatchProcessor processor = new BatchProcessor(Kernels.floats(), Kernels.text(), allocator, workers,
                    config.parallelThresholdFloats());
            // The I/O thread's own processor for the batches it answers itself (inline-max-bytes).
            BatchProcessor inline = config.inlineMaxBytes() == 0 ? null : new BatchProcessor(Kernels.floats(),
                    Kernels.text(), allocator, workers, config.parallelThresholdFloats());
            laneByLoop.put(loop, new Lane(laneByLoop.size(), loop, workers, processor, config.ringCapacity(), idlePark,
                    inline, config.inlineMaxBytes()));
        }
        return laneByLoop;
    }

    /**
     * What the start-up warm-up's connections share: the settings, and sets, refusal and error
     * counts and a memory budget of their own, which no meter reads.
     */
    private ConnectionContext warmupContext() {
        return new ConnectionContext(config, ConcurrentHashMap.newKeySet(), () -> false, new RefusalMetrics(),
                DirectMemoryBudget.of(config.directMemoryBudget()), new ConnectionErrors());
    }

    /**
     * The pipeline of every frame connection served by {@code laneByLoop}: counted by
     * {@code connectionMetrics}, with TLS when {@code tls} is not null.
     */
    private ChannelInitializer<SocketChannel> frameChannels(ConnectionContext shared, Map<EventLoop, Lane> laneByLoop,
                                                            ConnectionMetrics connectionMetrics, ServerTls tls) {
        Map<EventLoop, TrafficCounter> trafficByLoop = new IdentityHashMap<>();
        laneByLoop.forEach((loop, lane) -> trafficByLoop.put(loop, new TrafficCounter(lane.counters())));
        TlsHandshakeGuard tlsGuard = new TlsHandshakeGuard(shared.refusals());
        return new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                int open = connectionMetrics.opened();
                ch.closeFuture().addListener(f -> connectionMetrics.closed());
                // Nothing is accepted before the warm-up ends (auto-read off), so only a drain makes a new connection unwelcome.
                boolean stopping = phase == Phase.DRAINING || phase == Phase.STOPPED;
                if (open > config.maxConnections() || stopping) {
                    shared.refusals().refused(stopping ? RefusalMetrics.Reason.NOT_READY
                            : RefusalMetrics.Reason.MAX_CONNECTIONS);
                    ch.close();
                    return;
                }
                Lane lane = laneByLoop.get(ch.eventLoop());
                Connection conn = new Connection(shared, lane, config.maxFrameBytes(), tls == null);
                ChannelPipeline p = ch.pipeline();
                p.addLast("traffic", trafficByLoop.get(ch.eventLoop()));
                if (tls != null) {
                    // right after the byte counter (which counts socket bytes): every
                    // handler after it sees plain frame bytes
                    conn.tlsGate = new TlsCloseGate(conn); // a client's close_notify waits for its answers
                    p.addLast("tls-close", conn.tlsGate);
                    p.addLast("tls", tls.newHandler(ch.alloc()));
                    p.addLast("tls-guard", tlsGuard);
                } else {
                    // large frames are read straight into their assembly buffers
                    ch.config().setRecvByteBufAllocator(
                            new FrameReadAllocator(ch.config().getRecvByteBufAllocator(), conn.decoder));
                }
                if (SlowFrameGuard.enabled(config.slowFrameGrace(), config.slowFrameMinRate())) {
                    p.addLast("slow-frame", new SlowFrameGuard(conn.decoder, shared.refusals(),
                            config.slowFrameGrace(), config.slowFrameMinRate()));
                }
                p.addLast("timers", new ConnectionTimers(conn));
                p.addLast("decoder", conn.decoder);
                p.addLast("admission", conn.admission);
                p.addLast("close", conn.closer);
                conn.ctx = p.context(conn.closer);
            }
        };
    }

    private ForkJoinPool.ForkJoinWorkerThreadFactory workerThreadFactory() {
        AtomicInteger n = new AtomicInteger();
        return pool -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            t.setName("framepipe-worker-" + n.getAndIncrement());
            t.setDaemon(true);
            metrics.threads().registerWorker(t);
            return t;
        };
    }

    public int framePort() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    public int httpPort() {
        return http.port();
    }

    public Phase phase() {
        return phase;
    }

    /** The transport in use: {@code epoll} or {@code nio}. */
    public String transport() {
        return transport.name();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The frame port's TLS (null when plain): tests and tools reload it without waiting for the poll. */
    public ServerTls tls() {
        return tls;
    }

    public RefusalMetrics refusals() {
        return refusals;
    }

    public ConnectionErrors connectionErrors() {
        return errors;
    }

    /** The direct-memory budget in bytes and the highest sample since the last call. */
    public long directMemoryBudget() {
        return memoryBudget.budget();
    }

    public long directMemoryPeakSinceLastRead() {
        return memoryBudget.peakSinceLastRead();
    }

    public int openConnections() {
        return connections.size();
    }

    /**
     * Graceful stop: not ready at once (/health/ready 503) while still serving and accepting for
     * {@code drain-delay}, so that load balancers stop sending new connections first; then stop
     * accepting, answer every frame already read, decline the rest with SHUTTING_DOWN, close
     * every connection cleanly; cut whatever is left when {@code drain-timeout} passes. Then
     * release threads and ports.
     *
     * @return true when every connection closed within the drain timeout
     */
    public boolean drainAndStop() throws InterruptedException {
        synchronized (this) {
            if (phase == Phase.DRAINING || phase == Phase.STOPPED) {
                return true;
            }
            phase = Phase.NOT_READY;
        }
        long delay = config.drainDelay().toMillis();
        if (delay > 0) {
            LOG.log(System.Logger.Level.INFO, "stopping: not ready; serving " + connections.size()
                    + " connections for drain-delay " + config.drainDelay() + " before draining");
            Thread.sleep(delay);
        }
        phase = Phase.DRAINING;
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        LOG.log(System.Logger.Level.INFO, "draining " + connections.size() + " connections");
        serverChannel.close().sync();
        for (GracefulClose c : connections) {
            c.channel().eventLoop().execute(c::startDrain);
        }
        boolean clean = true;
        while (!connections.isEmpty()) {
            if (System.nanoTime() >= deadline) {
                clean = false;
                LOG.log(System.Logger.Level.WARNING, "drain timeout: cutting " + connections.size() + " connections");
                for (GracefulClose c : connections) {
                    c.channel().eventLoop().execute(c::forceClose);
                }
                break;
            }
            Thread.sleep(5);
        }
        stopResources();
        return clean;
    }

    private void stopResources() throws InterruptedException {
        phase = Phase.STOPPED;
        memoryBudget.stop();
        if (tls != null) {
            tls.close();
        }
        if (http != null) {
            http.stop();
        }
        if (acceptGroup != null) {
            acceptGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
        // Workers first: batches still in flight (a connection cut at the drain timeout) are
        // answered and handed back while the I/O threads run, and the I/O threads' last tasks
        // release them. Whatever is left after both stopped is released here.
        if (workers != null) {
            workers.shutdown();
            workers.awaitTermination(5, TimeUnit.SECONDS);
        }
        if (ioGroup != null) {
            ioGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
        if (lanes != null && (workers == null || workers.isTerminated()) && ioGroup.isTerminated()) {
            int left = 0;
            for (Lane lane : lanes) {
                left += lane.releaseLeftovers();
            }
            if (left > 0) {
                LOG.log(System.Logger.Level.WARNING, "released " + left + " batches left in flight at stop");
            }
        }
        metrics.close();
        LOG.log(System.Logger.Level.INFO, "framepipe stopped");
    }

    @Override
    public void close() throws InterruptedException {
        if (phase == Phase.STARTING) {
            phase = Phase.DRAINING;
            if (serverChannel != null) {
                serverChannel.close().sync();
            }
            stopResources();
        } else {
            drainAndStop();
        }
    }
}
