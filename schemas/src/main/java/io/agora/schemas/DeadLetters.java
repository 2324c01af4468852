package io.agora.schemas;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;

/**
 * Writes a record that could not be used to {@code agora.dlq}: the original key and value
 * bytes untouched, and headers saying where it came from and why.
 */
public final class DeadLetters {
    public static final String H_REASON = "agora.dlq.reason";
    public static final String H_TOPIC = "agora.dlq.topic";
    public static final String H_PARTITION = "agora.dlq.partition";
    public static final String H_OFFSET = "agora.dlq.offset";
    public static final String H_APP = "agora.dlq.app";
    /** A reason is for a person to read; a longer one (an exception quoting a 64 KiB field) is cut here. */
    public static final int MAX_REASON_CHARS = 1000;

    private DeadLetters() {
    }

    public static Headers headers(String app, String reason, String topic, int partition, long offset) {
        RecordHeaders h = new RecordHeaders();
        h.add(H_REASON, bytes(bounded(reason)));
        h.add(H_TOPIC, bytes(topic == null ? "unknown" : topic));
        h.add(H_PARTITION, bytes(Integer.toString(partition)));
        h.add(H_OFFSET, bytes(Long.toString(offset)));
        h.add(H_APP, bytes(app));
        return h;
    }

    public static ProducerRecord<byte[], byte[]> record(String app, String reason, ConsumerRecord<byte[], byte[]> src) {
        return new ProducerRecord<>(Topics.DLQ.name(), null, src.key(), src.value(),
                headers(app, reason, src.topic(), src.partition(), src.offset()));
    }

    public static ProducerRecord<byte[], byte[]> record(String app, String reason, String topic, int partition,
                                                        long offset, byte[] key, byte[] value) {
        return new ProducerRecord<>(Topics.DLQ.name(), null, key, value,
                headers(app, reason, topic, partition, offset));
    }

    public static void send(Producer<byte[], byte[]> producer, ProducerRecord<byte[], byte[]> rec) {
        producer.send(rec);
    }

    public static String header(Headers headers, String name) {
        var h = headers.lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    static String bounded(String reason) {
        if (reason == null) {
            return "unknown";
        }
        return reason.length() <= MAX_REASON_CHARS ? reason : reason.substring(0, MAX_REASON_CHARS) + "... (cut)";
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
