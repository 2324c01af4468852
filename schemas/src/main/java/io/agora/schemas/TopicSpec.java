package io.agora.schemas;

import java.util.Map;

/**
 * One topic of the market: its name, key and value types, partition count and retention.
 * Declared once in {@link Topics}; topic setup, producers, consumers and topologies all read it.
 *
 * @param retentionMs -1 keeps records forever; ignored for compacted topics
 */
public record TopicSpec<K, V>(String name, Class<K> keyType, Class<V> valueType, int partitions,
                              boolean compacted, long retentionMs) {

    /** Broker-side topic configuration for this topic. */
    public Map<String, String> config() {
        if (compacted) {
            return Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "60000");
        }
        return Map.of("cleanup.policy", "delete", "retention.ms", Long.toString(retentionMs));
    }
}
