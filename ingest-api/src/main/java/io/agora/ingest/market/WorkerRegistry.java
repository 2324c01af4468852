package io.agora.ingest.market;

import io.agora.events.Heartbeat;
import io.agora.events.RegistrationType;
import io.agora.events.ReputationChanged;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.market.BandwidthAttestation;
import io.agora.market.PohChallenge;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.ChallengeKey;
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
    private volatile byte[] challengeKey;

    /**
     * A registration that reached the broker at {@code arrivalMs} (its record time): its benchmark score and
     * its bandwidth are kept only as far as the matcher would trust them ({@link PohChallenge#verdict},
     * {@link BandwidthAttestation#verdict}), so the match preview scores and shows what the matcher does.
     */
    public void apply(WorkerRegistration r, long arrivalMs) {
        WorkerCapabilities caps = checked(r, arrivalMs);
        workers.compute(r.getWorkerId(), (id, w) -> {
            boolean registered = r.getType() == RegistrationType.REGISTERED;
            if (w == null) {
                return new WorkerState(id, caps, registered, null, 0, 0,
                        caps == null ? 0 : caps.getPricePerCpuSecondMicros(), 0, 0, 0, 0, List.of());
            }
            return new WorkerState(id, caps != null ? caps : w.capabilities(), registered,
                    w.heartbeatStatus(), w.freeSlots(), w.load(), w.pricePerCpuSecondMicros(), w.lastHeartbeatMs(),
                    w.latencyMs(), w.inFlight(), w.reputation(), w.ownedPartitions(), w.imageDigests());
        });
    }

    private WorkerCapabilities checked(WorkerRegistration r, long arrivalMs) {
        WorkerCapabilities c = r.getCapabilities();
        if (c == null) {
            return null;
        }
        byte[] key = challengeKey();
        int mbps = key.length == 0 ? 0 : BandwidthAttestation.verdict(key, r.getWorkerId(), c.getNetworkMbps(),
                c.getNetworkAttestation(), arrivalMs).mbps();
        WorkerCapabilities.Builder b = WorkerCapabilities.newBuilder(c).setNetworkMbps(mbps).setNetworkAttestation(null);
        if (c.getBenchmarkScore() == 0 && c.getBenchmarkProof() == null) {
            return b.build();
        }
        double score = key.length == 0 ? 0 : PohChallenge.verdict(key, r.getWorkerId(), c.getBenchmarkScore(),
                c.getBenchmarkProof(), arrivalMs, java.util.concurrent.ThreadLocalRandom.current().nextInt()).score();
        return b.setBenchmarkScore(score).setBenchmarkProof(null).build();
    }

    /** The market's challenge key (ingest-api issues challenges with it), read once; empty when none is configured. */
    protected byte[] challengeKey() {
        byte[] k = challengeKey;
        if (k == null) {
            k = ChallengeKey.find(AgoraConfig.load(Map.of())).orElse(new byte[0]);
            challengeKey = k;
        }
        return k;
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
                    latency, h.getInFlightTaskIds().size(), w == null ? 0 : w.reputation(), h.getOwnedPartitions(),
                    h.getImageDigests());
        });
    }

    public void apply(ReputationChanged r) {
        workers.compute(r.getWorkerId(), (id, w) -> w == null
                ? new WorkerState(id, null, false, null, 0, 0, 0, 0, 0, 0, r.getDelta(), List.of())
                : new WorkerState(id, w.capabilities(), w.registered(), w.heartbeatStatus(), w.freeSlots(), w.load(),
                w.pricePerCpuSecondMicros(), w.lastHeartbeatMs(), w.latencyMs(), w.inFlight(), w.reputation() + r.getDelta(),
                w.ownedPartitions(), w.imageDigests()));
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
