package io.agora.market;

import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.Requirements;
import io.agora.events.TaskAssigned;
import io.agora.events.WorkerCapabilities;

/**
 * Money rules shared by the precheck (ingest-api), admission (matcher) and settlement
 * (verifier). All amounts are micro-credits; all arithmetic is integer.
 * A job uses three resources, each priced per second: cpu units at a price per cpu-second, GPUs
 * ({@code spec.gpus}) at a price per GPU-second and memory in GiB units at a price per GiB-second
 * ({@link Rates}). The client's ceilings ({@code Requirements}) are one {@code Rates}, the worker's
 * prices another; a price the client leaves at 0 pays nothing for that resource, and matching only
 * gives the job to workers whose price for each resource the job uses is within its ceiling
 * ({@link Eligibility}).
 * <ul>
 *   <li>cpu units = max(1, ceil(cpus)); GPU units = gpus; memory units = ceil(memoryMb / 1024).</li>
 *   <li>price per second of a job at given rates = cpu rate x cpu units + GPU rate x GPU units +
 *   memory rate x memory units; every figure below with one rate is this sum per resource.</li>
 *   <li>maximum cost = price per second at the ceilings x ceil(timeout in s) x maxTotalResults:
 *   every replica the job may ever run, extra replicas included, is covered before any
 *   task is sent.</li>
 *   <li>replica share = price per second at the ceilings x ceil(timeout in s): the part of the
 *   escrow one replica may earn.</li>
 *   <li>payout of one agreeing replica = per resource, min(worker price, ceiling) x units x
 *   min(duration, timeout) ms / 1000 rounded down ({@link #breakdown}), summed, raised to the
 *   worker's per-job minimum, capped at the replica share; so no payout exceeds its share of the
 *   escrow. Matching gives a job only to workers whose per-job minimum fits in its replica share.</li>
 * </ul>
 */
public final class Pricing {
    private Pricing() {
    }

    /** Prices per second of each resource, micro-credits: per cpu-second, per GPU-second, per GiB-second of memory. */
    public record Rates(long cpuMicros, long gpuMicros, long memoryGibMicros) {
        public static Rates cpuOnly(long cpuMicros) {
            return new Rates(cpuMicros, 0, 0);
        }

        /** The client's ceilings. */
        public static Rates ceilings(Requirements r) {
            return new Rates(r.getMaxPricePerCpuSecondMicros(), r.getMaxPricePerGpuSecondMicros(), r.getMaxPricePerGbSecondMicros());
        }

        /** The client's ceilings as the job's tasks carry them. */
        public static Rates ceilings(JobTerms t) {
            return new Rates(t.getMaxPricePerCpuSecondMicros(), t.getMaxPricePerGpuSecondMicros(), t.getMaxPricePerGbSecondMicros());
        }

        /** The worker's prices. */
        public static Rates prices(WorkerCapabilities c) {
            return new Rates(c.getPricePerCpuSecondMicros(), c.getPricePerGpuSecondMicros(), c.getPricePerGbSecondMicros());
        }

        /** The worker's prices at assignment, as its task carries them. */
        public static Rates prices(TaskAssigned t) {
            return new Rates(t.getPricePerCpuSecondMicros(), t.getPricePerGpuSecondMicros(), t.getPricePerGbSecondMicros());
        }

        /**
         * Why a worker at {@code this} price may not take a job under {@code ceilings}: the first
         * resource the job uses whose price is above its ceiling; null when none is.
         */
        public String aboveCeiling(Rates ceilings, JobSpec spec) {
            if (cpuMicros > ceilings.cpuMicros) {
                return "price " + cpuMicros + " above max " + ceilings.cpuMicros;
            }
            if (gpuUnits(spec) > 0 && gpuMicros > ceilings.gpuMicros) {
                return "GPU-second price " + gpuMicros + " above max " + ceilings.gpuMicros;
            }
            if (memoryUnits(spec) > 0 && memoryGibMicros > ceilings.memoryGibMicros) {
                return "GiB-second price " + memoryGibMicros + " above max " + ceilings.memoryGibMicros;
            }
            return null;
        }

        /** Each resource at the lower of the two prices: what a worker is paid under a client's ceilings. */
        public Rates min(Rates other) {
            return new Rates(Math.min(cpuMicros, other.cpuMicros), Math.min(gpuMicros, other.gpuMicros),
                    Math.min(memoryGibMicros, other.memoryGibMicros));
        }
    }

    /** A replica's cost per resource, micro-credits. */
    public record Breakdown(long cpuMicros, long gpuMicros, long memoryMicros) {
        public long totalMicros() {
            return Math.addExact(Math.addExact(cpuMicros, gpuMicros), memoryMicros);
        }
    }

    public static long cpuUnits(double cpus) {
        return Math.max(1L, (long) Math.ceil(cpus));
    }

    public static long gpuUnits(JobSpec spec) {
        return Math.max(0, spec.getGpus());
    }

    public static long memoryUnits(JobSpec spec) {
        return Math.max(0, ((long) spec.getMemoryMb() + 1023) / 1024);
    }

