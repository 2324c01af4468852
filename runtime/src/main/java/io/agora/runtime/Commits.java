package io.agora.runtime;

import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;

import java.time.Duration;
import java.time.Instant;
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
 * keeps a stage's commits at most {@value #GAP_MS} ms apart. An ask the gap holds back is carried
 * ({@link #carryAt}): a one-shot wall-clock punctuation of the asking task at the gap's end asks
 * again, so the record commits then, not at the interval's commit, which a stream thread takes only
 * when its loop runs: after a lone record, up to a poll wait ({@code AGORA_STREAMS_POLL_MS}) later.
 * A punctuation too runs only when the loop does, so the thread's poll waits no longer than until
 * its earliest carried ask ({@link #pollWaitMs}, {@link StreamsClients}). One carried ask a stage at
 * a time: the stage's asks held until then ride on it, and an ask any stage of the thread is granted
 * before it fires cancels it (that commit carries what it waited for: a thread commits all its tasks). It is per stage, not per thread: a job's consecutive hops
 * on one thread (the matcher's admission, then its placement behind the repartition topic) are
 * different sub-topologies and each still commits at once.
 */
public final class Commits {
    /** A record older than this was read from a backlog (two and a half default commit intervals). */
    public static final long FRESH_MS = 250;
    /** The least time between two commits at once asked by one stage of one stream thread (half the default interval). */
    public static final long GAP_MS = 50;

    /** Per stream thread: each sub-topology's asks. */
    private static final ThreadLocal<Map<Integer, Stage>> STAGES = ThreadLocal.withInitial(HashMap::new);

    /** A stage's last granted ask and the carried one waiting for the gap's end ({@code carriedAt}), if any. */
    private static final class Stage {
        Long lastAsked;
        Cancellable carried;
        long carriedAt;
    }

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

    /**
     * When an ask held back by a stage's ask at {@code lastAsked} is made: the gap's end, and never before the
     * next ms of the wall clock ({@code wallNow}). The stage's times are Streams' cached loop time, which can lag
     * the wall clock by more than the gap, and Streams puts off a punctuation whose start has passed by a whole
     * interval.
     */
    static long carryAt(long lastAsked, long wallNow) {
        return Math.max(lastAsked + GAP_MS, wallNow + 1);
    }

    /**
     * How long a poll for {@code wantedMs} may wait with a carried ask due at {@code carriedAt}: until the ask is
     * due, so a stream thread with nothing to read wakes for it; a ms once it is due (its punctuation runs after
     * this poll; a ms, not none, so that a punctuation Streams put off is waited for without spinning); as long
     * as wanted when it is due for a gap or more, as only a task closed since (its punctuation gone) leaves it
     * waiting that long.
     */
    static long pollWaitMs(long wantedMs, long now, long carriedAt) {
        if (carriedAt > now) {
            return Math.min(wantedMs, carriedAt - now);
        }
        return now - carriedAt < GAP_MS ? Math.min(wantedMs, 1) : wantedMs;
    }

    /** How long this stream thread's poll may wait for {@code wantedMs}: bounded by its stages' carried asks. */
    static long pollWaitMs(long wantedMs, long now) {
        long wait = wantedMs;
        for (Stage s : STAGES.get().values()) {
            if (s.carried != null) {
                wait = Math.min(wait, pollWaitMs(wantedMs, now, s.carriedAt));
            }
        }
        return wait;
    }

    /** Asks for a commit after this loop if the record stamped {@code recordTs} is fresh (and the gap allows, else at its end). */
    public static void soon(ProcessorContext<?, ?> ctx, long recordTs) {
        if (fresh(ctx.currentSystemTimeMs(), recordTs)) {
            ask(ctx);
        }
    }

    /**
     * Asks for a commit after this loop unless this stage of this thread asked less than {@link #GAP_MS} ago;
     * then at the gap's end, by a wall-clock punctuation of {@code ctx}'s task.
     */
    public static void ask(ProcessorContext<?, ?> ctx) {
        long now = ctx.currentSystemTimeMs();
        Stage s = STAGES.get().computeIfAbsent(ctx.taskId().subtopology(), k -> new Stage());
        if (due(now, s.lastAsked)) {
            grant(ctx, s, now);
        } else if (s.carried == null) {
            long at = carryAt(s.lastAsked, System.currentTimeMillis());
            Cancellable[] self = new Cancellable[1];
            self[0] = ctx.schedule(Instant.ofEpochMilli(at), Duration.ofMillis(GAP_MS),
                    PunctuationType.WALL_CLOCK_TIME, ts -> {
                        self[0].cancel(); // one shot
                        if (s.carried == self[0]) {
                            grant(ctx, s, ctx.currentSystemTimeMs());
                        }
                    });
            s.carried = self[0];
            s.carriedAt = at;
        }
    }

    /**
     * Asks for the commit after this loop. Under exactly-once a stream thread commits all its tasks at once,
     * so that commit carries every record the thread has handled: every stage's carried ask is dropped (each
     * would have made a commit of its own with little in it, about 5 % more log offsets per job at saturation).
     */
    private static void grant(ProcessorContext<?, ?> ctx, Stage s, long now) {
        for (Stage any : STAGES.get().values()) {
            if (any.carried != null) {
                any.carried.cancel();
                any.carried = null;
            }
        }
        s.lastAsked = now;
        ctx.commit();
    }
}
