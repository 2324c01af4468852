package io.agora.runtime;

import org.apache.kafka.streams.processor.api.ProcessorContext;

import java.util.HashMap;
import java.util.Map;

/**
 * When a stage of a streams app asks Streams for an exactly-once commit at once, instead of waiting
 * for {@code commit.interval.ms}: only for a record that is fresh, one written less than
 * {@link #FRESH_MS} ago, and at most once per {@link #GAP_MS} for each stage (sub-topology) of a
 * stream thread. The matcher asks when a job moves, the verifier when it reaches a verdict. A stream thread that has a commit requested commits after every pass of
 * its loop and then halves the records it takes per task in the next pass, so a request for every
 * record of a backlog made the matcher commit after every record: at saturation it placed about 50
 * jobs a second, its pool stage fell behind the worker grace and called every worker offline. A
 * record from a backlog needs no commit of its own: more follow, and the interval's commit carries
 * them all. A caught-up stage still commits as soon as a job moves. The record's time is only a
 * hint here (a worker's clock, for its results): a wrong one costs at most one commit interval.
 * <p>
 * Every commit is a transaction: an offset record for each input partition its tasks ever consumed
 * (moved or not), a marker on each partition it wrote, {@code __transaction_state} records, and a
 * flush of every cached store. At saturation a record arrives every few ms, so asking for each made
 * a commit of every pass of the loop, and commits nearly half of the log offsets of a job. The gap
 * keeps a stage's commits at most {@value #GAP_MS} ms apart; a record the gap holds back waits
 * for the stage's next ask or the interval's commit, whichever comes first. It is per stage, not
 * per thread: a job's consecutive hops on one thread (the matcher's admission, then its placement
 * behind the repartition topic) are different sub-topologies and each still commits at once.
 */
public final class Commits {
    /** A record older than this was read from a backlog (two and a half default commit intervals). */
    public static final long FRESH_MS = 250;
    /** The least time between two commits at once asked by one stage of one stream thread (half the default interval). */
    public static final long GAP_MS = 50;

    /** Per stream thread: when each sub-topology last asked for a commit. */
    private static final ThreadLocal<Map<Integer, Long>> ASKED = ThreadLocal.withInitial(HashMap::new);

    private Commits() {
    }

    /** Whether a record stamped {@code recordTs} is fresh at {@code now}. */
    public static boolean fresh(long now, long recordTs) {
        return now - recordTs < FRESH_MS;
    }

    /** Whether a stage that last asked at {@code lastAsked} (null: never) may ask again at {@code now}. */
    static boolean due(long now, Long lastAsked) {
        return lastAsked == null || now - lastAsked >= GAP_MS || now < lastAsked;
    }

    /** Asks for a commit after this loop if the record stamped {@code recordTs} is fresh (and the gap allows). */
    public static void soon(ProcessorContext<?, ?> ctx, long recordTs) {
        if (fresh(ctx.currentSystemTimeMs(), recordTs)) {
            ask(ctx);
        }
    }

    /** Asks for a commit after this loop unless this stage of this thread asked less than {@link #GAP_MS} ago. */
    public static void ask(ProcessorContext<?, ?> ctx) {
        long now = ctx.currentSystemTimeMs();
        Map<Integer, Long> asked = ASKED.get();
        int stage = ctx.taskId().subtopology();
        if (due(now, asked.get(stage))) {
            asked.put(stage, now);
            ctx.commit();
        }
    }
}
