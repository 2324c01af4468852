package io.agora.matcher;

import java.util.Map;
import java.util.TreeMap;

/**
 * The pool's waiting jobs in placement order (higher priority first, then oldest: the order of their queue
 * keys), kept apart by need: the fewest free workers that could place the job (a queued job's replicas go
 * all at once, a running job's one by one). A drain walks only the jobs whose need the free workers can
 * meet ({@link #next}), in key order across needs, so a freed slot costs the jobs it tries, not the backlog:
 * with a backlog of thousands of 3-replica jobs and one retry waiting, the old single queue walked every
 * job on every result (the matcher's largest cost at 64 slots per worker, issue 11).
 */
final class PoolQueue {
    private final TreeMap<Integer, TreeMap<String, String>> byNeed = new TreeMap<>();
    private final Map<String, Integer> needOfKey = new java.util.HashMap<>();

    /** Queues the job {@code jobId} under {@code key} with that need (at least 1); a key already queued is left as it is. */
    void add(String key, String jobId, int need) {
        if (needOfKey.putIfAbsent(key, Math.max(1, need)) == null) {
            byNeed.computeIfAbsent(Math.max(1, need), n -> new TreeMap<>()).put(key, jobId);
        }
    }

    void remove(String key) {
        Integer need = needOfKey.remove(key);
        if (need != null) {
            TreeMap<String, String> q = byNeed.get(need);
            q.remove(key);
            if (q.isEmpty()) {
                byNeed.remove(need);
            }
        }
    }

    int size() {
        return needOfKey.size();
    }

    boolean isEmpty() {
        return needOfKey.isEmpty();
    }

    /** Whether some queued job needs no more than {@code free} free workers. */
    boolean anyWithin(int free) {
        return !byNeed.isEmpty() && byNeed.firstKey() <= free;
    }

    /**
     * The first queue key after {@code after} (null: from the start) of a job needing at most {@code free}
     * free workers, null when none.
     */
    String next(String after, int free) {
        String best = null;
        for (TreeMap<String, String> q : byNeed.headMap(free, true).values()) {
            String k = after == null ? q.firstKey() : q.higherKey(after);
            if (k != null && (best == null || k.compareTo(best) < 0)) {
                best = k;
            }
        }
        return best;
    }

    /** The job queued under {@code key}, null when none. */
    String jobAt(String key) {
        Integer need = needOfKey.get(key);
        return need == null ? null : byNeed.get(need).get(key);
    }
}
