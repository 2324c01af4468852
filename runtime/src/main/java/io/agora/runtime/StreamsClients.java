package io.agora.runtime;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;

import java.time.Duration;
import java.util.Map;

/**
 * The Kafka clients of a streams app: Streams' own, except that a stream thread's main consumer waits in a
 * poll no longer than until the thread's earliest carried commit ask ({@link Commits#pollWaitMs}). Streams
 * polls for {@code poll.ms} (500 ms here) and runs punctuations only between polls, so a commit that
 * {@link Commits} carries to the end of its gap would otherwise wait for the next record or the poll's end.
 * Each poll's start is noted for the thread ({@link Polls}): how far it has fetched.
 */
public final class StreamsClients implements KafkaClientSupplier {
    @Override
    public Admin getAdmin(Map<String, Object> config) {
        return Admin.create(config);
    }

    @Override
    public Producer<byte[], byte[]> getProducer(Map<String, Object> config) {
        return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Override
    public Consumer<byte[], byte[]> getConsumer(Map<String, Object> config) {
        return new MainConsumer(config);
    }

    @Override
    public Consumer<byte[], byte[]> getRestoreConsumer(Map<String, Object> config) {
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** A stream thread's consumer: polled on that thread, so it sees the thread's carried asks and notes its polls. */
    static final class MainConsumer extends KafkaConsumer<byte[], byte[]> {
        MainConsumer(Map<String, Object> config) {
            super(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }

        @Override
        public ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            long now = System.currentTimeMillis();
            Polls.polling(now);
            return super.poll(Duration.ofMillis(Commits.pollWaitMs(timeout.toMillis(), now)));
        }
    }
}
