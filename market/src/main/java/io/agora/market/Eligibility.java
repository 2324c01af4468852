package io.agora.market;

import io.agora.events.GpuInfo;
import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;
import io.agora.schemas.AllowedImages;
import io.agora.schemas.PullAllowlist;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The hard filter of matching: a worker either passes every requirement of the job or is not
 * considered at all. {@link #rejection} names the first requirement it fails, which is what the
 * match preview shows a client.
 */
public final class Eligibility {
    /** The rejection of a worker that passes everything else only once a slot frees up. */
    public static final String NO_FREE_SLOT = "no free slot";
    /**
     * How the matcher's REPLICA_FAILED begins when no worker of the pool could ever take the replica
     * ({@link #mayTakeLater}): the verifier then stops asking for replicas and says so.
     */
    public static final String NO_ELIGIBLE_WORKER = "no eligible worker left";
    /** The distinct reasons {@link #nobodyMayTake} names before it counts the rest together (a reason stays short). */
    static final int MAX_REASONS = 5;
    /**
     * The reason of the verifier's REQUEST_REPLICAS for a dispute's re-run. Those replicas are never failed as
     * {@link #NO_ELIGIBLE_WORKER}: they need workers that ran none of the job, which a pool whose own workers
     * formed the disputed quorum gets only when fresh ones join, so they wait for one until the job's deadline
     * (the dispute is decided then at the latest).
     */
    public static final String DISPUTE_REPLICAS = "dispute";
    /** How the rejection of a worker that would refuse to pull the job's image begins; the image's name follows. */
    public static final String PULL_ALLOWLIST = "pull allowlist excludes ";
    /** How the rejection of a worker whose allowed images do not admit the job's image begins; the image follows. */
    public static final String ALLOWED_IMAGES = "allowed images exclude ";

    private Eligibility() {
    }

    public static boolean eligible(MatchRequest req, WorkerView w) {
        return rejection(req, w) == null;
    }

    /** Null when the worker may take a replica of the job, else why not. */
    public static String rejection(MatchRequest req, WorkerView w) {
        Requirements r = req.requirements();
        JobSpec spec = req.spec();
        WorkerCapabilities c = w.capabilities();
        if (!w.online()) {
            return "offline";
        }
        if (req.excluded().contains(w.workerId())) {
            return "already holds or failed a replica of this job";
        }
        if (!r.getPool().equals(w.pool())) {
            return "in pool " + w.pool();
        }
        if (req.allowlist() != null && !req.allowlist().contains(w.workerId())) {
            return "not on allowlist of pool " + r.getPool();
        }
        if (w.ownedPartitions().isEmpty()) {
            return "owns no task partition";
        }
        if (w.freeSlots() <= 0) {
            return NO_FREE_SLOT;
        }
        if (c.getCpuCores() < Math.max(r.getMinCpuCores(), (int) Math.ceil(spec.getCpus()))) {
            return "too few cpu cores";
        }
        if (c.getMemoryMb() < Math.max(r.getMinMemoryMb(), spec.getMemoryMb())) {
            return "too little memory";
        }
        if (!gpusMatch(r, neededGpus(spec, r), c.getGpus())) {
            return "no matching gpu";
        }
        if (r.getAccelerator() != null && !c.getAccelerators().contains(r.getAccelerator())) {
            return "no accelerator " + r.getAccelerator();
        }
        if (r.getRegion() != null && !r.getRegion().equals(c.getRegion())) {
            return "in region " + c.getRegion();
        }
        if (!c.getTags().containsAll(r.getTagsAll())) {
            return "missing tags";
        }
        if (!r.getTagsAny().isEmpty() && r.getTagsAny().stream().noneMatch(c.getTags()::contains)) {
            return "none of the tags";
        }
        if (!r.getCapabilitiesAny().isEmpty() && r.getCapabilitiesAny().stream().noneMatch(c.getCapabilities()::contains)) {
            return "none of the capabilities";
        }
        if (spec.getNetwork() && !c.getAllowNetwork()) {
            return "no network";
        }
        Optional<String> refused = AllowedImages.excluded(c.getAllowedImages(), spec.getImage());
        if (refused.isPresent()) {
            return ALLOWED_IMAGES + refused.get();
        }
        Optional<String> unpullable = PullAllowlist.excluded(c.getPullAllowlist(), spec.getImage());
        if (unpullable.isPresent()) {
            return PULL_ALLOWLIST + unpullable.get();
        }
        Pricing.Rates ceilings = Pricing.Rates.ceilings(r);
        String price = new Pricing.Rates(w.pricePerCpuSecondMicros(), c.getPricePerGpuSecondMicros(),
                c.getPricePerGbSecondMicros()).aboveCeiling(ceilings, spec);
        if (price != null) {
            return price;
        }
        long share = Pricing.replicaShare(spec, ceilings);
        if (c.getMinPricePerJobMicros() > share) {
            return "per-job minimum " + c.getMinPricePerJobMicros() + " above the job's budget per replica " + share;
        }
        if (w.reputation() < r.getMinReputation()) {
            return "reputation below " + r.getMinReputation();
        }
        return null;
    }

    /**
     * Whether {@code w} could take a replica of the job once it is free, online and owns a partition: what a
     * busy or briefly silent worker may still do. False when a lasting reason rules it out (its hardware, its
     * prices, its pool, or it already held a replica of the job).
     */
    public static boolean mayTakeLater(MatchRequest req, WorkerView w) {
        return lastingRejection(req, w) == null;
    }

    /** Null when {@code w} {@link #mayTakeLater may take a replica later}, else the lasting reason it never can. */
    public static String lastingRejection(MatchRequest req, WorkerView w) {
        return rejection(req, new WorkerView(w.workerId(), w.pool(), true, w.capabilities(), w.pricePerCpuSecondMicros(),
                Math.max(1, w.freeSlots()), w.reputation(), w.ownedPartitions().isEmpty() ? List.of(0) : w.ownedPartitions(),
                w.load(), w.avgLatencyMs(), w.stakeMicros(), w.imageDigests()));
    }

    /**
     * Null when one of {@code workers} (a pool's registered workers, busy, silent and cooling ones included)
     * {@link #mayTakeLater may take a replica of the job later}; else why none ever can, each lasting reason
     * once with the workers it rules out, most first: {@code no worker in pool gpu can run it: no matching
     * gpu (3 workers), too little memory (1 worker)}, or {@code ...: none registered}. The matcher ends a
     * queued job with this reason once it has held for the pool's grace ({@link MarketRules#unmatchedGraceMs}).
     */
    public static String nobodyMayTake(MatchRequest req, Iterable<WorkerView> workers, String pool) {
        Map<String, Integer> reasons = new HashMap<>();
        for (WorkerView w : workers) {
            String why = lastingRejection(req, w);
            if (why == null) {
                return null;
            }
            reasons.merge(why, 1, Integer::sum);
        }
        StringBuilder out = new StringBuilder("no worker in pool " + pool + " can run it: ");
        if (reasons.isEmpty()) {
            return out.append("none registered").toString();
        }
        List<Map.Entry<String, Integer>> most = new ArrayList<>(reasons.entrySet());
        most.sort(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        for (int i = 0; i < most.size(); i++) {
            if (i == MAX_REASONS) {
                int rest = most.subList(i, most.size()).stream().mapToInt(Map.Entry::getValue).sum();
                out.append(", other reasons (").append(workers(rest)).append(')');
                break;
            }
            Map.Entry<String, Integer> e = most.get(i);
            out.append(i == 0 ? "" : ", ").append(e.getKey()).append(" (").append(workers(e.getValue())).append(')');
        }
        return out.toString();
    }

    private static String workers(int n) {
        return n + (n == 1 ? " worker" : " workers");
    }

    /** GPUs a worker must have: the requirement's minimum, or the container's own request if larger. */
    public static int neededGpus(JobSpec spec, Requirements r) {
        return Math.max(r.getMinGpuCount(), spec.getGpus());
    }

    /** Whether the gpus of the requirement's model and vram number at least {@code needed} (and at least one when any gpu filter is set). */
    static boolean gpusMatch(Requirements r, int needed, List<GpuInfo> gpus) {
        if (r.getGpuModel() == null && needed <= 0 && r.getMinGpuVramMb() <= 0) {
            return true;
        }
        int count = 0;
        for (GpuInfo g : gpus) {
            boolean model = r.getGpuModel() == null || r.getGpuModel().equalsIgnoreCase(g.getModel());
            if (model && g.getVramMb() >= r.getMinGpuVramMb()) {
                count += g.getCount();
            }
        }
        return count >= Math.max(1, needed);
    }
}
