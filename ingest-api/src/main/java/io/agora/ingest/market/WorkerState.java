package io.agora.ingest.market;

import io.agora.events.WorkerCapabilities;

import java.util.List;

/**
 * What the API knows about one worker, from its registration, last heartbeat and reputation moves.
 *
 * @param ownedPartitions task partitions of the last heartbeat: the matcher places work only on a worker that owns one
 */
public record WorkerState(String workerId,
                          WorkerCapabilities capabilities,
                          boolean registered,
                          String heartbeatStatus,
                          int freeSlots,
                          double load,
                          long pricePerCpuSecondMicros,
                          long lastHeartbeatMs,
                          long latencyMs,
                          int inFlight,
                          int reputation,
                          List<Integer> ownedPartitions,
                          List<String> imageDigests) {

    public WorkerState {
        ownedPartitions = ownedPartitions == null ? List.of() : List.copyOf(ownedPartitions);
        imageDigests = imageDigests == null ? List.of() : List.copyOf(imageDigests);
    }

    /** A worker whose heartbeats listed no image digests. */
    public WorkerState(String workerId, WorkerCapabilities capabilities, boolean registered, String heartbeatStatus,
                       int freeSlots, double load, long pricePerCpuSecondMicros, long lastHeartbeatMs, long latencyMs,
                       int inFlight, int reputation, List<Integer> ownedPartitions) {
        this(workerId, capabilities, registered, heartbeatStatus, freeSlots, load, pricePerCpuSecondMicros,
                lastHeartbeatMs, latencyMs, inFlight, reputation, ownedPartitions, List.of());
    }

    public String pool() {
        return capabilities == null ? "public" : capabilities.getPool();
    }

    public String region() {
        return capabilities == null ? null : capabilities.getRegion();
    }

    public boolean online(long nowMs, long offlineAfterMs) {
        return registered && lastHeartbeatMs > 0 && nowMs - lastHeartbeatMs <= offlineAfterMs;
    }

    /** READY, FULL, DRAINING, DEGRADED while heartbeating; OFFLINE or DEREGISTERED otherwise. */
    public String status(long nowMs, long offlineAfterMs) {
        if (!registered) {
            return "DEREGISTERED";
        }
        if (!online(nowMs, offlineAfterMs)) {
            return "OFFLINE";
        }
        return heartbeatStatus == null ? "READY" : heartbeatStatus;
    }
}
