package io.agora.ingest.market;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.ingest.config.IngestSettings;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** Workers, pool health and the match preview, from the in-memory registry and the read model. */
@Singleton
public class MarketView {
    private final WorkerRegistry registry;
    private final ReadModel readModel;
    private final long offlineAfterMs;
    private final Scoring scoring = Scoring.DEFAULT;

    public MarketView(WorkerRegistry registry, ReadModel readModel, IngestSettings settings) {
        this.registry = registry;
        this.readModel = readModel;
        this.offlineAfterMs = settings.workerOfflineAfterMs();
    }

    public List<WorkerView> workers(@Nullable String pool, @Nullable String region, @Nullable String status) {
        long now = System.currentTimeMillis();
        Map<String, Integer> reps = safeReputations();
        return registry.all().stream()
                .filter(w -> pool == null || pool.equals(w.pool()))
                .filter(w -> region == null || region.equalsIgnoreCase(w.region()))
                .filter(w -> status == null || status.equalsIgnoreCase(w.status(now, offlineAfterMs)))
                .map(w -> WorkerView.of(w, now, offlineAfterMs, reps.getOrDefault(w.workerId(), w.reputation())))
                .toList();
    }

    /**
     * healthy when at least 80% of the pool's registered workers are heartbeating and not
     * degraded, degraded from 50%, critical below (or with no worker at all).
     */
    public PoolView pool(String pool) {
        long now = System.currentTimeMillis();
        List<WorkerState> members = registry.all().stream().filter(w -> pool.equals(w.pool()) && w.registered()).toList();
        int active = 0;
        int failed = 0;
        int capacity = 0;
        long latency = 0;
        for (WorkerState w : members) {
            boolean healthy = w.online(now, offlineAfterMs) && !"DEGRADED".equals(w.heartbeatStatus());
            if (healthy) {
                active++;
                capacity += Math.max(0, w.freeSlots());
                latency += w.latencyMs();
            } else {
                failed++;
            }
        }
        double share = members.isEmpty() ? 0 : (double) active / members.size();
        String status = share >= 0.8 ? "healthy" : share >= 0.5 ? "degraded" : "critical";
        Double reliability;
        try {
            reliability = readModel.consensusReliability(pool);
        } catch (RuntimeException e) {
            reliability = null;
        }
        return new PoolView(pool, status, members.size(), active, failed, capacity,
                active == 0 ? null : (double) latency / active, reliability);
    }

    /** The best k eligible workers for a job, best first, with the reasons of those left out. */
    public MatchPreview match(JobSpec spec, Requirements r, int topK) {
        long now = System.currentTimeMillis();
        List<Candidate> eligible = new ArrayList<>();
        List<Excluded> excluded = new ArrayList<>();
        for (WorkerState w : registry.all()) {
            if (!w.registered()) {
                continue;
            }
            List<String> reasons = new ArrayList<>(Eligibility.reasons(w, spec, r, w.online(now, offlineAfterMs)));
            if (reasons.isEmpty()) {
                Scoring.Score s = scoring.score(w, spec, r);
                long price = Math.min(w.pricePerCpuSecondMicros() > 0 ? w.pricePerCpuSecondMicros()
                        : w.capabilities().getPricePerCpuSecondMicros(), r.getMaxPricePerCpuSecondMicros());
                long waitMs = w.freeSlots() > 0 ? 0 : spec.getTimeoutMs() / 2;
                eligible.add(new Candidate(w.workerId(), Math.round(s.value() * 10000) / 10000.0, price, waitMs,
                        w.freeSlots(), w.region(), s.explain()));
            } else {
                excluded.add(new Excluded(w.workerId(), String.join("; ", reasons)));
            }
        }
        eligible.sort(Comparator.comparingDouble(Candidate::score).reversed().thenComparing(Candidate::workerId));
        return new MatchPreview(r.getPool(), eligible.size(), eligible.stream().limit(Math.max(1, topK)).toList(),
                excluded);
    }

    private Map<String, Integer> safeReputations() {
        try {
            return readModel.reputations();
        } catch (RuntimeException e) {
            return Map.of();
        }
    }

    @Serdeable
    public record WorkerView(String workerId, String pool, @Nullable String region, String status,
                             @Nullable String statusReason, int freeSlots, int maxConcurrent, double load,
                             long pricePerCpuSecondMicros, int cpuCores, long memoryMb, List<String> tags,
                             int reputation, long latencyMs, int inFlight, @Nullable Long lastHeartbeatMs) {
        static WorkerView of(WorkerState w, long now, long offlineAfterMs, int reputation) {
            var c = w.capabilities();
            return new WorkerView(w.workerId(), w.pool(), w.region(), w.status(now, offlineAfterMs), null,
                    w.freeSlots(), c.getMaxConcurrent(), w.load(),
                    w.pricePerCpuSecondMicros() > 0 ? w.pricePerCpuSecondMicros() : c.getPricePerCpuSecondMicros(),
                    c.getCpuCores(), c.getMemoryMb(), List.copyOf(c.getTags()), reputation, w.latencyMs(), w.inFlight(),
                    w.lastHeartbeatMs() == 0 ? null : w.lastHeartbeatMs());
        }
    }

    @Serdeable
    public record PoolView(String pool, String status, int workers, int activeWorkers, int failedWorkers,
                           int capacity, @Nullable Double averageLatencyMs, @Nullable Double consensusReliability) {
    }

    @Serdeable
    public record Candidate(String workerId, double score, long pricePerCpuSecondMicros, long estimatedWaitMs,
                            int freeSlots, @Nullable String region, String explain) {
    }

    @Serdeable
    public record Excluded(String workerId, String reasons) {
    }

    @Serdeable
    public record MatchPreview(String pool, int eligible, List<Candidate> candidates, List<Excluded> excluded) {
    }
}
