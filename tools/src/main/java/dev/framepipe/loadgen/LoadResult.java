package dev.framepipe.loadgen;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The summary of one load run. Latencies in microseconds; rates per second of the measured part.
 * The hiccups are the {@link HiccupMeter}'s over the same part (NaN when it was off): how late the
 * machine woke a thread that slept 1 ms, a floor under any latency measured on it.
 *
 * <p>{@code requestsSent} and {@code answersReceived} count the whole run, warm-up included.
 * {@code mismatches} are wrong answers (order, kind, size, value); {@code lost} are requests
 * whose connection closed before their answer came, {@code closedByServer} the connections the
 * server closed (or reset) before the run ended, and {@code endedEarly} why the run stopped
 * before its duration (null when it did not): a server that drains is not a wrong answer.
 *
 * <p>{@code client} is the client mode (netty or blocking); {@code serverCpuCores} the server
 * process's CPU over the measured part (NaN unless its pid was given), {@code clientCpuCores} the
 * load generator's own; {@code latencyPercentiles} the latency spectrum, [percentile, us] pairs.
 */
public record LoadResult(
        String target,
        String mix,
        int connections,
        int depth,
        double ratePerSecond,
        double seconds,
        long frames,
        double framesPerSecond,
        double requestMBps,
        double responseMBps,
        double p50Micros,
        double p90Micros,
        double p99Micros,
        double p999Micros,
        double maxMicros,
        long errors,
        Map<String, Long> errorsByCode,
        long mismatches,
        List<String> problems,
        double hiccupP99Micros,
        double hiccupMaxMicros,
        long requestsSent,
        long answersReceived,
        long lost,
        int closedByServer,
        String endedEarly,
        String client,
        double serverCpuCores,
        double clientCpuCores,
        List<double[]> latencyPercentiles) {

    /** The run measured what it was asked to: every connection lasted, every answer came and was right. */
    public boolean complete() {
        return mismatches == 0 && lost == 0 && closedByServer == 0;
    }

    /** Frames per second of server CPU; NaN without the server's CPU. */
    public double framesPerServerCoreSecond() {
        return serverCpuCores > 0 ? framesPerSecond / serverCpuCores : Double.NaN;
    }

    /** Bytes per second in both directions, in MB (10^6). */
    public double totalMBps() {
        return requestMBps + responseMBps;
    }

    public String table() {
        return String.format(Locale.ROOT, """
                target        %s
                mix           %s   connections %d x depth %d%s   client %s
                measured      %.1f s, %,d frames
                throughput    %,.0f frames/s   %.1f MB/s in   %.1f MB/s out
                latency (us)  p50 %.0f   p90 %.0f   p99 %.0f   p99.9 %.0f   max %.0f
                errors        %d %s
                mismatches    %d
                %s%shiccups (us)  %s
                cpu (cores)   %s
                """, target, mix, connections, depth, ratePerSecond > 0 ? String.format(Locale.ROOT, "   open loop at %,.0f/s", ratePerSecond) : "   closed loop",
                client,
                seconds, frames, framesPerSecond, requestMBps, responseMBps, p50Micros, p90Micros, p99Micros,
                p999Micros, maxMicros, errors, errorsByCode.isEmpty() ? "" : errorsByCode.toString(), mismatches,
                problems.isEmpty() ? "" : "first problem " + problems.getFirst() + "\n",
                closedByServer == 0 && lost == 0 ? "" : String.format(Locale.ROOT,
                        "closed        %d of %d connections by the server: %,d of %,d requests sent answered, %,d lost%s%n",
                        closedByServer, connections, answersReceived, requestsSent, lost,
                        endedEarly == null ? "" : "\nended early   " + endedEarly),
                Double.isNaN(hiccupMaxMicros) ? "off"
                        : String.format(Locale.ROOT, "p99 %.0f   max %.0f   (a thread sleeping 1 ms at a time: how late it woke)",
                                hiccupP99Micros, hiccupMaxMicros),
                (Double.isNaN(serverCpuCores) ? "server -" : String.format(Locale.ROOT, "server %.2f (%,.0f frames per core-second)",
                        serverCpuCores, framesPerServerCoreSecond()))
                        + String.format(Locale.ROOT, "   load generator %.2f", clientCpuCores));
    }

    public String toJson() {
        StringBuilder sb = new StringBuilder("{\n");
        field(sb, "target", target);
        field(sb, "mix", mix);
        field(sb, "connections", connections);
        field(sb, "depth", depth);
        field(sb, "rate_per_second", ratePerSecond);
        field(sb, "seconds", seconds);
        field(sb, "frames", frames);
        field(sb, "frames_per_second", framesPerSecond);
        field(sb, "request_mb_per_second", requestMBps);
        field(sb, "response_mb_per_second", responseMBps);
        field(sb, "p50_us", p50Micros);
        field(sb, "p90_us", p90Micros);
        field(sb, "p99_us", p99Micros);
        field(sb, "p999_us", p999Micros);
        field(sb, "max_us", maxMicros);
        field(sb, "hiccup_p99_us", hiccupP99Micros);
        field(sb, "hiccup_max_us", hiccupMaxMicros);
        field(sb, "errors", errors);
        sb.append("  \"errors_by_code\": {");
        int i = 0;
        for (Map.Entry<String, Long> e : errorsByCode.entrySet()) {
            sb.append(i++ == 0 ? "" : ", ").append('"').append(e.getKey()).append("\": ").append(e.getValue());
        }
        sb.append("},\n");
        field(sb, "mismatches", mismatches);
        field(sb, "requests_sent", requestsSent);
        field(sb, "answers_received", answersReceived);
        field(sb, "lost", lost);
        field(sb, "connections_closed_by_server", closedByServer);
        field(sb, "ended_early", endedEarly);
        field(sb, "client", client);
        field(sb, "server_cpu_cores", serverCpuCores);
        field(sb, "frames_per_server_core_second", framesPerServerCoreSecond());
        field(sb, "client_cpu_cores", clientCpuCores);
        sb.append("  \"latency_percentiles\": [");
        for (int k = 0; k < latencyPercentiles.size(); k++) {
            double[] p = latencyPercentiles.get(k);
            sb.append(k == 0 ? "" : ", ").append(String.format(Locale.ROOT, "[%s, %.3f]", p[0], p[1]));
        }
        sb.append("],\n");
        sb.append("  \"problems\": [");
        for (int k = 0; k < problems.size(); k++) {
            sb.append(k == 0 ? "" : ", ").append('"').append(escape(problems.get(k))).append('"');
        }
        sb.append("]\n}\n");
        return sb.toString();
    }

    private static void field(StringBuilder sb, String name, Object value) {
        sb.append("  \"").append(name).append("\": ");
        if (value == null) {
            sb.append("null");
        } else if (value instanceof String s) {
            sb.append('"').append(escape(s)).append('"');
        } else if (value instanceof Double d) {
            sb.append(Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "null");
        } else {
            sb.append(value);
        }
        sb.append(",\n");
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
