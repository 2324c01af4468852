package io.agora.matcher;

import io.agora.events.JobRequested;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What matching would do with a job right now, for ingest-api's {@code POST /api/v1/match}:
 * the workers it would choose, with score and explain, and why every other worker of the pool
 * was left out. Works on any snapshot of the registry ({@link WorkerView}s).
 */
public final class MatchPreview {
    /** A worker left out and why. */
    public record Excluded(String workerId, String reason) {
    }

    public record Preview(List<Matching.Choice> chosen, List<Excluded> excluded, boolean placeable) {
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
        for (WorkerView w : workers) {
            String why = Eligibility.rejection(req, w);
            if (why != null) {
                excluded.add(new Excluded(w.workerId(), why));
            }
        }
        return new Preview(chosen, excluded, chosen.size() >= req.count());
    }
}
