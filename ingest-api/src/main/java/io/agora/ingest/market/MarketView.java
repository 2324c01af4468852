package io.agora.ingest.market;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.ingest.config.IngestSettings;
import io.agora.matcher.Eligibility;
import io.agora.matcher.MatchRequest;
import io.agora.matcher.MatcherConfig;
import io.agora.matcher.Matching;
import io.agora.matcher.Scoring;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Workers, pool health and the match preview, from the in-memory registry and the read model. The
 * preview applies the matcher's own rules ({@link Eligibility}, {@link Scoring}, {@link Matching})
 * with the matcher's weights and allowlists, so it shows what the matcher would decide now.
 */
@Singleton
public class MarketView {
    private final WorkerRegistry registry;
    private final ReadModel readModel;
    private final long offlineAfterMs;
    private final MatcherConfig matcher;

    public MarketView(WorkerRegistry registry, ReadModel readModel, IngestSettings settings, MatcherConfig matcher) {
        this.registry = registry;
        this.readModel = readModel;
        this.offlineAfterMs = settings.workerOfflineAfterMs();
        this.matcher = matcher;
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

    /** The best k eligible workers for a job, best first, with the reason each other worker is left out. */
    public MatchPreview match(JobSpec spec, Requirements r, int topK) {
        long now = System.currentTimeMillis();
        List<io.agora.matcher.WorkerView> workers = registry.all().stream().filter(WorkerState::registered)
                .map(w -> matcherView(w, now)).toList();
        MatchRequest req = new MatchRequest(spec, r, Math.max(1, topK), Set.of(), matcher.allowlist(r.getPool()));
        io.agora.matcher.MatchPreview.Preview preview = io.agora.matcher.MatchPreview.of(req, workers, matcher.weights());
        // a candidate has a free slot now (the matcher places only there), hence no estimated wait
        List<Candidate> candidates = preview.chosen().stream().map(c -> new Candidate(c.worker().workerId(),
                Math.round(c.score() * 10000) / 10000.0,
                Math.min(c.worker().pricePerCpuSecondMicros(), r.getMaxPricePerCpuSecondMicros()), 0,
                c.worker().freeSlots(), c.worker().capabilities().getRegion(), c.explain())).toList();
        List<Excluded> excluded = preview.excluded().stream().map(e -> new Excluded(e.workerId(), e.reason())).toList();
        return new MatchPreview(r.getPool(), workers.size() - excluded.size(), candidates, excluded);
    }

    /**
     * The matcher's view of a worker from what the API has read. Result latency is not observed
     * here, so it is unknown (the matcher's neutral term) rather than the heartbeat delivery delay.
     */
    private io.agora.matcher.WorkerView matcherView(WorkerState w, long now) {
        long price = w.pricePerCpuSecondMicros() > 0 ? w.pricePerCpuSecondMicros()
                : w.capabilities().getPricePerCpuSecondMicros();
        boolean online = w.online(now, offlineAfterMs) && io.agora.matcher.WorkerView.acceptsWork(w.heartbeatStatus());
        return new io.agora.matcher.WorkerView(w.workerId(), w.pool(), online, w.capabilities(), price, w.freeSlots(),
                w.reputation(), w.ownedPartitions(), w.load(), -1);
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
