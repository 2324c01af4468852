package io.agora.market;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;

import java.util.Locale;

/**
 * Ranks eligible workers for a job:
 * {@code w_cap*cap_fit + w_price*price_norm + w_latency*latency_norm + w_trust*trust + w_load*load_norm
 * + w_stake*stake_norm + w_poh*poh_norm + w_locality*locality}, every term in [0, 1]:
 * <ul>
 *   <li>cap_fit: best fit, the mean over cpu and memory (and gpus when asked for) of needed / offered,
 *   so a worker just big enough scores 1 and big machines stay free for big jobs;</li>
 *   <li>price_norm: 1 - worker price / the client's max price (cheaper is better);</li>
 *   <li>latency_norm: 1 - average result latency / job timeout, 0.5 while unknown;</li>
 *   <li>trust: {@link Trust#of} the reputation;</li>
 *   <li>load_norm: 1 - reported load;</li>
 *   <li>stake_norm: bonded stake / (bonded stake + the job's budget per replica ({@link Pricing#replicaShare})):
 *   0 without a bond, 0.5 for a bond worth what the replica may earn, towards 1 for a bond far above it,
 *   so what counts is how much a worker would lose against what it can win by lying;</li>
 *   <li>poh_norm: checked proof-of-hardware score / (that score + {@link #POH_REFERENCE}): 0 for a worker
 *   whose proof did not check (or that sent none), 0.5 at the reference speed;</li>
 *   <li>locality: 1 when the worker reported holding the job's image digest (no pull needed), else 0.</li>
 * </ul>
 * Equal scores are ordered by worker id, so matching is deterministic.
 */
public final class Scoring {
    public static final double UNKNOWN_LATENCY = 0.5;
    /**
     * The checked proof-of-hardware score (thousands of SHA-256 steps per second) at which poh_norm is
     * 0.5: about one core of a current x86 server.
     */
    public static final double POH_REFERENCE = 1000.0;

    /**
     * Scoring weights; the defaults are 0.40/0.20/0.20/0.15/0.05 and, for the stake, proof-of-hardware
     * and locality terms, 0.10/0.05/0.15.
     */
    public record Weights(double cap, double price, double latency, double trust, double load, double stake,
                          double poh, double locality) {
        /** The five original terms only (stake, proof of hardware and locality weigh nothing). */
        public Weights(double cap, double price, double latency, double trust, double load) {
            this(cap, price, latency, trust, load, 0, 0, 0);
        }

        public static Weights defaults() {
            return new Weights(0.40, 0.20, 0.20, 0.15, 0.05, 0.10, 0.05, 0.15);
        }
    }

    /** The eight terms of one worker's score. */
    public record Terms(double cap, double price, double latency, double trust, double load, double stake,
                        double poh, double locality) {
        public double total(Weights w) {
            return w.cap() * cap + w.price() * price + w.latency() * latency + w.trust() * trust + w.load() * load
                    + w.stake() * stake + w.poh() * poh + w.locality() * locality;
        }

        public String explain() {
            return String.format(Locale.ROOT,
                    "cap=%.2f price=%.2f latency=%.2f trust=%.2f load=%.2f stake=%.2f poh=%.2f locality=%.0f",
                    cap, price, latency, trust, load, stake, poh, locality);
        }
    }

    private Scoring() {
    }

    /** The score alone, without allocating the terms (the matching hot path). */
    public static double score(MatchRequest req, WorkerView w, Weights weights) {
        return weights.cap() * capFit(req.spec(), req.requirements(), w.capabilities())
                + weights.price() * priceNorm(w.pricePerCpuSecondMicros(), req.requirements().getMaxPricePerCpuSecondMicros())
                + weights.latency() * latencyNorm(w.avgLatencyMs(), req.spec().getTimeoutMs())
                + weights.trust() * Trust.of(w.reputation())
                + weights.load() * (1.0 - clamp(w.load()))
                + weights.stake() * stakeNorm(w.stakeMicros(),
                        Pricing.replicaShare(req.spec(), Pricing.Rates.ceilings(req.requirements())))
                + weights.poh() * pohNorm(w.capabilities().getBenchmarkScore())
                + weights.locality() * locality(w.imageDigests(), imageDigest(req.spec().getImage()));
    }

