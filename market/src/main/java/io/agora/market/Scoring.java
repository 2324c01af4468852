package io.agora.market;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;

import java.util.Locale;

/**
 * Ranks eligible workers for a job:
 * {@code w_cap*cap_fit + w_price*price_norm + w_latency*latency_norm + w_trust*trust + w_load*load_norm},
 * every term in [0, 1]:
 * <ul>
 *   <li>cap_fit: best fit, the mean over cpu and memory (and gpus when asked for) of needed / offered,
 *   so a worker just big enough scores 1 and big machines stay free for big jobs;</li>
 *   <li>price_norm: 1 - worker price / the client's max price (cheaper is better);</li>
 *   <li>latency_norm: 1 - average result latency / job timeout, 0.5 while unknown;</li>
 *   <li>trust: {@link Trust#of} the reputation;</li>
 *   <li>load_norm: 1 - reported load.</li>
 * </ul>
 * Equal scores are ordered by worker id, so matching is deterministic.
 */
public final class Scoring {
    public static final double UNKNOWN_LATENCY = 0.5;

    /** Scoring weights; the defaults are 0.40/0.20/0.20/0.15/0.05. */
    public record Weights(double cap, double price, double latency, double trust, double load) {
        public static Weights defaults() {
            return new Weights(0.40, 0.20, 0.20, 0.15, 0.05);
        }
    }

    /** The five terms of one worker's score. */
    public record Terms(double cap, double price, double latency, double trust, double load) {
        public double total(Weights w) {
            return w.cap() * cap + w.price() * price + w.latency() * latency + w.trust() * trust + w.load() * load;
        }

        public String explain() {
            return String.format(Locale.ROOT, "cap=%.2f price=%.2f latency=%.2f trust=%.2f load=%.2f",
                    cap, price, latency, trust, load);
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
                + weights.load() * (1.0 - clamp(w.load()));
    }

    public static Terms terms(MatchRequest req, WorkerView w) {
        return new Terms(capFit(req.spec(), req.requirements(), w.capabilities()),
                priceNorm(w.pricePerCpuSecondMicros(), req.requirements().getMaxPricePerCpuSecondMicros()),
                latencyNorm(w.avgLatencyMs(), req.spec().getTimeoutMs()),
                Trust.of(w.reputation()),
                1.0 - clamp(w.load()));
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
