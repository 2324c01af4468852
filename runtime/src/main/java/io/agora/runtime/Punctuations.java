package io.agora.runtime;

import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.Punctuator;
import org.apache.kafka.streams.processor.api.ProcessingContext;

import java.time.Duration;
import java.time.Instant;
import java.util.function.LongPredicate;

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

    /**
     * Schedules {@code punctuator} every {@code busy} of wall-clock time while it has something pending, and
     * every {@code idle} while it has not: each run answers whether something is still pending (an open job
     * whose deadline must fire on time). A commit under exactly-once carries the offsets of every partition
     * the thread has consumed, so an idle app punctuating every second wrote dozens of records a second to
     * {@code __consumer_offsets} and {@code __transaction_state} with nothing to do. {@link Adaptive#wake}, for
     * an input that may make something pending, brings the busy interval back at once.
     */
    public static Adaptive adaptive(ProcessingContext context, Duration busy, Duration idle, LongPredicate punctuator) {
        return new Adaptive(context, busy, idle, punctuator);
    }

    /** A punctuation that slows down while its processor has nothing pending ({@link #adaptive}). */
    public static final class Adaptive {
        private final ProcessingContext context;
        private final Duration busy;
        private final Duration idle;
        private final LongPredicate punctuator;
        private Cancellable scheduled;
        private boolean idling;

        private Adaptive(ProcessingContext context, Duration busy, Duration idle, LongPredicate punctuator) {
            this.context = context;
            this.busy = busy;
            this.idle = idle;
            this.punctuator = punctuator;
            this.scheduled = everyWallClock(context, busy, this::run);
        }

        private void run(long now) {
            boolean pending = punctuator.test(now);
            if (pending == idling) {
                idling = !pending;
                reschedule();
            }
        }

        /** Something may be pending now: back to the busy interval (its next multiple) if idling. */
        public void wake() {
            if (idling) {
                idling = false;
                reschedule();
            }
        }

        /** Whether the punctuation runs at the idle interval. */
        public boolean idling() {
            return idling;
        }

        private void reschedule() {
            scheduled.cancel();
            scheduled = everyWallClock(context, idling ? idle : busy, this::run);
        }
    }

    /** The first multiple of {@code interval} after {@code nowMs}. */
    static Instant anchor(long nowMs, Duration interval) {
        long ms = Math.max(1, interval.toMillis());
        return Instant.ofEpochMilli(Math.floorDiv(nowMs, ms) * ms + ms);
    }
}
