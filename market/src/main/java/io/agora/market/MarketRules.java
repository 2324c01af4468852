package io.agora.market;

import io.agora.schemas.AgoraConfig;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The settings every part of the market must agree on, read once from {@link AgoraConfig}: the
 * matcher places jobs with them, and ingest-api previews matches and validates trusted-pool jobs
 * with the same values.
 *
 * <p>Keys: {@code agora.matcher.weight.{cap,price,latency,trust,load,stake,poh,locality}}
 * (0.40/0.20/0.20/0.15/0.05/0.10/0.05/0.15, {@link Scoring}),
 * {@code agora.market.reference.price} (1000 micro-credits per cpu-second),
 * {@code agora.matcher.starter.grant.micros} (default one hour of one cpu at the reference price,
 * 3,600,000 micro-credits) and {@code agora.pool.<name>.allowlist} (comma-separated worker ids:
 * the pool is trusted and only those workers take its jobs) and {@code agora.pool.<name>.min.stake.micros}
 * (the bond a worker must keep to be registered in the pool, {@link Stake}; 0 when unset) and
 * {@code agora.pool.<name>.bft.f} (the faulty workers a {@code bft} job in the pool tolerates at
 * least: a job that names no redundancy runs 3f + 1 replicas, 2f + 1 must agree; 1 when unset) and
 * {@code agora.market.dispute.fee.micros} (what a client pays to dispute a verdict, default
 * {@link #DISPUTE_FEE_MICROS}) and {@code agora.pool.<name>.poh.price.micros} (the pool bounds each worker's
 * price per cpu-second by its checked proof-of-hardware score, {@link Pricing#cpuPriceBound}; 0 when unset: no bound)
 * and {@code agora.pool.<name>.unmatched.grace.ms} (default {@code agora.market.unmatched.grace.ms},
 * {@link #UNMATCHED_GRACE_MS}; 0 turns it off).
 *
 * @param weights            scoring weights
 * @param starterGrantMicros credits a new client receives once
 * @param allowlists         trusted pools: pool name to the worker ids allowed in it
 * @param minStakes          pool name to the minimum bonded stake of its workers (micro-credits)
 * @param bftFaults          pool name to the f of its {@code bft} jobs (at least 1)
 * @param disputeFeeMicros   what a client pays to dispute a verdict: held from its account when the
 *                           verifier opens the dispute ({@link Postings#disputeFee}), paid to the
 *                           workers when the re-run confirms the verdict, refunded when it overturns
 *                           it; ingest-api answers 402 when the client's balance does not cover it.
 *                           The verifier keeps the amount it held in the job's state and pays or
 *                           refunds exactly that, so a change of this setting applies to disputes
 *                           opened after it
 * @param pohPrices          pool name to the price per cpu-second its workers may charge per reference speed
 *                           ({@link Pricing#cpuPriceBound}; absent: the pool bounds no price)
 * @param unmatchedGraces    pool name to its {@link #unmatchedGraceMs}
 * @param unmatchedGraceMs   the grace of a pool that sets none
 */
public record MarketRules(Scoring.Weights weights, long starterGrantMicros, Map<String, Set<String>> allowlists,
                          Map<String, Long> minStakes, Map<String, Integer> bftFaults, long disputeFeeMicros,
                          Map<String, Long> pohPrices, Map<String, Long> unmatchedGraces, long unmatchedGraceMs) {

    public static final long REFERENCE_PRICE_MICROS = 1000L;
    public static final long STARTER_SECONDS = 3600L;
    /** The default dispute fee ({@link #disputeFeeMicros}): 0.1 credit. */
    public static final long DISPUTE_FEE_MICROS = 100_000L;
    /** The default {@link #unmatchedGraceMs}: a minute, time for a worker starting with the job to register. */
    public static final long UNMATCHED_GRACE_MS = 60_000L;

    public MarketRules {
        allowlists = Map.copyOf(allowlists);
        minStakes = Map.copyOf(minStakes);
        bftFaults = Map.copyOf(bftFaults);
        pohPrices = Map.copyOf(pohPrices);
        unmatchedGraces = Map.copyOf(unmatchedGraces);
    }

    /** The rules with every setting at its default. */
    public static MarketRules defaults() {
        return from(AgoraConfig.of(Map.of()));
    }

    public static MarketRules from(AgoraConfig cfg) {
        Scoring.Weights d = Scoring.Weights.defaults();
        Scoring.Weights w = new Scoring.Weights(
                cfg.getDouble("agora.matcher.weight.cap", d.cap()),
                cfg.getDouble("agora.matcher.weight.price", d.price()),
                cfg.getDouble("agora.matcher.weight.latency", d.latency()),
                cfg.getDouble("agora.matcher.weight.trust", d.trust()),
                cfg.getDouble("agora.matcher.weight.load", d.load()),
                cfg.getDouble("agora.matcher.weight.stake", d.stake()),
                cfg.getDouble("agora.matcher.weight.poh", d.poh()),
                cfg.getDouble("agora.matcher.weight.locality", d.locality()));
        long refPrice = cfg.getLong("agora.market.reference.price", REFERENCE_PRICE_MICROS);
        Map<String, Set<String>> allow = new HashMap<>();
        Map<String, Long> stakes = new HashMap<>();
        Map<String, Integer> faults = new HashMap<>();
        Map<String, Long> pohPrices = new HashMap<>();
        Map<String, Long> graces = new HashMap<>();
        cfg.asMap().forEach((k, v) -> {
            if (k.startsWith("agora.pool.") && k.endsWith(".poh.price.micros")) {
                long micros = Math.max(0, Long.parseLong(v.trim()));
                if (micros > 0) {
                    pohPrices.put(k.substring("agora.pool.".length(), k.length() - ".poh.price.micros".length()), micros);
                }
            }
            if (k.startsWith("agora.pool.") && k.endsWith(".unmatched.grace.ms")) {
                graces.put(k.substring("agora.pool.".length(), k.length() - ".unmatched.grace.ms".length()),
                        Math.max(0, Long.parseLong(v.trim())));
            }
            if (k.startsWith("agora.pool.") && k.endsWith(".bft.f")) {
                faults.put(k.substring("agora.pool.".length(), k.length() - ".bft.f".length()),
                        Math.max(1, Integer.parseInt(v.trim())));
            }
            if (k.startsWith("agora.pool.") && k.endsWith(".min.stake.micros")) {
                stakes.put(k.substring("agora.pool.".length(), k.length() - ".min.stake.micros".length()),
                        Math.max(0, Long.parseLong(v.trim())));
            }
            if (k.startsWith("agora.pool.") && k.endsWith(".allowlist")) {
                String pool = k.substring("agora.pool.".length(), k.length() - ".allowlist".length());
                allow.put(pool, Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                        .collect(Collectors.toUnmodifiableSet()));
            }
        });
        return new MarketRules(w, cfg.getLong("agora.matcher.starter.grant.micros", STARTER_SECONDS * refPrice), allow,
                stakes, faults, Math.max(0, cfg.getLong("agora.market.dispute.fee.micros", DISPUTE_FEE_MICROS)), pohPrices,
                graces, Math.max(0, cfg.getLong("agora.market.unmatched.grace.ms", UNMATCHED_GRACE_MS)));
    }

    /** The allowlist of a trusted pool, or null when the pool is open to every registered worker. */
    public Set<String> allowlist(String pool) {
        return allowlists.get(pool);
    }

    public boolean trusted(String pool) {
        return allowlists.containsKey(pool);
    }

    public MarketRules withAllowlist(String pool, Set<String> workers) {
        Map<String, Set<String>> a = new HashMap<>(allowlists);
        a.put(pool, Set.copyOf(workers));
        return new MarketRules(weights, starterGrantMicros, a, minStakes, bftFaults, disputeFeeMicros, pohPrices,
                unmatchedGraces, unmatchedGraceMs);
    }

    /** The bond a worker must keep to be registered in {@code pool} (0: none). */
    public long minStakeMicros(String pool) {
        return minStakes.getOrDefault(pool, 0L);
    }

    public MarketRules withMinStake(String pool, long micros) {
        return new MarketRules(weights, starterGrantMicros, allowlists, plus(minStakes, pool, micros), bftFaults,
                disputeFeeMicros, pohPrices,
                unmatchedGraces, unmatchedGraceMs);
    }

    /** The f of a {@code bft} job in {@code pool}: n = 3f + 1 replicas tolerate f faulty workers (1 when unset). */
    public int bftFaults(String pool) {
        return bftFaults.getOrDefault(pool, 1);
    }

    public MarketRules withBftFaults(String pool, int f) {
        Map<String, Integer> m = new HashMap<>(bftFaults);
        m.put(pool, Math.max(1, f));
        return new MarketRules(weights, starterGrantMicros, allowlists, minStakes, m, disputeFeeMicros, pohPrices,
                unmatchedGraces, unmatchedGraceMs);
    }

    /** What {@code pool}'s workers may charge per cpu-second per reference speed ({@link Pricing#cpuPriceBound}); 0: no bound. */
    public long pohPriceMicros(String pool) {
        return pohPrices.getOrDefault(pool, 0L);
    }

    public MarketRules withPohPrice(String pool, long micros) {
        return new MarketRules(weights, starterGrantMicros, allowlists, minStakes, bftFaults, disputeFeeMicros,
                plus(pohPrices, pool, micros), unmatchedGraces, unmatchedGraceMs);
    }

    /**
     * How long a queued job of {@code pool} that no registered worker of the pool could ever run
     * ({@link Eligibility#nobodyMayTake}) waits, by the matcher's clock, before it ends EXPIRED saying why,
     * its escrow refunded; a worker that registers meanwhile and could run it takes it. 0: such a job
     * waits for its queue timeout.
     */
    public long unmatchedGraceMs(String pool) {
        return unmatchedGraces.getOrDefault(pool, unmatchedGraceMs);
    }

    public MarketRules withUnmatchedGrace(String pool, long ms) {
        return new MarketRules(weights, starterGrantMicros, allowlists, minStakes, bftFaults, disputeFeeMicros, pohPrices,
                plus(unmatchedGraces, pool, ms), unmatchedGraceMs);
    }

    /** {@code m} with {@code pool} set to {@code value}. */
    private static <V> Map<String, V> plus(Map<String, V> m, String pool, V value) {
        Map<String, V> out = new HashMap<>(m);
        out.put(pool, value);
        return out;
    }
}
