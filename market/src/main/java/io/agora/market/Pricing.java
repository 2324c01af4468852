package io.agora.market;

import io.agora.events.JobSpec;

/**
 * Money rules shared by the precheck (ingest-api), admission (matcher) and settlement
 * (verifier). All amounts are micro-credits; all arithmetic is integer.
 * <ul>
 *   <li>cpu units = max(1, ceil(cpus)).</li>
 *   <li>maximum cost = max price per cpu-second x ceil(timeout in s) x cpu units x maxTotalResults:
 *   every replica the job may ever run, extra replicas included, is covered before any
 *   task is sent.</li>
 *   <li>replica share = max price per cpu-second x ceil(timeout in s) x cpu units: the part of the
 *   escrow one replica may earn.</li>
 *   <li>payout of one agreeing replica = min(worker price, max price) x min(duration, timeout) ms
 *   x cpu units / 1000, rounded down, raised to the worker's per-job minimum, capped at the replica
 *   share; so no payout exceeds its share of the escrow. Matching gives a job only to workers whose
 *   per-job minimum fits in its replica share.</li>
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

    /** What one replica may earn at most; {@link Long#MAX_VALUE} when that does not fit in a long. */
    public static long replicaShare(JobSpec spec, long maxPricePerCpuSecondMicros) {
        try {
            return maxCost(spec, maxPricePerCpuSecondMicros, 1);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** {@link #payout(long, long, long, long, double)} raised to the worker's per-job minimum, capped at the replica share. */
    public static long payout(long workerPrice, long minPerJob, long maxPrice, long durationMs, JobSpec spec) {
        long byTime;
        try {
            byTime = payout(workerPrice, maxPrice, durationMs, spec.getTimeoutMs(), spec.getCpus());
        } catch (ArithmeticException e) {
            // worth more than a long holds, so more than the share it is capped at: the cap is exact
            byTime = Long.MAX_VALUE;
        }
        return Math.min(Math.max(byTime, minPerJob), Math.max(0, replicaShare(spec, maxPrice)));
    }

    public static long payout(long workerPrice, long maxPrice, long durationMs, long timeoutMs, double cpus) {
        long price = Math.min(workerPrice, maxPrice);
        long ms = Math.max(0, Math.min(durationMs, timeoutMs));
        return Math.multiplyExact(Math.multiplyExact(price, ms), cpuUnits(cpus)) / 1000;
    }
}