    /** The job's price per second at {@code rates}, all its resources together. */
    public static long perSecond(JobSpec spec, Rates rates) {
        return Math.addExact(Math.addExact(Math.multiplyExact(rates.cpuMicros(), cpuUnits(spec.getCpus())),
                Math.multiplyExact(rates.gpuMicros(), gpuUnits(spec))),
                Math.multiplyExact(rates.memoryGibMicros(), memoryUnits(spec)));
    }

    public static long maxCost(JobSpec spec, long maxPricePerCpuSecondMicros, int maxTotalResults) {
        return maxCost(spec, Rates.cpuOnly(maxPricePerCpuSecondMicros), maxTotalResults);
    }

    public static long maxCost(JobSpec spec, Rates ceilings, int maxTotalResults) {
        long seconds = (spec.getTimeoutMs() + 999) / 1000;
        return Math.multiplyExact(Math.multiplyExact(perSecond(spec, ceilings), seconds), maxTotalResults);
    }

    /** What one replica may earn at most; {@link Long#MAX_VALUE} when that does not fit in a long. */
    public static long replicaShare(JobSpec spec, long maxPricePerCpuSecondMicros) {
        return replicaShare(spec, Rates.cpuOnly(maxPricePerCpuSecondMicros));
    }

    public static long replicaShare(JobSpec spec, Rates ceilings) {
        try {
            return maxCost(spec, ceilings, 1);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * What a replica that ran {@code durationMs} (capped at the timeout) earns per resource at the
     * worker's prices under the ceilings, each part rounded down, {@link Long#MAX_VALUE} when it does
     * not fit in a long; before the per-job minimum and the cap.
     */
    public static Breakdown breakdown(Rates worker, Rates ceilings, long durationMs, JobSpec spec) {
        Rates price = worker.min(ceilings);
        long ms = Math.max(0, Math.min(durationMs, spec.getTimeoutMs()));
        return new Breakdown(saturated(price.cpuMicros(), ms, cpuUnits(spec.getCpus())),
                saturated(price.gpuMicros(), ms, gpuUnits(spec)), saturated(price.memoryGibMicros(), ms, memoryUnits(spec)));
    }

    /**
     * The payout of an agreeing replica: the sum of its {@link #breakdown}, raised to the worker's
     * per-job minimum, capped at the replica share.
     */
    public static long payout(Rates worker, long minPerJob, Rates ceilings, long durationMs, JobSpec spec) {
        long byTime;
        try {
            byTime = breakdown(worker, ceilings, durationMs, spec).totalMicros();
        } catch (ArithmeticException e) {
            // worth more than a long holds, so more than the share it is capped at: the cap is exact
            byTime = Long.MAX_VALUE;
        }
        return Math.min(Math.max(byTime, minPerJob), Math.max(0, replicaShare(spec, ceilings)));
    }

    private static long saturated(long price, long ms, long units) {
        try {
            return byTime(price, ms, units);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static long byTime(long price, long ms, long units) {
        return Math.multiplyExact(Math.multiplyExact(price, ms), units) / 1000;
    }

    /** {@link #payout(long, long, long, long, double)} raised to the worker's per-job minimum, capped at the replica share. */
    public static long payout(long workerPrice, long minPerJob, long maxPrice, long durationMs, JobSpec spec) {
        return payout(Rates.cpuOnly(workerPrice), minPerJob, Rates.cpuOnly(maxPrice), durationMs, spec);
    }

    public static long payout(long workerPrice, long maxPrice, long durationMs, long timeoutMs, double cpus) {
        long ms = Math.max(0, Math.min(durationMs, timeoutMs));
        return byTime(Math.min(workerPrice, maxPrice), ms, cpuUnits(cpus));
    }

    /**
     * The price per cpu-second a worker claiming {@code claimedMicros} is held to in a pool that bounds prices by
     * proof of hardware ({@code perReferenceMicros} &gt; 0, {@code agora.pool.<name>.poh.price.micros}): at most
     * {@code perReferenceMicros} times its speed relative to the reference, checked score /
     * {@link Scoring#POH_REFERENCE}, never counted below 1 (a worker whose proof did not check, or that sent none,
     * may still charge the pool's reference price: proving a slow machine costs nothing more than not proving).
     * Per-second prices compare machines of one speed; this bound makes a price above the reference one the
     * checked hardware has to earn. The bound is the price matching ranks, the task carries and the verifier pays.
     * {@code perReferenceMicros} &lt;= 0: the claimed price.
     */
    public static long cpuPriceBound(long claimedMicros, double checkedScore, long perReferenceMicros) {
        if (perReferenceMicros <= 0) {
            return claimedMicros;
        }
        double speed = checkedScore > Scoring.POH_REFERENCE ? checkedScore / Scoring.POH_REFERENCE : 1.0;
        double cap = Math.floor(perReferenceMicros * speed);
        return cap >= claimedMicros ? claimedMicros : (long) cap;
    }
}
