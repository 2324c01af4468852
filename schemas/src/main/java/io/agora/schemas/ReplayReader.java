package io.agora.schemas;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.util.Properties;

/**
 * Consumer settings of the tools that read topics from the beginning without joining a group
 * (audit replay, analytics, signature re-verification): committed records only, raw bytes so
 * each reader decides what an undecodable record means, no offsets committed.
 */
public final class ReplayReader {
    private ReplayReader() {
    }

    /** @param kafkaSecurity the reader's {@link AgoraConfigView#kafkaClientProperties()} */
    public static Properties properties(String bootstrap, java.util.Map<String, Object> kafkaSecurity, String clientId,
                                        int maxPollRecords) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.putAll(kafkaSecurity);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(maxPollRecords));
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }
}
