package io.agora.ingest.market;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;

import java.util.Locale;

/**
 * The match score, same formula and default weights as the matcher
 * ({@code 0.40 cap + 0.20 price + 0.20 latency + 0.15 trust + 0.05 load}), each term in [0, 1]:
 * <ul>
 *   <li>cap: how snugly the job fits the machine (needed/offered cpu and memory, averaged), so big
 *   machines stay free for big jobs;</li>
 *   <li>price: 1 − worker price / client ceiling;</li>
 *   <li>latency: 1 − heartbeat delivery latency / 5 s;</li>
 *   <li>trust: reputation through a logistic curve (0 reputation = 0.5);</li>
 *   <li>load: 1 − reported load.</li>
 * </ul>
 * This is the preview's own copy; the matcher's {@code io.agora.matcher.Scoring} decides placement.
 */
public record Scoring(double wCap, double wPrice, double wLatency, double wTrust, double wLoad) {
    public static final Scoring DEFAULT = new Scoring(0.40, 0.20, 0.20, 0.15, 0.05);

    public Score score(WorkerState w, JobSpec spec, Requirements r) {
        var c = w.capabilities();
        double cpuNeed = Math.max(spec.getCpus(), r.getMinCpuCores());
        double memNeed = Math.max(spec.getMemoryMb(), r.getMinMemoryMb());
        double cap = (clamp(cpuNeed / Math.max(1, c.getCpuCores())) + clamp(memNeed / Math.max(1, c.getMemoryMb()))) / 2;
        long price = w.pricePerCpuSecondMicros() > 0 ? w.pricePerCpuSecondMicros() : c.getPricePerCpuSecondMicros();
        double priceNorm = clamp(1.0 - (double) price / Math.max(1, r.getMaxPricePerCpuSecondMicros()));
        double latency = clamp(1.0 - w.latencyMs() / 5000.0);
        double trust = 1.0 / (1.0 + Math.exp(-w.reputation() / 50.0));
        double load = clamp(1.0 - w.load());
        double total = wCap * cap + wPrice * priceNorm + wLatency * latency + wTrust * trust + wLoad * load;
        String explain = String.format(Locale.ROOT,
                "cap=%.2f*%.2f price=%.2f*%.2f latency=%.2f*%.2f trust=%.2f*%.2f load=%.2f*%.2f",
                wCap, cap, wPrice, priceNorm, wLatency, latency, wTrust, trust, wLoad, load);
        return new Score(total, explain);
    }

    private static double clamp(double v) {
        return Double.isNaN(v) ? 0 : Math.max(0, Math.min(1, v));
    }

    public record Score(double value, String explain) {
    }
}
