package io.agora.ledger;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * One consumed record with its decoded event, the unit the {@link BatchRecorder} applies.
 * The original bytes are kept so a refused record can go to the DLQ untouched.
 */
public record SinkRecord(String topic, int partition, long offset, byte[] key, byte[] value, SpecificRecord event) {

    public TopicPartition topicPartition() {
        return new TopicPartition(topic, partition);
    }

    public String where() {
        return topic + "-" + partition + "@" + offset;
    }
}
