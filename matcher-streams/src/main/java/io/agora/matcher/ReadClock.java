package io.agora.matcher;

import org.apache.kafka.streams.processor.TaskId;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How far behind its input a stage of the matcher reads, and so the time up to which it has heard from
 * the market ({@link #heard}): {@code now} less the age of the last record read, an age that counts down
 * while nothing arrives (a stage that has caught up reads nothing). Liveness is judged by it, never by the
 * bare wall clock: a stage that falls behind (a burst of job requests ahead of the heartbeats in its
 * partition, which a task reads in timestamp order) does not call the workers whose heartbeats it has not
 * read yet silent, nor their leases expired.
 *
 * <p>A record's age is the reader's clock less the record's time. The pool stage's input is stamped with
 * the matcher's own clock as it enters the repartition topic ({@link MatcherTopology}); the worker gate
 * reads the workers' topics and their credits, where a record's time is its producer's: the market's
 * services' clocks for reputation changes and ledger entries, the broker's for registrations, but the
 * worker's own for heartbeats, whose age counts at most one worker
 * grace, so that no worker can hold back every other worker's silence by stamping its records in the past.
 */
final class ReadClock {
    private long lagMs;
    private long lagAt;

    /** A record stamped {@code stampedAt} was read at {@code now}. */
    void read(long now, long stampedAt) {
        read(now, stampedAt, Long.MAX_VALUE);
    }

    /** A record stamped {@code stampedAt} was read at {@code now}; its age counts up to {@code maxAgeMs} (a worker's clock). */
    void read(long now, long stampedAt, long maxAgeMs) {
        lagMs = Math.min(Math.max(0, now - stampedAt), maxAgeMs);
        lagAt = now;
    }

    /** The time up to which the stage has read its input, at {@code now}. */
    long heard(long now) {
        return heard(now, lagMs, lagAt);
    }

    /** {@link #heard(long)} after a record read {@code lagMs} behind at {@code lagAt}. */
    static long heard(long now, long lagMs, long lagAt) {
        return now - Math.max(0, lagMs - (now - lagAt));
    }

    /**
     * One clock per stream task, read into by the sources of the worker gate's task (registrations,
     * heartbeats, reputation, credits), which it reads in timestamp order: admission and the job input gate
     * are sub-topologies of their own, so a burst of job requests or results is not ahead of the heartbeats.
     */
    static final class PerTask {
        private final Map<TaskId, ReadClock> clocks = new ConcurrentHashMap<>();

        ReadClock of(TaskId task) {
            return clocks.computeIfAbsent(task, t -> new ReadClock());
        }
    }
}
