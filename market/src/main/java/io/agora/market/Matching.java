package io.agora.market;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;
import io.agora.schemas.AllowedImages;
import io.agora.schemas.ImageRef;
import io.agora.schemas.PullAllowlist;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Picks the best distinct eligible workers for a job: hard filter ({@link Eligibility}), then
 * the top {@code count} by {@link Scoring}, ties broken by worker id. The explain string is built
 * only for the winners.
 *
 * <p>The hot loop allocates nothing per worker: the request's constants are computed once
 * ({@link Prepared}), the cheap and selective checks come first, the top {@code n} are kept in two
 * small arrays (sorted, best first), and a worker whose score cannot reach the current n-th best
 * is dropped early: first by an upper bound from the view's own fields (capability fit at the
 * bound of its shape group, or 1, and trust at its maximum), before its capabilities are even read, then by one with the real fit, before
 * its trust (the term that needs {@link Math#exp}) and the list checks (tags, gpus, accelerators). The
 * decision is exactly that of "every eligible worker, {@link Scoring#score}, sort by score then
 * worker id, take n": the score of a kept worker is computed with the same arithmetic in the
 * same order, and floating-point addition is monotonic, so the bound never drops a worker that
 * would have been chosen. Over a pool's {@link FreeIndex} whole shape groups, and the dearer
 * end of each group, are skipped by the same kind of bound.
 */
public final class Matching {
    /** One chosen worker, with its score and the terms behind it. */
    public record Choice(WorkerView worker, double score, String explain) {
    }

    /** Added to the price-ordered bound, so that rounding can never make it cut off an exact tie. */
    private static final double BOUND_MARGIN = 1e-9;

    private Matching() {
    }

    /** Up to {@code req.count()} workers, best first; fewer when fewer are eligible. Any worker order. */
    public static List<Choice> best(MatchRequest req, Iterable<WorkerView> workers, Scoring.Weights weights) {
        return best(req, workers, weights, false);
    }

    /**
     * {@link #best}, the same decision, for workers given in ascending price order
     * ({@link WorkerView#pricePerCpuSecondMicros}, e.g. by {@link #PRICE_ORDER}): the scan stops at
     * the first worker dearer than the request's ceiling, and as soon as no worker at or above the
     * current price can reach (or tie) the current n-th best score. Throws
     * {@link IllegalArgumentException} if it meets a worker cheaper than the one before it.
     */
    public static List<Choice> bestPriceOrdered(MatchRequest req, Iterable<WorkerView> byPrice, Scoring.Weights weights) {
        return best(req, byPrice, weights, true);
    }

    /** Ascending price, then worker id: the order {@link #bestPriceOrdered} expects. */
    public static final Comparator<WorkerView> PRICE_ORDER = Comparator
            .comparingLong(WorkerView::pricePerCpuSecondMicros).thenComparing(WorkerView::workerId);

    /**
     * {@link #best}, the same decision, over a pool's {@link FreeIndex}: groups of the wrong region,
     * too small or all over the price ceiling are never opened; the others are visited best bound
     * first, each is skipped whole when even its cheapest worker as a perfect fit of its shape with
     * full trust, latency and load could not reach (or tie) the current n-th best, and inside a group
     * the scan stops at the first price that cannot.
     */
    public static List<Choice> best(MatchRequest req, FreeIndex index, Scoring.Weights weights) {
        int n = Math.max(0, req.count());
        if (n == 0 || index.isEmpty()) {
            return List.of();
        }
        Prepared p = new Prepared(req, weights);
        Top top = new Top(p, n);
        FreeIndex.Group[] groups = new FreeIndex.Group[index.groupCount()];
        double[] capTerms = new double[groups.length];
        double[] bounds = new double[groups.length];
        Integer[] order = new Integer[groups.length];
        int count = 0;
        for (FreeIndex.Group g : index.groups()) {
            if (!p.shapeEligible(g) || g.byPrice.isEmpty()) {
                continue;
            }
            long cheapest = g.byPrice.first().pricePerCpuSecondMicros();
            if (cheapest > p.maxPrice) {
                continue;
            }
            groups[count] = g;
            capTerms[count] = p.capTermBound(g);
            bounds[count] = p.bound(capTerms[count], cheapest);
            order[count] = count;
            count++;
        }
        // best bound first (O(g log g) in the number of shape groups; small indexes box nothing)
        java.util.Arrays.sort(order, 0, count, (a, b) -> Double.compare(bounds[b], bounds[a]));
        for (int i = 0; i < count; i++) {
            int g = order[i];
            if (top.full() && bounds[g] < top.worstScore()) {
                break; // groups are in descending bound order: no later one can reach the n-th best
            }
            top.scan(groups[g].byPrice, true, capTerms[g]);
        }
        return top.choices(req);
    }

    private static List<Choice> best(MatchRequest req, Iterable<WorkerView> workers, Scoring.Weights weights,
                                     boolean byPrice) {
        int n = Math.max(0, req.count());
        if (n == 0) {
            return List.of();
        }
        Prepared p = new Prepared(req, weights);
        Top top = new Top(p, n);
        top.scan(workers, byPrice, p.maxCapTerm);
        return top.choices(req);
    }

    /** The n best so far, in two small arrays sorted best first, and the scan that fills them. */
    private static final class Top {
        final Prepared p;
        final Scoring.Weights weights;
        final int n;
        final WorkerView[] topW;
        final double[] topS;
        int size;

        Top(Prepared p, int n) {
            this.p = p;
            this.weights = p.weights;
            this.n = n;
            topW = new WorkerView[n];
            topS = new double[n];
        }

        boolean full() {
            return size == n;
        }

        double worstScore() {
            return topS[n - 1];
        }

        /**
         * Offers the workers in turn; {@code capTerm} bounds {@code w_cap * cap_fit} of every one of
         * them. With {@code byPrice} they must come in ascending price order, and the scan stops at
         * the ceiling or at the first price whose bound falls below the n-th best (when
         * {@code w_price >= 0}, so that the price term cannot grow with the price).
         */
        void scan(Iterable<WorkerView> workers, boolean byPrice, double capTerm) {
            boolean stopEarly = byPrice && weights.price() >= 0;
            long lastPrice = Long.MIN_VALUE;
            long boundPrice = Long.MIN_VALUE;
            double bound = Double.POSITIVE_INFINITY;
            for (WorkerView w : workers) {
                if (byPrice) {
                    long price = w.pricePerCpuSecondMicros();
                    if (price < lastPrice) {
                        throw new IllegalArgumentException("workers not in ascending price order at " + w.workerId());
                    }
                    lastPrice = price;
                    if (price > p.maxPrice) {
                        break; // this worker and every later one is over the ceiling (Eligibility)
                    }
                    if (stopEarly && size == n) {
                        if (price != boundPrice) {
                            boundPrice = price;
                            bound = p.bound(capTerm, price);
                        }
                        if (bound < topS[n - 1]) {
                            break; // no worker at this price or above can reach, or tie, the n-th best
                        }
                    }
                }
                offer(w, capTerm);
            }
        }

        private void offer(WorkerView w, double capTerm) {
            if (!p.viewEligible(w)) {
                return;
            }
            // the terms of Scoring.score that need only the view; capFit is bounded, trust at most 1
            double priceTerm = weights.price() * Scoring.priceNorm(w.pricePerCpuSecondMicros(), p.maxPrice);
            double latencyTerm = weights.latency() * Scoring.latencyNorm(w.avgLatencyMs(), p.timeoutMs);
            double load = weights.load() * (1.0 - Scoring.clamp(w.load()));
            if (size == n && p.maxExtras(capTerm + priceTerm + latencyTerm + p.maxTrustTerm + load) < topS[n - 1]) {
                return; // cannot reach the n-th best even as a perfect fit with full trust
            }
            if (!p.capabilitiesEligible(w)) {
                return;
            }
            // the first three terms, added as Scoring.score adds them
            double head = weights.cap() * p.capFit(w.capabilities()) + priceTerm + latencyTerm;
            if (size == n && p.maxExtras(head + p.maxTrustTerm + load) < topS[n - 1]) {
                return; // cannot reach the n-th best even with full trust
            }
            if (!p.costlyEligible(w)) {
                return;
            }
            double score = p.extras(head + weights.trust() * Trust.of(w.reputation()) + load, w);
            if (size == n && !better(score, w, topS[n - 1], topW[n - 1])) {
                return;
            }
            // insert into the sorted arrays, dropping the last when full
            int i = size == n ? n - 1 : size++;
            while (i > 0 && better(score, w, topS[i - 1], topW[i - 1])) {
                topS[i] = topS[i - 1];
                topW[i] = topW[i - 1];
                i--;
            }
            topS[i] = score;
            topW[i] = w;
        }

        List<Choice> choices(MatchRequest req) {
            List<Choice> out = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                out.add(new Choice(topW[i], topS[i], Scoring.terms(req, topW[i]).explain()));
            }
            return out;
        }
    }

    /** Higher score first, then the smaller worker id. */
    private static boolean better(double score, WorkerView w, double otherScore, WorkerView other) {
        int c = Double.compare(score, otherScore);
        return c > 0 || (c == 0 && w.workerId().compareTo(other.workerId()) < 0);
    }

    /**
     * The task partition of a worker to write a task to: the lowest it owns, whatever the task. All
     * of a worker's tasks then share one partition, so a matcher transaction touches one task
     * partition per worker it dispatches to, not one per task: each partition in a transaction
     * costs the broker an AddPartitionsToTxn entry and a commit marker, which dominated its work
     * when a few workers owned hundreds of partitions. ({@code taskId} is no longer used; the
     * callers still pass it.)
     */
    public static int partitionFor(String taskId, List<Integer> owned) {
        if (owned.isEmpty()) {
            throw new IllegalArgumentException("worker owns no partition");
        }
        return Collections.min(owned);
    }

    /**
     * The request's constants, computed once per decision; its two checks together are exactly
     * {@link Eligibility#eligible}.
     */
    private static final class Prepared {
        final Requirements r;
        final JobSpec spec;
        final Set<String> excluded;
        final Set<String> allowlist;
        final String pool;
        final String region;
        final String accelerator;
        final int neededCpu;
        final long neededMem;
        final long maxPrice;
        final long replicaShare;
        /** The GPU-second and GiB-second ceilings, {@link Long#MAX_VALUE} when the job uses no GPU / no memory. */
        final long maxGpuPrice;
        final long maxMemoryPrice;
        final long minReputation;
        final long timeoutMs;
        final boolean network;
        final boolean gpuAsked;
        final boolean gpuFilter;
        final double cpuNeed;
        final double memNeed;
        final double gpuNeed;
        final int neededGpus;
        final double maxTrustTerm;
        final double maxCapTerm;
        final double maxLatencyTerm;
        final double maxLoadTerm;
        final double maxStakeTerm;
        final double maxPohTerm;
        final double maxLocalityTerm;
        /** The job's image digest, null when it names none. */
        final String digest;
        /** The job's image when a worker pulls it (it names a registry), for the workers' pull allowlists; else null. */
        final ImageRef pulled;
        /** The job's image and its repository ({@link AllowedImages#repository}), for the workers' allowed images. */
        final String image;
        final String repository;
        final Scoring.Weights weights;

        Prepared(MatchRequest req, Scoring.Weights weights) {
            this.weights = weights;
            r = req.requirements();
            spec = req.spec();
            excluded = req.excluded().isEmpty() ? null : req.excluded();
            allowlist = req.allowlist();
            pool = r.getPool();
            region = r.getRegion();
            accelerator = r.getAccelerator();
            neededCpu = Math.max(r.getMinCpuCores(), (int) Math.ceil(spec.getCpus()));
            neededMem = Math.max(r.getMinMemoryMb(), spec.getMemoryMb());
            maxPrice = r.getMaxPricePerCpuSecondMicros();
            replicaShare = Pricing.replicaShare(spec, Pricing.Rates.ceilings(r));
            maxGpuPrice = Pricing.gpuUnits(spec) > 0 ? r.getMaxPricePerGpuSecondMicros() : Long.MAX_VALUE;
            maxMemoryPrice = Pricing.memoryUnits(spec) > 0 ? r.getMaxPricePerGbSecondMicros() : Long.MAX_VALUE;
            minReputation = r.getMinReputation();
            timeoutMs = spec.getTimeoutMs();
            network = spec.getNetwork();
            neededGpus = Eligibility.neededGpus(spec, r);
            gpuAsked = neededGpus > 0 || r.getGpuModel() != null;
            gpuFilter = r.getGpuModel() != null || neededGpus > 0 || r.getMinGpuVramMb() > 0;
            // the same values Scoring.capFit computes
            cpuNeed = Math.max(1, Math.max(r.getMinCpuCores(), (int) Math.ceil(spec.getCpus())));
            memNeed = Math.max(1, Math.max(r.getMinMemoryMb(), spec.getMemoryMb()));
            gpuNeed = Math.max(1, neededGpus);
            // Trust.of is in [0, 1]
            maxTrustTerm = Math.max(weights.trust() * 0.0, weights.trust() * 1.0);
            // capFit is in [0, 1] too
            maxCapTerm = Math.max(weights.cap() * 0.0, weights.cap() * 1.0);
            // latency_norm and load_norm are in [0, 1] as well
            maxLatencyTerm = Math.max(weights.latency() * 0.0, weights.latency() * 1.0);
            maxLoadTerm = Math.max(weights.load() * 0.0, weights.load() * 1.0);
            // and so are stake_norm, poh_norm and locality
            maxStakeTerm = Math.max(weights.stake() * 0.0, weights.stake() * 1.0);
            maxPohTerm = Math.max(weights.poh() * 0.0, weights.poh() * 1.0);
            maxLocalityTerm = Math.max(weights.locality() * 0.0, weights.locality() * 1.0);
            digest = Scoring.imageDigest(spec.getImage());
            pulled = ImageRef.parse(spec.getImage()).filter(ImageRef::hasRegistry).orElse(null);
            image = spec.getImage();
            repository = AllowedImages.repository(image);
        }

        /** {@code sum} plus the stake, proof-of-hardware and locality terms, added as {@link Scoring#score} adds them. */
        double extras(double sum, WorkerView w) {
            return sum + weights.stake() * Scoring.stakeNorm(w.stakeMicros(), replicaShare)
                    + weights.poh() * Scoring.pohNorm(w.capabilities().getBenchmarkScore())
                    + weights.locality() * Scoring.locality(w.imageDigests(), digest);
        }

        /** {@code sum} plus those three terms at their maximum, in the same order: an upper bound of {@link #extras}. */
        double maxExtras(double sum) {
            return sum + maxStakeTerm + maxPohTerm + maxLocalityTerm;
        }

        /**
         * An upper bound of the score of every worker priced {@code price} or more whose
         * {@code w_cap * cap_fit} is at most {@code capTerm}: every other term at its maximum, added
         * in {@link Scoring#score}'s order. With {@code w_price >= 0} price_norm does not grow with
         * the price (with a negative weight the price term is at most 0); floating-point addition
         * and multiplication by a non-negative weight are monotonic, so no such worker scores above
         * it. The margin only makes the bound looser.
         */
        double bound(double capTerm, long price) {
            double priceTerm = weights.price() >= 0 ? weights.price() * Scoring.priceNorm(price, maxPrice) : 0.0;
            double sum = maxExtras(capTerm + priceTerm + maxLatencyTerm + maxTrustTerm + maxLoadTerm);
            return sum + BOUND_MARGIN;
        }

        /** Whether a worker of the group's shape can pass the region, size and gpu-count checks. */
        boolean shapeEligible(FreeIndex.Group g) {
            FreeIndex.Shape s = g.shape;
            if (region != null && !region.equals(s.region())) {
                return false;
            }
            if (s.cores() < neededCpu || g.memoryHigh < neededMem) {
                return false;
            }
            // gpusMatch counts a subset of the gpus: at least one, and at least the minimum, needed
            return !gpuFilter || s.gpus() >= Math.max(1, neededGpus);
        }

        /**
         * An upper bound of {@code w_cap * cap_fit} for every eligible worker of the group: cpu and
         * gpu fit are those of its shape exactly; an eligible worker's memory is at least the
         * octave's low end and at least the need, so its memory fit is at most need / that.
         */
        double capTermBound(FreeIndex.Group g) {
            FreeIndex.Shape s = g.shape;
            double cpu = fit(cpuNeed, s.cores());
            long least = Math.max(g.memoryLow, neededMem);
            double mem = least <= 0 ? 1.0 : fit(memNeed, least);
            double capBound = gpuAsked ? (cpu + mem + fit(gpuNeed, s.gpus())) / 3.0 : (cpu + mem) / 2.0;
            return Math.max(weights.cap() * 0.0, weights.cap() * capBound);
        }

        /** The checks on the view's own fields (no dereference), the most selective first. */
        boolean viewEligible(WorkerView w) {
            return w.online() && w.freeSlots() > 0 && w.pricePerCpuSecondMicros() <= maxPrice
                    && w.reputation() >= minReputation;
        }

        /** The checks on the capabilities' plain fields, the pool and the request's worker sets. */
        boolean capabilitiesEligible(WorkerView w) {
            WorkerCapabilities c = w.capabilities();
            if (c == null) {
                return false; // Eligibility would fail on it
            }
            if (c.getCpuCores() < neededCpu || c.getMemoryMb() < neededMem) {
                return false;
            }
            if (region != null && !region.equals(c.getRegion())) {
                return false;
            }
            if (!pool.equals(w.pool()) || w.ownedPartitions().isEmpty()) {
                return false;
            }
            if (network && !c.getAllowNetwork()) {
                return false;
            }
            if (c.getPricePerGpuSecondMicros() > maxGpuPrice || c.getPricePerGbSecondMicros() > maxMemoryPrice) {
                return false; // Pricing.Rates.aboveCeiling
            }
            if (c.getMinPricePerJobMicros() > replicaShare) {
                return false; // the worker's own policy: its per-job minimum does not fit the job's budget
            }
            if (excluded != null && excluded.contains(w.workerId())) {
                return false;
            }
            return allowlist == null || allowlist.contains(w.workerId());
        }

        /** The checks on lists (gpus, accelerators, tags, capabilities). */
        boolean costlyEligible(WorkerView w) {
            WorkerCapabilities c = w.capabilities();
            if (gpuFilter && !Eligibility.gpusMatch(r, neededGpus, c.getGpus())) {
                return false;
            }
            if (accelerator != null && !c.getAccelerators().contains(accelerator)) {
                return false;
            }
            if (!AllowedImages.admits(c.getAllowedImages(), image, repository)) {
                return false;
            }
            if (pulled != null && c.getPullAllowlist() != null && !PullAllowlist.admits(c.getPullAllowlist(), pulled)) {
                return false;
            }
            List<String> all = r.getTagsAll();
            if (!all.isEmpty() && !c.getTags().containsAll(all)) {
                return false;
            }
            List<String> any = r.getTagsAny();
            if (!any.isEmpty() && !containsAny(c.getTags(), any)) {
                return false;
            }
            List<String> caps = r.getCapabilitiesAny();
            return caps.isEmpty() || containsAny(c.getCapabilities(), caps);
        }

        private static boolean containsAny(List<String> have, List<String> wanted) {
            for (String s : wanted) {
                if (have.contains(s)) {
                    return true;
                }
            }
            return false;
        }

        /** {@link Scoring#capFit} with the request's needs computed once. */
        double capFit(WorkerCapabilities c) {
            double cpu = fit(cpuNeed, c.getCpuCores());
            double mem = fit(memNeed, c.getMemoryMb());
            if (gpuAsked) {
                double gpu = fit(gpuNeed, Scoring.gpuCount(c.getGpus()));
                return (cpu + mem + gpu) / 3.0;
            }
            return (cpu + mem) / 2.0;
        }

        private static double fit(double needed, double offered) {
            return offered <= 0 ? 0.0 : Scoring.clamp(needed / offered);
        }
    }
}
