package io.agora.runtime;

import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.Punctuator;
import org.apache.kafka.streams.processor.api.ProcessingContext;

import java.time.Duration;
import java.time.Instant;

/**
 * Wall-clock punctuations of the market's streams apps, anchored to the wall clock's multiples of
 * their interval. Kafka Streams marks a task for commit whenever it punctuates, and under
 * exactly-once a commit is a transaction: six tasks of a thread that each punctuate every second at
 * their own phase (the time each was initialised) cost up to six transactions a second with nothing
 * to do. Anchored, every task of the thread punctuates in the same loop, and one commit covers them.
 * The period is unchanged; only the phase moves, by less than one interval, once.
 */
public final class Punctuations {
    private Punctuations() {
    }

    /** Schedules {@code punctuator} every {@code interval} of wall-clock time, at its multiples. */
    public static Cancellable everyWallClock(ProcessingContext context, Duration interval, Punctuator punctuator) {
        return context.schedule(anchor(context.currentSystemTimeMs(), interval), interval,
                PunctuationType.WALL_CLOCK_TIME, punctuator);
    }

    /** The first multiple of {@code interval} after {@code nowMs}. */
    static Instant anchor(long nowMs, Duration interval) {
        long ms = Math.max(1, interval.toMillis());
        return Instant.ofEpochMilli(Math.floorDiv(nowMs, ms) * ms + ms);
    }
}
