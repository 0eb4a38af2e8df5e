package dev.framepipe.server;

import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.FramepipeConfig.AllocatorKind;
import dev.framepipe.http.HttpEndpoint;
import dev.framepipe.kernel.KernelWarmup;
import dev.framepipe.kernel.Kernels;
import dev.framepipe.metrics.ConnectionMetrics;
import dev.framepipe.metrics.RefusalMetrics;
import dev.framepipe.metrics.ServiceMetrics;
import dev.framepipe.pipeline.FrameProcessor;
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

    public enum Phase { STARTING, READY, DRAINING, STOPPED }

    private final FramepipeConfig config;
    private final PrometheusMeterRegistry registry;
    private final ServiceMetrics metrics;
    private final Set<ConnectionHandler> connections = ConcurrentHashMap.newKeySet();
    private final Transports transport;
    private final ByteBufAllocator allocator;
    private final RefusalMetrics refusals = new RefusalMetrics();
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
        this.transport = Transports.select(config.transport());
        this.allocator = config.allocator() == AllocatorKind.POOLED
                ? PooledByteBufAllocator.DEFAULT
                : new AdaptiveByteBufAllocator();
        this.metrics = new ServiceMetrics(allocator);
        this.registry = metrics.registry();
        this.memoryBudget = DirectMemoryBudget.forAllocator(config.directMemoryBudget(), allocator);
        metrics.bind(refusals);
        metrics.bind(memoryBudget);
    }

    /** The lanes, one per I/O thread; for tests. */
    List<Lane> lanes() {
        return lanes;
    }

    /** Binds both ports and starts accepting frames. */
    public synchronized FramepipeServer start() throws InterruptedException {
        if (config.tls().enabled()) {
            tls = ServerTls.create(config.tls()); // before any thread: bad files are a configuration error
        }
        acceptGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("framepipe-accept", true),
                transport.ioHandlerFactory());
        ioGroup = new MultiThreadIoEventLoopGroup(config.effectiveIoThreads(),
                metrics.threads().ioThreadFactory(new DefaultThreadFactory("framepipe-io", true)),
                transport.ioHandlerFactory());
        workers = new ForkJoinPool(config.effectiveWorkerParallelism(), workerThreadFactory(), null, true);

        Map<EventLoop, Lane> laneByLoop = new IdentityHashMap<>();
        Map<EventLoop, TrafficCounter> trafficByLoop = new IdentityHashMap<>();
        lanes = new ArrayList<>();
        long idlePark = Lane.idleParkNanos(workers.getParallelism(), config.effectiveIoThreads());
        for (EventExecutor executor : ioGroup) {
            EventLoop loop = (EventLoop) executor;
            FrameProcessor processor = new FrameProcessor(Kernels.floats(), Kernels.text(), allocator, workers,
                    config.parallelThresholdFloats());
            Lane lane = new Lane(lanes.size(), loop, workers, processor, config.ringCapacity(), idlePark);
            lanes.add(lane);
            laneByLoop.put(loop, lane);
            trafficByLoop.put(loop, new TrafficCounter(lane.counters()));
        }

        metrics.bindPipeline(List.copyOf(lanes));
        ConnectionMetrics connectionMetrics = metrics.connections();
        ConnectionContext shared = new ConnectionContext(config, connections,
                () -> phase == Phase.DRAINING || phase == Phase.STOPPED, refusals, memoryBudget);
        memoryBudget.start(acceptGroup.next());
        TlsHandshakeGuard tlsGuard = new TlsHandshakeGuard(refusals);

        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptGroup, ioGroup)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(config.writeBufferLowWater(), config.writeBufferHighWater()))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        int open = connectionMetrics.opened();
                        ch.closeFuture().addListener(f -> connectionMetrics.closed());
                        // The port opens after the warm-up, so only a drain makes a new connection unwelcome.
                        boolean stopping = phase == Phase.DRAINING || phase == Phase.STOPPED;
                        if (open > config.maxConnections() || stopping) {
                            refusals.refused(stopping ? RefusalMetrics.Reason.NOT_READY
                                    : RefusalMetrics.Reason.MAX_CONNECTIONS);
                            ch.close();
                            return;
                        }
                        Lane lane = laneByLoop.get(ch.eventLoop());
                        ConnectionHandler handler = new ConnectionHandler(shared, lane, config.maxFrameBytes());
                        ChannelPipeline p = ch.pipeline();
                        p.addLast("traffic", trafficByLoop.get(ch.eventLoop()));
                        if (SlowFrameGuard.enabled(config.slowFrameGrace(), config.slowFrameMinRate())) {
                            p.addLast("slow-frame", new SlowFrameGuard(handler.decoder(), refusals,
                                    config.slowFrameGrace(), config.slowFrameMinRate()));
                        }
                        p.addLast("decoder", handler.decoder());
                        p.addLast("connection", handler);
                        if (tls != null) {
                            // right after the byte counter (which counts socket bytes): every
                            // handler after it sees plain frame bytes
                            p.addAfter("traffic", "tls", tls.newHandler(ch.alloc()));
                            p.addAfter("tls", "tls-guard", tlsGuard);
                        }
                    }
                });
        http = new HttpEndpoint(config.bindAddress(), config.httpPort(), registry, () -> phase == Phase.READY);
        if (tls != null) {
            tls.watch(acceptGroup.next());
            if (config.tls().httpTls()) {
                http.useTls(tls::newHandler);
            }
        }
        http.start();
        // Not ready (503) until the kernels are compiled: cold Vector API code is ~100x slower.
        long warmStart = System.nanoTime();
        int rounds = KernelWarmup.run(Kernels.floats(), Kernels.text(), config.warmupRounds(), Duration.ofSeconds(30));
        LOG.log(System.Logger.Level.INFO, "kernels warmed up: " + rounds + " rounds in "
                + (System.nanoTime() - warmStart) / 1_000_000 + " ms");
        // The frame port opens only now: no client meets the cold kernels.
        serverChannel = bootstrap.bind(config.bindAddress(), config.framePort()).sync().channel();
        phase = Phase.READY;
        LOG.log(System.Logger.Level.INFO, "framepipe ready: frames on " + framePort() + ", http on " + httpPort()
                + ", transport " + transport.name() + ", allocator " + config.allocator().name().toLowerCase()
                + ", kernels " + Kernels.implementationName() + ", ring slots " + SpscRing.slotAccess()
                + ", " + lanes.size() + " I/O threads, "
                + workers.getParallelism() + " workers"
                + (idlePark > 0 ? "" : " (no more workers than I/O threads: drains do not park between bursts)"));
        return this;
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

    /** The direct-memory budget in bytes and the highest sample since the last call. */
    public long directMemoryBudget() {
        return memoryBudget.budget();
    }

    public long takeDirectMemoryPeak() {
        return memoryBudget.takePeak();
    }

    public int openConnections() {
        return connections.size();
    }

    /**
     * Graceful stop: not ready, stop accepting, answer every frame already read, decline the
     * rest with SHUTTING_DOWN, close every connection cleanly; cut whatever is left when
     * {@code drain-timeout} passes. Then release threads and ports.
     *
     * @return true when every connection closed within the drain timeout
     */
    public boolean drainAndStop() throws InterruptedException {
        synchronized (this) {
            if (phase == Phase.DRAINING || phase == Phase.STOPPED) {
                return true;
            }
            phase = Phase.DRAINING;
        }
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        LOG.log(System.Logger.Level.INFO, "draining " + connections.size() + " connections");
        serverChannel.close().sync();
        for (ConnectionHandler c : connections) {
            c.channel().eventLoop().execute(c::startDrain);
        }
        boolean clean = true;
        while (!connections.isEmpty()) {
            if (System.nanoTime() >= deadline) {
                clean = false;
                LOG.log(System.Logger.Level.WARNING, "drain timeout: cutting " + connections.size() + " connections");
                for (ConnectionHandler c : connections) {
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
        if (ioGroup != null) {
            ioGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
        if (workers != null) {
            workers.shutdown();
            workers.awaitTermination(5, TimeUnit.SECONDS);
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
