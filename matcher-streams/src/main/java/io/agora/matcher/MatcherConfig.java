package io.agora.matcher;

import io.agora.common.AgoraConfig;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The matcher's typed configuration, read from {@link AgoraConfig} keys {@code agora.matcher.*},
 * {@code agora.market.reference.price} and {@code agora.pool.<name>.allowlist}.
 *
 * <p>The starter grant is one hour of one cpu at the market's reference price:
 * {@code 3600 s x agora.market.reference.price} (default 1000 micro-credits per cpu-second),
 * i.e. 3,600,000 micro-credits = 3.6 credits, unless {@code agora.matcher.starter.grant.micros}
 * sets it directly.
 *
 * @param weights          scoring weights
 * @param starterGrantMicros credits a new client receives once
 * @param leaseMs          lease length from assignment or from the last heartbeat listing the task
 * @param workerGraceMs    a worker silent for longer is OFFLINE
 * @param offlinePenalty   reputation delta for going silent
 * @param leaseExpiredPenalty reputation delta for letting a lease expire
 * @param defaultMaxAttempts attempts per replica when the job does not say (JobRequested has a default of 3)
 * @param retryBackoffMs   wait before attempt a+1 of a replica, times a
 * @param punctuateMs      wall-clock period of the lease/offline/queue checks
 * @param allowlists       trusted pools: pool name to the worker ids allowed in it
 */
public record MatcherConfig(Scoring.Weights weights,
                            long starterGrantMicros,
                            long leaseMs,
                            long workerGraceMs,
                            int offlinePenalty,
                            int leaseExpiredPenalty,
                            int defaultMaxAttempts,
                            long retryBackoffMs,
                            long punctuateMs,
                            Map<String, Set<String>> allowlists) {

    public static final long REFERENCE_PRICE_MICROS = 1000L;
    public static final long STARTER_SECONDS = 3600L;

    public MatcherConfig {
        allowlists = Map.copyOf(allowlists);
    }

    public static MatcherConfig defaults() {
        return from(AgoraConfig.of(Map.of()));
    }

    public static MatcherConfig from(AgoraConfig cfg) {
        Scoring.Weights w = new Scoring.Weights(
                cfg.getDouble("agora.matcher.weight.cap", 0.40),
                cfg.getDouble("agora.matcher.weight.price", 0.20),
                cfg.getDouble("agora.matcher.weight.latency", 0.20),
                cfg.getDouble("agora.matcher.weight.trust", 0.15),
                cfg.getDouble("agora.matcher.weight.load", 0.05));
        long refPrice = cfg.getLong("agora.market.reference.price", REFERENCE_PRICE_MICROS);
        Map<String, Set<String>> allow = new HashMap<>();
        cfg.asMap().forEach((k, v) -> {
            if (k.startsWith("agora.pool.") && k.endsWith(".allowlist")) {
                String pool = k.substring("agora.pool.".length(), k.length() - ".allowlist".length());
                allow.put(pool, Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                        .collect(Collectors.toUnmodifiableSet()));
            }
        });
        return new MatcherConfig(w,
                cfg.getLong("agora.matcher.starter.grant.micros", STARTER_SECONDS * refPrice),
                cfg.getLong("agora.matcher.lease.ms", 15_000),
                cfg.getLong("agora.matcher.worker.grace.ms", 10_000),
                cfg.getInt("agora.matcher.penalty.offline", -20),
                cfg.getInt("agora.matcher.penalty.lease.expired", -20),
                cfg.getInt("agora.matcher.max.attempts", 3),
                cfg.getLong("agora.matcher.retry.backoff.ms", 1_000),
                cfg.getLong("agora.matcher.punctuate.ms", 1_000),
                allow);
    }

    /** The allowlist of a trusted pool, or null when the pool is open to every registered worker. */
    public Set<String> allowlist(String pool) {
        return allowlists.get(pool);
    }

    public MatcherConfig withAllowlist(String pool, Set<String> workers) {
        Map<String, Set<String>> a = new HashMap<>(allowlists);
        a.put(pool, Set.copyOf(workers));
        return new MatcherConfig(weights, starterGrantMicros, leaseMs, workerGraceMs, offlinePenalty,
                leaseExpiredPenalty, defaultMaxAttempts, retryBackoffMs, punctuateMs, a);
    }

    public MatcherConfig withRetryBackoffMs(long ms) {
        return new MatcherConfig(weights, starterGrantMicros, leaseMs, workerGraceMs, offlinePenalty,
                leaseExpiredPenalty, defaultMaxAttempts, ms, punctuateMs, allowlists);
    }
}
