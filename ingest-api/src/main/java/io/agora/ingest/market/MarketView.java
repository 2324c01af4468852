package io.agora.ingest.market;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.ingest.config.IngestSettings;
import io.agora.market.Eligibility;
import io.agora.market.MatchRequest;
import io.agora.market.MarketRules;
import io.agora.market.Matching;
import io.agora.market.Pricing;
import io.agora.market.Scoring;
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
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MarketView.class);
    private final WorkerRegistry registry;
    private final ReadModel readModel;
    private final long offlineAfterMs;
    private final MarketRules rules;
    /** Result latencies per worker, read at most every {@link #LATENCY_REFRESH_MS}. */
    private volatile Latencies latencies = new Latencies(Map.of(), Long.MIN_VALUE);
    static final long LATENCY_REFRESH_MS = 5_000;
    static final java.time.Duration LATENCY_WINDOW = java.time.Duration.ofHours(1);

    private record Latencies(Map<String, Double> byWorker, long readAtMs) {
    }

    public MarketView(WorkerRegistry registry, ReadModel readModel, IngestSettings settings, MarketRules rules) {
        this.registry = registry;
        this.readModel = readModel;
        this.offlineAfterMs = settings.workerOfflineAfterMs();
        this.rules = rules;
    }

    public List<WorkerView> workers(@Nullable String pool, @Nullable String region, @Nullable String status) {
        long now = System.currentTimeMillis();
        Map<String, Integer> reps = safeReputations();
        Map<String, Double> lat = resultLatencies(now);
        return registry.all().stream()
                .filter(w -> pool == null || pool.equals(w.pool()))
                .filter(w -> region == null || region.equalsIgnoreCase(w.region()))
                .filter(w -> status == null || status.equalsIgnoreCase(w.status(now, offlineAfterMs)))
                .map(w -> WorkerView.of(w, now, offlineAfterMs, reps.getOrDefault(w.workerId(), w.reputation()),
                        lat.get(w.workerId())))
                .toList();
    }

    /** One worker as {@link #workers} shows it; a 404 for a worker the registry has never seen. */
    public WorkerView worker(String workerId) {
        return workers(null, null, null).stream().filter(w -> w.workerId().equals(workerId)).findFirst()
                .orElseThrow(() -> io.agora.ingest.api.ApiException.notFound("worker " + workerId));
    }

    /** Every pool some registered worker is in, by name, each as {@link #pool} shows it. */
    public List<PoolView> pools() {
        return registry.all().stream().filter(WorkerState::registered).map(WorkerState::pool)
                .filter(java.util.Objects::nonNull).distinct().sorted().map(this::pool).toList();
    }

    /** The market at a glance: jobs by status, the last hour's decided jobs, workers by status. */
    public MarketStats stats() {
        long now = System.currentTimeMillis();
        Map<String, Long> workers = new java.util.TreeMap<>();
        registry.all().stream().filter(WorkerState::registered)
                .forEach(w -> workers.merge(w.status(now, offlineAfterMs), 1L, Long::sum));
        Map<String, Long> jobs;
        ReadModel.Decided hour;
        try {
            jobs = readModel.jobsByStatus();
            hour = readModel.decidedSince(java.time.Instant.ofEpochMilli(now).minus(java.time.Duration.ofHours(1)));
        } catch (RuntimeException e) {
            jobs = Map.of();
            hour = new ReadModel.Decided(0, null);
        }
        return new MarketStats(jobs, hour.jobs(), hour.meanLatencyMs(), workers, pools().size());
    }

    @Serdeable
    public record MarketStats(Map<String, Long> jobsByStatus, long decidedLastHour, @Nullable Double meanLatencyMsLastHour,
                              Map<String, Long> workersByStatus, int pools) {
    }

    /**
     * Share of a pool's decided jobs that reached consensus: COMPLETED over COMPLETED, NO_CONSENSUS
     * and FAILED (jobs that expired, were cancelled or rejected, or are still running, say nothing
     * about consensus); null when none is decided yet.
     */
    public static Double consensusReliability(Map<String, Long> jobsByStatus) {
        long completed = jobsByStatus.getOrDefault("COMPLETED", 0L);
        long decided = completed + jobsByStatus.getOrDefault("NO_CONSENSUS", 0L) + jobsByStatus.getOrDefault("FAILED", 0L);
        return decided == 0 ? null : (double) completed / decided;
    }

    /**
     * healthy when at least 80% of the pool's registered workers are heartbeating and not
     * degraded, degraded from 50%, critical below (or with no worker at all). Average latency: the
     * mean result latency (assignment to result, last hour) of its active workers that have one.
     */
    public PoolView pool(String pool) {
        long now = System.currentTimeMillis();
        List<WorkerState> members = registry.all().stream().filter(w -> pool.equals(w.pool()) && w.registered()).toList();
        int active = 0;
        int failed = 0;
        int capacity = 0;
        double latency = 0;
        int timed = 0;
        Map<String, Double> lat = resultLatencies(now);
        for (WorkerState w : members) {
            boolean healthy = w.online(now, offlineAfterMs) && !"DEGRADED".equals(w.heartbeatStatus());
            if (healthy) {
                active++;
                capacity += Math.max(0, w.freeSlots());
                Double l = lat.get(w.workerId());
                if (l != null) {
                    latency += l;
                    timed++;
                }
            } else {
                failed++;
            }
        }
        double share = members.isEmpty() ? 0 : (double) active / members.size();
        String status = share >= 0.8 ? "healthy" : share >= 0.5 ? "degraded" : "critical";
        Double reliability;
        try {
            reliability = consensusReliability(readModel.jobsByStatus(pool));
        } catch (RuntimeException e) {
            reliability = null;
        }
        return new PoolView(pool, status, members.size(), active, failed, capacity,
                timed == 0 ? null : latency / timed, reliability);
    }

    /**
     * The best k eligible workers for a job, best first, with the reason each other worker is left
     * out. Free workers come first: the matcher would place there now (no wait). When fewer than k
     * are free, the best busy workers that pass every other requirement follow, each with an
     * estimated wait: its mean result latency divided by its running tasks + 1 (the expected time
     * until the first of them ends, if they started at random times), or the pool's mean latency
     * when its own is unknown. {@code etaMs} adds the worker's own result latency: when a result
     * could be back. Both are null when nothing is known.
     */
    public MatchPreview match(JobSpec spec, Requirements r, int topK) {
        long now = System.currentTimeMillis();
        Map<String, Double> lat = resultLatencies(now);
        List<WorkerState> states = registry.all().stream().filter(WorkerState::registered).toList();
        Map<String, WorkerState> byId = new java.util.HashMap<>();
        states.forEach(w -> byId.put(w.workerId(), w));
        Map<String, Long> stakes = safeStakes();
        List<io.agora.market.WorkerView> workers = states.stream()
                .map(w -> matcherView(w, now, lat, stakes.getOrDefault(w.workerId(), 0L))).toList();
        MatchRequest req = new MatchRequest(spec, r, Math.max(1, topK), Set.of(), rules.allowlist(r.getPool()));
        io.agora.market.MatchPreview.Preview preview = io.agora.market.MatchPreview.of(req, workers, rules.weights());
        Double poolLatency = mean(states.stream().filter(w -> r.getPool().equals(w.pool()))
                .map(w -> lat.get(w.workerId())).filter(java.util.Objects::nonNull).toList());
        List<Candidate> candidates = new java.util.ArrayList<>();
        for (Matching.Choice c : preview.chosen()) {
            Double own = lat.get(c.worker().workerId());
            candidates.add(candidate(c, spec, r, 0L, own == null ? null : Math.round(own), c.worker().freeSlots(),
                    priceBound(c)));
        }
        for (Matching.Choice c : preview.waiting()) {
            Double own = lat.get(c.worker().workerId());
            Double basis = own != null ? own : poolLatency;
            WorkerState st = byId.get(c.worker().workerId());
            int running = st == null ? 0 : Math.max(0, st.inFlight());
            Long wait = basis == null ? null : Math.round(basis / (running + 1));
            Long eta = basis == null ? null : wait + Math.round(basis);
            candidates.add(candidate(c, spec, r, wait, eta, 0, priceBound(c)));
        }
        List<Excluded> excluded = preview.excluded().stream().map(e -> new Excluded(e.workerId(), e.reason())).toList();
        return new MatchPreview(r.getPool(), preview.eligibleNow(), candidates, excluded);
    }

    /** The most the candidate may charge per cpu-second for its checked score, when its pool bounds prices by it. */
    private @Nullable Long priceBound(Matching.Choice c) {
        long perReference = rules.pohPriceMicros(c.worker().pool());
        return perReference <= 0 ? null : io.agora.market.Pricing.cpuPriceBound(Long.MAX_VALUE,
                c.worker().capabilities().getBenchmarkScore(), perReference);
    }

    private static Candidate candidate(Matching.Choice c, JobSpec spec, Requirements r, @Nullable Long waitMs,
                                       @Nullable Long etaMs, int freeSlots, @Nullable Long cpuPriceBound) {
        var caps = c.worker().capabilities();
        Pricing.Rates ceilings = Pricing.Rates.ceilings(r);
        Pricing.Rates paid = new Pricing.Rates(c.worker().pricePerCpuSecondMicros(), caps.getPricePerGpuSecondMicros(),
                caps.getPricePerGbSecondMicros()).min(ceilings);
        Cost cost;
        try {
            Pricing.Breakdown b = Pricing.breakdown(paid, ceilings, spec.getTimeoutMs(), spec);
            cost = new Cost(b.cpuMicros(), b.gpuMicros(), b.memoryMicros(), b.totalMicros());
        } catch (ArithmeticException e) {
            cost = null; // more than a long holds: the job's own escrow could not be held either
        }
        String explain = c.explain() + " net_mbps=" + caps.getNetworkMbps() + (cpuPriceBound == null ? ""
                : String.format(java.util.Locale.ROOT, " poh_score=%.0f cpu_price_bound=%d", caps.getBenchmarkScore(),
                cpuPriceBound));
        return new Candidate(c.worker().workerId(), Math.round(c.score() * 10000) / 10000.0,
                paid.cpuMicros(), caps.getMinPricePerJobMicros(), paid.gpuMicros(), paid.memoryGibMicros(), cost,
                waitMs, etaMs, freeSlots, caps.getRegion(), explain, cpuPriceBound, caps.getNetworkMbps());
    }

    private static Double mean(List<Double> values) {
        return values.isEmpty() ? null : values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    /** Each worker's mean result latency over the last hour (read model), refreshed every few seconds. */
    private Map<String, Double> resultLatencies(long now) {
        Latencies l = latencies;
        if (l.readAtMs() == Long.MIN_VALUE || now - l.readAtMs() >= LATENCY_REFRESH_MS || now < l.readAtMs()) {
            try {
                l = new Latencies(Map.copyOf(readModel.resultLatencies(java.time.Instant.ofEpochMilli(now).minus(LATENCY_WINDOW))), now);
            } catch (RuntimeException e) {
                log.warn("result latencies not read, keeping the last ones: {}", e.getMessage());
                l = new Latencies(l.byWorker(), now); // keep what we had; the read model is optional here
            }
            latencies = l;
        }
        return l.byWorker();
    }

    /**
     * The matcher's view of a worker from what the API has read; its latency term uses the
     * worker's mean result latency from the read model (the matcher's own figure is an average of
     * the same span), unknown (the neutral term) when there is none.
     */
    private io.agora.market.WorkerView matcherView(WorkerState w, long now, Map<String, Double> lat, long stakeMicros) {
        long claimed = w.pricePerCpuSecondMicros() > 0 ? w.pricePerCpuSecondMicros()
                : w.capabilities().getPricePerCpuSecondMicros();
        // as the matcher's pool holds it: bounded by the checked score where the pool says so
        long price = io.agora.market.Pricing.cpuPriceBound(claimed, w.capabilities().getBenchmarkScore(),
                rules.pohPriceMicros(w.pool()));
        boolean online = w.online(now, offlineAfterMs) && io.agora.market.WorkerView.acceptsWork(w.heartbeatStatus());
        Double latency = lat.get(w.workerId());
        return new io.agora.market.WorkerView(w.workerId(), w.pool(), online, w.capabilities(), price, w.freeSlots(),
                w.reputation(), w.ownedPartitions(), w.load(), latency == null ? -1 : latency, stakeMicros,
                java.util.Set.copyOf(w.imageDigests()));
    }

    /** Each worker's bonded stake (balance of {@code stake:<id>}, an unbonding part included), empty when unreadable. */
    private Map<String, Long> safeStakes() {
        try {
            return readModel.stakes();
        } catch (RuntimeException e) {
            return Map.of();
        }
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
                             long pricePerCpuSecondMicros, long minPricePerJobMicros, int cpuCores, long memoryMb,
                             int gpus, List<String> tags, int reputation, @Nullable Long resultLatencyMs,
                             long heartbeatDelayMs, int inFlight, @Nullable Long lastHeartbeatMs,
                             @Nullable Long balanceMicros, @Nullable Long stakeMicros) {
        /** This view with the worker's free credits and bonded stake (the one-worker view shows them; lists do not). */
        public WorkerView withAccounts(long balance, long stake) {
            return new WorkerView(workerId, pool, region, status, statusReason, freeSlots, maxConcurrent, load,
                    pricePerCpuSecondMicros, minPricePerJobMicros, cpuCores, memoryMb, gpus, tags, reputation,
                    resultLatencyMs, heartbeatDelayMs, inFlight, lastHeartbeatMs, balance, stake);
        }

        static WorkerView of(WorkerState w, long now, long offlineAfterMs, int reputation, @Nullable Double resultLatencyMs) {
            var c = w.capabilities();
            return new WorkerView(w.workerId(), w.pool(), w.region(), w.status(now, offlineAfterMs), null,
                    w.freeSlots(), c.getMaxConcurrent(), w.load(),
                    w.pricePerCpuSecondMicros() > 0 ? w.pricePerCpuSecondMicros() : c.getPricePerCpuSecondMicros(),
                    c.getMinPricePerJobMicros(), c.getCpuCores(), c.getMemoryMb(),
                    c.getGpus().stream().mapToInt(g -> g.getCount()).sum(), List.copyOf(c.getTags()), reputation,
                    resultLatencyMs == null ? null : Math.round(resultLatencyMs), w.latencyMs(), w.inFlight(),
                    w.lastHeartbeatMs() == 0 ? null : w.lastHeartbeatMs(), null, null);
        }
    }

    @Serdeable
    public record PoolView(String pool, String status, int workers, int activeWorkers, int failedWorkers,
                           int capacity, @Nullable Double averageLatencyMs, @Nullable Double consensusReliability) {
    }

    /** A worker the job could go to; {@code networkMbps} is its bandwidth as the market checked it (0: unchecked). */
    @Serdeable
    public record Candidate(String workerId, double score, long pricePerCpuSecondMicros, long minPricePerJobMicros,
                            long pricePerGpuSecondMicros, long pricePerGbSecondMicros, @Nullable Cost replicaCostAtTimeout,
                            @Nullable Long estimatedWaitMs, @Nullable Long etaMs, int freeSlots, @Nullable String region,
                            String explain, @Nullable Long cpuPriceBoundMicros, int networkMbps) {
    }

    /**
     * What one replica costs per resource at the candidate's prices (each within the job's ceiling)
     * if it runs the whole timeout (io.agora.market.Pricing#breakdown), before the worker's per-job minimum.
     */
    @Serdeable
    public record Cost(long cpuMicros, long gpuMicros, long memoryMicros, long totalMicros) {
    }

    @Serdeable
    public record Excluded(String workerId, String reasons) {
    }

    @Serdeable
    public record MatchPreview(String pool, int eligible, List<Candidate> candidates, List<Excluded> excluded) {
    }
}
