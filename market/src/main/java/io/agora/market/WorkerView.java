package io.agora.market;

import io.agora.events.WorkerCapabilities;

import java.util.List;
import java.util.Set;

/**
 * What matching knows about one worker of a pool: its registered capabilities and its latest
 * heartbeat. Free of Streams types so ingest-api's match preview can build it from its own
 * read model.
 *
 * @param online        registered, heard from within the grace period and not draining
 * @param pricePerCpuSecondMicros the price of the latest heartbeat (registration price before one)
 * @param freeSlots     heartbeat free slots minus tasks given to it since
 * @param avgLatencyMs  average time from assignment to result, or a negative value when unknown
 * @param stakeMicros   the bond the market holds for the worker ({@link Stake.Account#effectiveMicros}) as of
 *                      its latest registration
 * @param imageDigests  the image digests ({@code sha256:<hex>}) the worker's latest heartbeat said it holds
 */
public record WorkerView(String workerId,
                         String pool,
                         boolean online,
                         WorkerCapabilities capabilities,
                         long pricePerCpuSecondMicros,
                         int freeSlots,
                         long reputation,
                         List<Integer> ownedPartitions,
                         double load,
                         double avgLatencyMs,
                         long stakeMicros,
                         Set<String> imageDigests) {
    public WorkerView {
        ownedPartitions = List.copyOf(ownedPartitions);
        imageDigests = imageDigests == null ? Set.of() : Set.copyOf(imageDigests);
    }

    /** A worker without bond and without reported images. */
    public WorkerView(String workerId, String pool, boolean online, WorkerCapabilities capabilities,
                      long pricePerCpuSecondMicros, int freeSlots, long reputation, List<Integer> ownedPartitions,
                      double load, double avgLatencyMs) {
        this(workerId, pool, online, capabilities, pricePerCpuSecondMicros, freeSlots, reputation, ownedPartitions,
                load, avgLatencyMs, 0, Set.of());
    }

    /** Whether a worker whose latest heartbeat reported this status takes new work (null: no heartbeat yet). */
    public static boolean acceptsWork(String heartbeatStatus) {
        return !"DRAINING".equals(heartbeatStatus) && !"DEGRADED".equals(heartbeatStatus);
    }
}
