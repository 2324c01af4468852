package io.agora.matcher;

import io.agora.market.MarketRules;
import io.agora.market.Scoring;
import io.agora.schemas.AgoraConfig;

import java.util.Map;
import java.util.Set;

/**
 * The matcher's typed configuration: the market-wide {@link MarketRules} (weights, starter grant,
 * trusted pools) plus the matcher's own {@code agora.matcher.*} timings and penalties.
 *
 * @param rules            the settings shared with ingest-api
 * @param leaseMs          lease length from assignment or from the last heartbeat listing the task
 * @param workerGraceMs    a worker silent for longer is OFFLINE
 * @param offlinePenalty   reputation delta for going silent
 * @param leaseExpiredPenalty reputation delta for letting a lease expire
 * @param defaultMaxAttempts attempts per replica when the job does not say (JobRequested has a default of 3)
 * @param retryBackoffMs   wait before attempt a+1 of a replica, times a
 * @param punctuateMs      wall-clock period of the lease/offline/queue checks
 * @param maxSlotsPerWorker tasks one worker may hold at once, whatever it claims (its registration's
 *                         {@code maxConcurrent} may lower it, never raise it)
 * @param coolDownLeases   counted expired leases ({@link Leases#countsTowardsCoolDown}) within {@code coolDownWindowMs} that put a worker in a cool-down
 * @param coolDownWindowMs the window those expiries are counted in
 * @param coolDownMs       how long a cooling worker is not matched
 * @param stakeCoolDownMs  how long an unbonded stake stays slashable before it is returned ({@link io.agora.market.Stake})
 */
public record MatcherConfig(MarketRules rules,
                            long leaseMs,
                            long workerGraceMs,
                            int offlinePenalty,
                            int leaseExpiredPenalty,
                            int defaultMaxAttempts,
                            long retryBackoffMs,
                            long punctuateMs,
                            int maxSlotsPerWorker,
                            int coolDownLeases,
                            long coolDownWindowMs,
                            long coolDownMs,
                            long stakeCoolDownMs) {

    public static MatcherConfig defaults() {
        return from(AgoraConfig.of(Map.of()));
    }

    public static MatcherConfig from(AgoraConfig cfg) {
        return new MatcherConfig(MarketRules.from(cfg),
                cfg.getLong("agora.matcher.lease.ms", 15_000),
                cfg.getLong("agora.matcher.worker.grace.ms", 10_000),
                cfg.getInt("agora.matcher.penalty.offline", -20),
                cfg.getInt("agora.matcher.penalty.lease.expired", -20),
                cfg.getInt("agora.matcher.max.attempts", 3),
                cfg.getLong("agora.matcher.retry.backoff.ms", 1_000),
                cfg.getLong("agora.matcher.punctuate.ms", 1_000),
                cfg.getInt("agora.matcher.max.slots.per.worker", 4),
                cfg.getInt("agora.matcher.cooldown.expired.leases", 3),
                cfg.getLong("agora.matcher.cooldown.window.ms", 600_000),
                cfg.getLong("agora.matcher.cooldown.ms", 300_000),
                cfg.getLong("agora.matcher.stake.cooldown.ms", 86_400_000));
    }

    public Scoring.Weights weights() {
        return rules.weights();
    }

    public long starterGrantMicros() {
        return rules.starterGrantMicros();
    }

    /** The allowlist of a trusted pool, or null when the pool is open to every registered worker. */
    public Set<String> allowlist(String pool) {
        return rules.allowlist(pool);
    }

    public MatcherConfig withAllowlist(String pool, Set<String> workers) {
        return new MatcherConfig(rules.withAllowlist(pool, workers), leaseMs, workerGraceMs, offlinePenalty,
                leaseExpiredPenalty, defaultMaxAttempts, retryBackoffMs, punctuateMs, maxSlotsPerWorker,
                coolDownLeases, coolDownWindowMs, coolDownMs, stakeCoolDownMs);
    }

    /** The bond a worker must keep to be registered in {@code pool} (0: none). */
    public long minStakeMicros(String pool) {
        return rules.minStakeMicros(pool);
    }

    public MatcherConfig withMinStake(String pool, long micros) {
        return new MatcherConfig(rules.withMinStake(pool, micros), leaseMs, workerGraceMs, offlinePenalty,
                leaseExpiredPenalty, defaultMaxAttempts, retryBackoffMs, punctuateMs, maxSlotsPerWorker,
                coolDownLeases, coolDownWindowMs, coolDownMs, stakeCoolDownMs);
    }

    /** With {@code pool} bounding its workers' cpu prices by their checked scores ({@link io.agora.market.Pricing#cpuPriceBound}). */
    public MatcherConfig withPohPrice(String pool, long micros) {
        return new MatcherConfig(rules.withPohPrice(pool, micros), leaseMs, workerGraceMs, offlinePenalty,
                leaseExpiredPenalty, defaultMaxAttempts, retryBackoffMs, punctuateMs, maxSlotsPerWorker,
                coolDownLeases, coolDownWindowMs, coolDownMs, stakeCoolDownMs);
    }

    public MatcherConfig withRetryBackoffMs(long ms) {
        return new MatcherConfig(rules, leaseMs, workerGraceMs, offlinePenalty,
                leaseExpiredPenalty, defaultMaxAttempts, ms, punctuateMs, maxSlotsPerWorker,
                coolDownLeases, coolDownWindowMs, coolDownMs, stakeCoolDownMs);
    }

    public MatcherConfig withMaxSlotsPerWorker(int slots) {
        return new MatcherConfig(rules, leaseMs, workerGraceMs, offlinePenalty,
                leaseExpiredPenalty, defaultMaxAttempts, retryBackoffMs, punctuateMs, slots,
                coolDownLeases, coolDownWindowMs, coolDownMs, stakeCoolDownMs);
    }
}
