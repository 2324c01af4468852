package io.agora.matcher;

import io.agora.market.Eligibility;
import io.agora.market.FreeIndex;
import io.agora.matcher.PoolState.Worker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One pool's worker registry, with the index of its free workers: those matchable with a free slot,
 * the only ones {@link Eligibility} can accept, so matching looks at these alone and "is there a free
 * slot" is O(1). The {@link FreeIndex} groups them by machine shape, each group by the price of the
 * view the worker was indexed with ({@link Worker#freeKey}); every change of a worker goes through
 * {@link #put}, which re-indexes that one worker (out under the key it went in with, in under its new
 * view), never the pool.
 */
final class PoolRegistry {
    private final Map<String, Worker> workers = new HashMap<>();
    private final FreeIndex free = new FreeIndex();

    Worker get(String workerId) {
        return workers.get(workerId);
    }

    /** Stores the worker after a change of its fields, and re-indexes it. */
    void put(Worker w) {
        w.changed();
        Worker old = workers.put(w.workerId, w);
        if (old != null && old != w) {
            unindex(old);
        }
        unindex(w);
        if (w.hasFreeSlot()) {
            w.freeKey = w.view();
            free.add(w.freeKey);
        }
    }

    /** Takes the worker out of the registry; null when it was not in it. */
    Worker remove(String workerId) {
        Worker w = workers.remove(workerId);
        if (w != null) {
            unindex(w);
        }
        return w;
    }

    /** Every worker, as a copy (the caller may change the registry while going through it). */
    List<Worker> all() {
        return new ArrayList<>(workers.values());
    }

    /** The free workers: matching can choose no other. */
    FreeIndex free() {
        return free;
    }

    int freeCount() {
        return free.size();
    }

    private void unindex(Worker w) {
        if (w.freeKey != null) {
            free.remove(w.freeKey);
            w.freeKey = null;
        }
    }
}
