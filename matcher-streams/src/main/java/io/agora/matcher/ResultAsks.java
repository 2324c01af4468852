package io.agora.matcher;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which results the job input gate asks Streams to commit at once ({@code runtime} {@code Commits}): those
 * the pool stage answers with something another hop waits on. A result ends its lease and frees its worker's
 * slot; the verifier reads it from its own topic, not through the matcher. The pool stage answers it with a
 * task (what a worker waits on) only when a job of its pool waits for a worker (the freed slot lets the queue
 * drain), and a hand-back always (the task goes to its worker's other partitions or to another worker, or
 * its replica fails). Any other result rides the commit interval's commit: nobody waits on it, and asking
 * for it made three of the four asks of a job at the matcher's front.
 * <p>
 * The gate reads by job and does not see a pool's queue, which is the pool stage's (another sub-topology,
 * perhaps another stream thread): the pool stages of this process say, after each input and tick, whether a
 * job waits in each pool they hold ({@link #waits}). It is a hint. A pool no stage of this process holds (on
 * another instance, or moving) counts as waiting, so its results ask as before; a job that has begun to wait
 * but that its stage has not read yet costs the slot freed in between at most one commit interval.
 */
final class ResultAsks {
    private final Map<String, Boolean> waiting = new ConcurrentHashMap<>();

    /** The pool stage, after an input or a tick: whether a job of {@code pool} waits for a worker. */
    void waits(String pool, boolean jobWaits) {
        if (!Boolean.valueOf(jobWaits).equals(waiting.get(pool))) {
            waiting.put(pool, jobWaits);
        }
    }

    /** The pool stage lets go of {@code pool} (its task closes): unknown again, its results ask. */
    void forget(String pool) {
        waiting.remove(pool);
    }

    /** Whether a result of {@code status} for {@code pool} asks for a commit at once. */
    boolean asks(String pool, String status) {
        return "HANDED_BACK".equals(status) || !Boolean.FALSE.equals(waiting.get(pool));
    }
}