    public static Terms terms(MatchRequest req, WorkerView w) {
        return new Terms(capFit(req.spec(), req.requirements(), w.capabilities()),
                priceNorm(w.pricePerCpuSecondMicros(), req.requirements().getMaxPricePerCpuSecondMicros()),
                latencyNorm(w.avgLatencyMs(), req.spec().getTimeoutMs()),
                Trust.of(w.reputation()),
                1.0 - clamp(w.load()),
                stakeNorm(w.stakeMicros(), Pricing.replicaShare(req.spec(), Pricing.Rates.ceilings(req.requirements()))),
                pohNorm(w.capabilities().getBenchmarkScore()),
                locality(w.imageDigests(), imageDigest(req.spec().getImage())));
    }

    /** stake / (stake + replica share), in [0, 1); 0 without a bond. */
    static double stakeNorm(long stakeMicros, long replicaShare) {
        if (stakeMicros <= 0) {
            return 0.0;
        }
        return clamp((double) stakeMicros / ((double) stakeMicros + Math.max(1L, replicaShare)));
    }

    /** score / (score + {@link #POH_REFERENCE}), in [0, 1); 0 for an unchecked (0) score. */
    static double pohNorm(double checkedScore) {
        return checkedScore > 0 ? clamp(checkedScore / (checkedScore + POH_REFERENCE)) : 0.0;
    }

    /** 1 when the worker holds {@code digest} (null: the image names no digest, nothing to hold), else 0. */
    static double locality(java.util.Set<String> held, String digest) {
        return digest != null && held.contains(digest) ? 1.0 : 0.0;
    }

    /**
     * The content digest an image reference pins ({@code name@sha256:<hex>} gives {@code sha256:<hex>}),
     * or null when it names none (a tag): what workers report holding in their heartbeats.
     */
    public static String imageDigest(String image) {
        if (image == null) {
            return null;
        }
        int at = image.lastIndexOf('@');
        return at < 0 || at == image.length() - 1 ? null : image.substring(at + 1);
    }

    static double capFit(JobSpec spec, Requirements r, WorkerCapabilities c) {
        double cpu = fit(Math.max(1, Math.max(r.getMinCpuCores(), (int) Math.ceil(spec.getCpus()))), c.getCpuCores());
        double mem = fit(Math.max(1, Math.max(r.getMinMemoryMb(), spec.getMemoryMb())), c.getMemoryMb());
        int neededGpus = Eligibility.neededGpus(spec, r);
        if (neededGpus > 0 || r.getGpuModel() != null) {
            double gpu = fit(Math.max(1, neededGpus), gpuCount(c.getGpus()));
            return (cpu + mem + gpu) / 3.0;
        }
        return (cpu + mem) / 2.0;
    }

    /** A worker's gpus of every model, summed. */
    static int gpuCount(java.util.List<io.agora.events.GpuInfo> gpus) {
        int n = 0;
        for (io.agora.events.GpuInfo g : gpus) {
            n += g.getCount();
        }
        return n;
    }

    static double priceNorm(long price, long maxPrice) {
        if (maxPrice <= 0) {
            return 1.0;
        }
        return clamp(1.0 - (double) price / maxPrice);
    }

    static double latencyNorm(double avgLatencyMs, long timeoutMs) {
        if (avgLatencyMs < 0 || Double.isNaN(avgLatencyMs)) {
            return UNKNOWN_LATENCY;
        }
        return clamp(1.0 - avgLatencyMs / Math.max(1L, timeoutMs));
    }

    private static double fit(double needed, double offered) {
        return offered <= 0 ? 0.0 : clamp(needed / offered);
    }

    static double clamp(double v) {
        return Double.isNaN(v) ? 0.0 : Math.max(0.0, Math.min(1.0, v));
    }
}
