package io.agora.runtime;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateRestoreListener;

import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The state stores a streams app is restoring from their changelogs, so that /health tells a restore
 * that stands still from one that is slow ({@link StreamsService}: DOWN once a restore has restored
 * nothing for the stall time). What it was written for: a changelog holding records of a transaction
 * the broker never ended (ARCHITECTURE.md, "Design decisions", exactly once across a single broker's
 * SIGKILL). Kafka Streams restores an active task to the changelog's end through a read-committed
 * consumer, which stops before those records, so the task never runs while the app's other tasks do
 * and its processed count goes on rising: the stall rule on pending input never fires.
 */
public final class RestoreWatch implements StateRestoreListener {
    private record Restore(TopicPartition changelog, String store, long restoredTo, long end, long lastProgressMs) {
    }

    private final LongSupplier clock;
    private final Map<TopicPartition, Restore> restoring = new ConcurrentHashMap<>();

    public RestoreWatch(LongSupplier clock) {
        this.clock = clock;
    }

    @Override
    public void onRestoreStart(TopicPartition changelog, String store, long startingOffset, long endingOffset) {
        restoring.put(changelog, new Restore(changelog, store, startingOffset, endingOffset, clock.getAsLong()));
    }

    @Override
    public void onBatchRestored(TopicPartition changelog, String store, long batchEndOffset, long numRestored) {
        restoring.computeIfPresent(changelog, (tp, r) -> new Restore(tp, store, batchEndOffset, r.end(), clock.getAsLong()));
    }

    @Override
    public void onRestoreEnd(TopicPartition changelog, String store, long totalRestored) {
        restoring.remove(changelog);
    }

    @Override
    public void onRestoreSuspended(TopicPartition changelog, String store, long totalRestored) {
        restoring.remove(changelog);
    }

    /**
     * Why the app is stuck if a restore has restored nothing for {@code stallMs} (the one standing still
     * longest), else null.
     */
    public String standingStill(long stallMs) {
        long now = clock.getAsLong();
        return restoring.values().stream()
                .filter(r -> now - r.lastProgressMs() >= stallMs)
                .min(Comparator.comparingLong(Restore::lastProgressMs))
                .map(r -> "store " + r.store() + " has restored nothing from " + r.changelog() + " for "
                        + (now - r.lastProgressMs()) / 1000 + " s (at offset " + r.restoredTo() + " of " + r.end() + ")")
                .orElse(null);
    }
}
