package io.agora.ingest.market;

import io.agora.events.Heartbeat;
import io.agora.events.RegistrationType;
import io.agora.events.ReputationChanged;
import io.agora.events.WorkerRegistration;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The API's in-memory view of the worker registry, built from agora.workers.registrations,
 * agora.workers.heartbeats and agora.workers.reputation read from the beginning. It is a
 * display model: signatures are checked by the matcher, which is what decides placement.
 */
@Singleton
public class WorkerRegistry {
    private final Map<String, WorkerState> workers = new ConcurrentHashMap<>();

    public void apply(WorkerRegistration r, long receivedAtMs) {
        workers.compute(r.getWorkerId(), (id, w) -> {
            boolean registered = r.getType() == RegistrationType.REGISTERED;
            if (w == null) {
                return new WorkerState(id, r.getCapabilities(), registered, null, 0, 0,
                        r.getCapabilities() == null ? 0 : r.getCapabilities().getPricePerCpuSecondMicros(), 0, 0, 0, 0, List.of());
            }
            return new WorkerState(id, r.getCapabilities() != null ? r.getCapabilities() : w.capabilities(), registered,
                    w.heartbeatStatus(), w.freeSlots(), w.load(), w.pricePerCpuSecondMicros(), w.lastHeartbeatMs(),
                    w.latencyMs(), w.inFlight(), w.reputation(), w.ownedPartitions());
        });
    }

    public void apply(Heartbeat h, long receivedAtMs) {
        long hbMs = h.getTimestamp().toEpochMilli();
        long latency = Math.max(0, receivedAtMs - hbMs);
        workers.compute(h.getWorkerId(), (id, w) -> {
            if (w != null && hbMs < w.lastHeartbeatMs()) {
                return w;
            }
            return new WorkerState(id, w == null ? null : w.capabilities(), w == null || w.registered(),
                    h.getStatus().name(), h.getFreeSlots(), h.getLoad(), h.getPricePerCpuSecondMicros(), hbMs,
                    latency, h.getInFlightTaskIds().size(), w == null ? 0 : w.reputation(), h.getOwnedPartitions());
        });
    }

    public void apply(ReputationChanged r) {
        workers.compute(r.getWorkerId(), (id, w) -> w == null
                ? new WorkerState(id, null, false, null, 0, 0, 0, 0, 0, 0, r.getDelta(), List.of())
                : new WorkerState(id, w.capabilities(), w.registered(), w.heartbeatStatus(), w.freeSlots(), w.load(),
                w.pricePerCpuSecondMicros(), w.lastHeartbeatMs(), w.latencyMs(), w.inFlight(), w.reputation() + r.getDelta(),
                w.ownedPartitions()));
    }

    /** Whether the worker's last registration seen is REGISTERED (a DEREGISTERED worker is not). */
    public boolean registered(String workerId) {
        WorkerState w = workers.get(workerId);
        return w != null && w.registered() && w.capabilities() != null;
    }

    /** Workers that have registered at least once (reputation-only entries are left out). */
    public List<WorkerState> all() {
        return workers.values().stream().filter(w -> w.capabilities() != null)
                .sorted(java.util.Comparator.comparing(WorkerState::workerId)).toList();
    }
}
