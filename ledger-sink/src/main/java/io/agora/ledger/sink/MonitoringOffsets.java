package io.agora.ledger.sink;

import org.apache.kafka.common.TopicPartition;

import java.util.HashMap;
import java.util.Map;

/**
 * The offsets the sink commits to Kafka only so that Kafka's tools can show its group's lag (the
 * offsets that count are the ones in PostgreSQL, written in each batch's transaction): at most one
 * commit every {@value #INTERVAL_MS} ms carrying every partition's latest, and what is left as soon
 * as a poll finds nothing. One commit per poll batch was one {@code __consumer_offsets} record per
 * partition per batch, a few per verified job at saturation, for a figure read by people.
 */
final class MonitoringOffsets {
    static final long INTERVAL_MS = 1000;

    private final Map<TopicPartition, Long> pending = new HashMap<>();
    private long reportedAt = Long.MIN_VALUE / 2;

    /** A committed batch's next offsets; returns what to commit now (empty: not yet). */
    Map<TopicPartition, Long> committed(Map<TopicPartition, Long> next, long now) {
        pending.putAll(next);
        return now - reportedAt >= INTERVAL_MS || now < reportedAt ? take(now) : Map.of();
    }

    /** What waits, for a poll that found nothing: the group's lag then reads zero, not an interval old. */
    Map<TopicPartition, Long> idle(long now) {
        return pending.isEmpty() ? Map.of() : take(now);
    }

    private Map<TopicPartition, Long> take(long now) {
        reportedAt = now;
        Map<TopicPartition, Long> out = new HashMap<>(pending);
        pending.clear();
        return out;
    }
}
