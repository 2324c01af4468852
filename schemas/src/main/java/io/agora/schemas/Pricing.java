package io.agora.schemas;

import io.agora.events.JobSpec;

/**
 * Money rules shared by the precheck (ingest-api), admission (matcher) and settlement
 * (verifier). All amounts are micro-credits; all arithmetic is integer.
 * <ul>
 *   <li>cpu units = max(1, ceil(cpus)).</li>
 *   <li>maximum cost = max price per cpu-second x ceil(timeout in s) x cpu units x maxTotalResults:
 *   every replica the job may ever run, extra replicas included, is covered before any
 *   task is sent.</li>
 *   <li>payout of one agreeing replica = min(worker price, max price) x min(duration, timeout) ms
 *   x cpu units / 1000, rounded down; so no payout exceeds its share of the escrow.</li>
 * </ul>
 */
public final class Pricing {
    private Pricing() {
    }

    public static long cpuUnits(double cpus) {
        return Math.max(1L, (long) Math.ceil(cpus));
    }

    public static long maxCost(JobSpec spec, long maxPricePerCpuSecondMicros, int maxTotalResults) {
        long seconds = (spec.getTimeoutMs() + 999) / 1000;
        return Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(maxPricePerCpuSecondMicros, seconds),
                cpuUnits(spec.getCpus())), maxTotalResults);
    }

    public static long payout(long workerPrice, long maxPrice, long durationMs, long timeoutMs, double cpus) {
        long price = Math.min(workerPrice, maxPrice);
        long ms = Math.max(0, Math.min(durationMs, timeoutMs));
        return Math.multiplyExact(Math.multiplyExact(price, ms), cpuUnits(cpus)) / 1000;
    }
}
