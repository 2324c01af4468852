package io.agora.runtime;

import org.apache.kafka.streams.KafkaStreams;

/**
 * The health rules of a streams app, kept apart from {@link KafkaStreams} so they can be tested
 * as a function of what it reports. DOWN when:
 * <ul>
 *   <li>the client is not running: CREATED (not started yet), ERROR, PENDING_ERROR,
 *   PENDING_SHUTDOWN, NOT_RUNNING;</li>
 *   <li>fewer stream threads are alive than configured (one died and is being replaced, or
 *   could not be);</li>
 *   <li>input is waiting (consumer lag above zero) and no record has been processed for
 *   {@code stallMs}: a record that fails over and over without reaching a handler, an outage
 *   that outlasts its retries, a rebalance that never ends;</li>
 *   <li>a state store's restore has restored nothing for {@code stallMs} ({@link RestoreWatch}, applied by
 *   {@link StreamsService}): its task never runs while the others go on.</li>
 * </ul>
 * Otherwise UP. An idle app (nothing pending) is never stalled.
 */
public final class StreamsHealth {
    /** What the streams client reports at one moment; {@code processed} is a running total. */
    public record Reading(KafkaStreams.State state, int aliveThreads, int threads, long processed, long pendingInput,
                          long atMs) {
    }

    /** UP or DOWN, and why not UP. */
    public record Verdict(boolean up, String reason) {
        static final Verdict UP = new Verdict(true, null);

        static Verdict down(String reason) {
            return new Verdict(false, reason);
        }
    }

    private final long stallMs;
    private long lastProcessed = Long.MIN_VALUE;
    private long lastProgressAtMs = Long.MIN_VALUE;

    public StreamsHealth(long stallMs) {
        this.stallMs = stallMs;
    }

    /** Judges one reading, remembering when the app last made progress. */
    public synchronized Verdict judge(Reading r) {
        if (lastProgressAtMs == Long.MIN_VALUE || r.processed() > lastProcessed || r.pendingInput() <= 0) {
            lastProgressAtMs = r.atMs();
        }
        lastProcessed = r.processed();
        return rules(r.state(), r.aliveThreads(), r.threads(), r.pendingInput(), r.atMs() - lastProgressAtMs, stallMs);
    }

    /** The rules alone: a pure function of the state, the threads and how long pending input has waited. */
    static Verdict rules(KafkaStreams.State state, int aliveThreads, int threads, long pendingInput,
                         long msWithoutProgress, long stallMs) {
        if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
            return Verdict.down("state " + state);
        }
        if (aliveThreads < threads) {
            return Verdict.down(aliveThreads + " of " + threads + " stream threads alive");
        }
        if (pendingInput > 0 && msWithoutProgress >= stallMs) {
            return Verdict.down("no progress for " + msWithoutProgress / 1000 + " s with " + pendingInput
                    + " input records waiting");
        }
        return Verdict.UP;
    }
}
