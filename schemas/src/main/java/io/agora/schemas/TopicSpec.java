package io.agora.schemas;

import java.util.Map;

/**
 * One topic of the market: its name, key and value types, partition count and retention.
 * Declared once in {@link Topics}; topic setup, producers, consumers and topologies all read it.
 *
 * @param retentionMs -1 keeps records forever; ignored for compacted topics
 * @param brokerTime  records carry the broker's append time, not the producer's: a time the producer
 *                    cannot choose (the registrations' proof-of-hardware window, {@code PohChallenge})
 */
public record TopicSpec<K, V>(String name, Class<K> keyType, Class<V> valueType, int partitions,
                              boolean compacted, long retentionMs, boolean brokerTime) {

    public TopicSpec(String name, Class<K> keyType, Class<V> valueType, int partitions, boolean compacted,
                     long retentionMs) {
        this(name, keyType, valueType, partitions, compacted, retentionMs, false);
    }

    /** Broker-side topic configuration for this topic. */
    public Map<String, String> config() {
        Map<String, String> c = new java.util.HashMap<>();
        if (compacted) {
            c.put("cleanup.policy", "compact");
            c.put("min.compaction.lag.ms", "60000");
        } else {
            c.put("cleanup.policy", "delete");
            c.put("retention.ms", Long.toString(retentionMs));
        }
        if (brokerTime) {
            c.put("message.timestamp.type", "LogAppendTime");
        }
        return Map.copyOf(c);
    }
}
