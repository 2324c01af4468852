package io.agora.matcher;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Picks the best distinct eligible workers for a job: hard filter ({@link Eligibility}), then
 * the top {@code count} by {@link Scoring} with a bounded heap (O(W log n), no full sort), ties
 * broken by worker id. The explain string is built only for the winners.
 */
public final class Matching {
    /** One chosen worker, with its score and the terms behind it. */
    public record Choice(WorkerView worker, double score, String explain) {
    }

    private record Candidate(WorkerView worker, double score) {
    }

    /** Best first: higher score, then smaller worker id. */
    private static final Comparator<Candidate> BEST_FIRST = Comparator
            .comparingDouble(Candidate::score).reversed()
            .thenComparing(c -> c.worker().workerId());

    private Matching() {
    }

    /** Up to {@code req.count()} workers, best first; fewer when fewer are eligible. */
    public static List<Choice> best(MatchRequest req, Iterable<WorkerView> workers, Scoring.Weights weights) {
        int n = Math.max(0, req.count());
        if (n == 0) {
            return List.of();
        }
        PriorityQueue<Candidate> heap = new PriorityQueue<>(n + 1, BEST_FIRST.reversed());
        for (WorkerView w : workers) {
            if (!Eligibility.eligible(req, w)) {
                continue;
            }
            double score = Scoring.score(req, w, weights);
            if (heap.size() < n) {
                heap.add(new Candidate(w, score));
            } else if (better(score, w, heap.peek())) {
                heap.poll();
                heap.add(new Candidate(w, score));
            }
        }
        List<Candidate> top = new ArrayList<>(heap);
        top.sort(BEST_FIRST);
        List<Choice> out = new ArrayList<>(top.size());
        for (Candidate c : top) {
            out.add(new Choice(c.worker(), c.score(), Scoring.terms(req, c.worker()).explain()));
        }
        return out;
    }

    private static boolean better(double score, WorkerView w, Candidate worst) {
        return score > worst.score() || (score == worst.score() && w.workerId().compareTo(worst.worker().workerId()) < 0);
    }

    /** The task partition of a worker to write a task to: spread by task id over the partitions it owns. */
    public static int partitionFor(String taskId, List<Integer> owned) {
        if (owned.isEmpty()) {
            throw new IllegalArgumentException("worker owns no partition");
        }
        return owned.get(Math.floorMod(taskId.hashCode(), owned.size()));
    }
}
