package io.agora.market;

import io.agora.events.JobRequested;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What matching would do with a job right now, for ingest-api's {@code POST /api/v1/match}:
 * the workers it would choose, with score and explain, and why every other worker of the pool
 * was left out. When fewer than asked are free, it also names the best of the busy workers that
 * would qualify once a slot frees up (where a queued job would go next). Works on any snapshot of
 * the registry ({@link WorkerView}s).
 */
public final class MatchPreview {
    /** A worker left out and why. */
    public record Excluded(String workerId, String reason) {
    }

    /**
     * @param chosen   the workers matching would choose now, best first
     * @param waiting  when fewer than asked are chosen, the best busy workers that pass every other
     *                 requirement (scored as if one slot were free), best first; they are not in {@code excluded}
     * @param excluded every other worker, with the first requirement it fails
     * @param eligibleNow how many workers could be chosen now
     */
    public record Preview(List<Matching.Choice> chosen, List<Matching.Choice> waiting, List<Excluded> excluded,
                          int eligibleNow, boolean placeable) {
    }

    private MatchPreview() {
    }

    public static Preview of(JobRequested job, Iterable<WorkerView> workers, Set<String> allowlist, Scoring.Weights weights) {
        return of(MatchRequest.of(job, job.getRedundancy(), Set.of(), allowlist), workers, weights);
    }

    /** The best {@code req.count()} workers for the request; placeable when that many are eligible. */
    public static Preview of(MatchRequest req, Iterable<WorkerView> workers, Scoring.Weights weights) {
        List<Matching.Choice> chosen = Matching.best(req, workers, weights);
        List<Excluded> excluded = new ArrayList<>();
        List<WorkerView> busy = new ArrayList<>();
        int all = 0;
        for (WorkerView w : workers) {
            all++;
            String why = Eligibility.rejection(req, w);
            if (why != null) {
                excluded.add(new Excluded(w.workerId(), why));
                if (Eligibility.NO_FREE_SLOT.equals(why)) {
                    busy.add(new WorkerView(w.workerId(), w.pool(), w.online(), w.capabilities(),
                            w.pricePerCpuSecondMicros(), 1, w.reputation(), w.ownedPartitions(), w.load(), w.avgLatencyMs(),
                            w.stakeMicros(), w.imageDigests()));
                }
            }
        }
        int eligibleNow = all - excluded.size();
        List<Matching.Choice> waiting = List.of();
        int missing = req.count() - chosen.size();
        if (missing > 0 && !busy.isEmpty()) {
            MatchRequest rest = new MatchRequest(req.spec(), req.requirements(), missing, req.excluded(), req.allowlist());
            waiting = Matching.best(rest, busy, weights);
            Set<String> ids = new java.util.HashSet<>();
            waiting.forEach(c -> ids.add(c.worker().workerId()));
            excluded.removeIf(e -> ids.contains(e.workerId()));
        }
        return new Preview(chosen, waiting, excluded, eligibleNow, chosen.size() >= req.count());
    }
}
