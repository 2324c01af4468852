package io.agora.runtime;

import org.apache.kafka.streams.processor.api.ProcessorContext;

/**
 * When a stage of a streams app asks Streams for an exactly-once commit at once, instead of waiting
 * for {@code commit.interval.ms}: only for a record that is fresh, one written less than
 * {@link #FRESH_MS} ago. The matcher asks when a job moves, the verifier when it reaches a verdict. A stream thread that has a commit requested commits after every pass of
 * its loop and then halves the records it takes per task in the next pass, so a request for every
 * record of a backlog made the matcher commit after every record: at saturation it placed about 50
 * jobs a second, its pool stage fell behind the worker grace and called every worker offline. A
 * record from a backlog needs no commit of its own: more follow, and the interval's commit carries
 * them all. A caught-up stage still commits as soon as a job moves. The record's time is only a
 * hint here (a worker's clock, for its results): a wrong one costs at most one commit interval.
 */
public final class Commits {
    /** A record older than this was read from a backlog (two and a half default commit intervals). */
    public static final long FRESH_MS = 250;

    private Commits() {
    }

    /** Whether a record stamped {@code recordTs} is fresh at {@code now}. */
    public static boolean fresh(long now, long recordTs) {
        return now - recordTs < FRESH_MS;
    }

    /** Asks for a commit after this loop if the record stamped {@code recordTs} is fresh. */
    public static void soon(ProcessorContext<?, ?> ctx, long recordTs) {
        if (fresh(ctx.currentSystemTimeMs(), recordTs)) {
            ctx.commit();
        }
    }
}
