package dev.framepipe.metrics;

/**
 * Every metric the service exposes, in one place: the Micrometer name each binder registers,
 * and (in this table) the name Prometheus shows, its type, labels and unit. The contract is
 * {@code METRICS.md} in the shared folder; {@code docs/observability.md} explains each one.
 * Micrometer appends {@code _total} to counters and the base unit ({@code _bytes},
 * {@code _seconds}) to the name, so the constants here carry neither.
 *
 * <pre>
 * Prometheus name                          type       labels                  unit     binder
 * pipeline_frames_received_total           counter    kind                    frames   FrameMetrics
 * pipeline_frames_completed_total          counter    kind, op, outcome       frames   FrameMetrics
 * pipeline_errors_total                    counter    code                    frames   FrameMetrics
 * pipeline_received_bytes_total            counter    -                       bytes    FrameMetrics
 * pipeline_sent_bytes_total                counter    -                       bytes    FrameMetrics
 * pipeline_frame_duration_seconds          histogram  kind, op (+ le)         seconds  FrameDurationCollector
 * pipeline_connections_active              gauge      -                       conns    ConnectionMetrics
 * pipeline_connections_opened_total        counter    -                       conns    ConnectionMetrics
 * pipeline_ring_capacity                   gauge      ring                    slots    RingMetrics
 * pipeline_ring_occupancy                  gauge      ring                    frames   RingMetrics
 * pipeline_backpressure_pauses_total       counter    reason                  pauses   RingMetrics (+ DirectMemoryBudget)
 * pipeline_direct_memory_budget_bytes      gauge      -                       bytes    server.DirectMemoryBudget
 * pipeline_connections_refused_total       counter    reason                  conns    RefusalMetrics
 * framepipe_connection_errors_total        counter    port, cause             conns    ConnectionErrors
 * pipeline_heap_allocated_bytes_total      counter    threads                 bytes    AllocationMetrics
 * pipeline_transform_total                 counter    path                    frames   TransformMetrics
 * netty_allocator_memory_used_bytes        gauge      allocator, memory_type  bytes    AllocatorMemoryMetrics
 * netty_allocator_memory_pinned_bytes      gauge      allocator, memory_type  bytes    AllocatorMemoryMetrics
 * framepipe_build_info                     gauge (1)  version, revision, java -        BuildInfoMetrics
 * jvm_memory_*, jvm_buffer_*, jvm_gc_*,    various    standard                         Micrometer JVM binders
 *   jvm_threads_*, jvm_classes_*
 * process_cpu_seconds_total                counter    -                       seconds  ProcessCpuMetrics
 * process_cpu_usage, process_uptime_seconds,
 *   process_start_time_seconds,
 *   process_files_open_files/max_files     gauges     -                                Micrometer process binders
 * system_cpu_usage, system_cpu_processors, system_load_average_1m   gauges             Micrometer ProcessorMetrics
 * </pre>
 *
 * Label values: {@code kind} floats|text|ping|other; {@code op} stats|scale|upper|lower|count|
 * ping|unknown; {@code outcome} ok|error; {@code code} the error's name in snake case
 * ({@link dev.framepipe.protocol.ErrorCode#label()}); {@code ring} the I/O thread's index;
 * {@code reason} ring_full|unwritable|direct_memory for pauses, max_connections|not_ready|
 * idle_timeout|slow_frame|tls_handshake|http_max_connections|http_header_timeout|
 * http_idle_timeout|http_request_too_large|http_bad_request for refusals; {@code port}
 * frame|http and {@code cause} reset|tls|decode|other|internal for connection errors;
 * {@code threads} io|worker; {@code path} borrowed|in_place|copied; {@code allocator}
 * pooled|adaptive; {@code memory_type} direct|heap. Every set is fixed at start-up: nothing a
 * client sends can add a series.
 */
public final class MetricNames {

    private MetricNames() {
    }

    public static final String FRAMES_RECEIVED = "pipeline.frames.received";
    public static final String FRAMES_COMPLETED = "pipeline.frames.completed";
    public static final String ERRORS = "pipeline.errors";
    public static final String RECEIVED_BYTES = "pipeline.received.bytes";
    public static final String SENT_BYTES = "pipeline.sent.bytes";
    /** Registered directly on the Prometheus registry (see {@link FrameDurationCollector}), hence the final name. */
    public static final String FRAME_DURATION = "pipeline_frame_duration_seconds";
    public static final String CONNECTIONS_ACTIVE = "pipeline.connections.active";
    public static final String CONNECTIONS_OPENED = "pipeline.connections.opened";
    public static final String RING_CAPACITY = "pipeline.ring.capacity";
    public static final String RING_OCCUPANCY = "pipeline.ring.occupancy";
    public static final String BACKPRESSURE_PAUSES = "pipeline.backpressure.pauses";
    public static final String HEAP_ALLOCATED = "pipeline.heap.allocated";
    public static final String TRANSFORMS = "pipeline.transform";
    /** An addition beside the contract (docs/observability.md). */
    public static final String CONNECTION_ERRORS = "framepipe.connection.errors";
    public static final String ALLOCATOR_USED = "netty.allocator.memory.used";
    public static final String ALLOCATOR_PINNED = "netty.allocator.memory.pinned";
    public static final String BUILD_INFO = "framepipe.build.info";
    /** Replaces Micrometer's {@code process.cpu.time} in nanoseconds (see {@link ProcessCpuMetrics}). */
    public static final String PROCESS_CPU = "process.cpu";
}
