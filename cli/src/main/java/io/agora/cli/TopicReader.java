package io.agora.cli;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.ReplayReader;
import io.agora.schemas.TopicSpec;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The thin Kafka edge of {@code audit} and {@code analytics}: reads whole topics (or the part
 * after a time, found with {@code offsetsForTimes}) up to their end offsets as of the start of
 * the read, decoding values with the topic's serde. No consumer group, nothing committed,
 * read_committed. Records that do not decode are counted and skipped.
 */
public final class TopicReader implements AutoCloseable {
    private final Consumer<byte[], byte[]> consumer;
    private final AgoraSerdes serdes;
    private Duration idleLimit = Duration.ofSeconds(30);
    private int undecodable;

    public TopicReader(Consumer<byte[], byte[]> consumer, AgoraSerdes serdes) {
        this.consumer = consumer;
        this.serdes = serdes;
    }

    public static TopicReader connect(String bootstrap, AgoraSerdes serdes) {
        // the cli runs as the operator: its Kafka security settings come from the environment (AGORA_KAFKA_*)
        Properties p = ReplayReader.properties(bootstrap, AgoraConfig.load(Map.of()).kafkaClientProperties(),
                "agora-cli-reader", 2000);
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        return new TopicReader(new KafkaConsumer<>(p), serdes);
    }

    /** Gives up when no record arrives for this long while partitions are still short of their end. */
    public TopicReader idleLimit(Duration limit) {
        this.idleLimit = limit;
        return this;
    }

    /** Records that did not decode, over every read so far. */
    public int undecodable() {
        return undecodable;
    }

    /** Every record of the topic from the beginning to the current end offsets. */
    public <V> List<V> readAll(TopicSpec<?, V> topic) {
        return read(topic, null, null);
    }

    /**
     * The records of the topic with a timestamp in {@code [from, to)} (either may be null: open),
     * seeking each partition to {@code from} with offsetsForTimes and reading to its end offset.
     */
    public <V> List<V> read(TopicSpec<?, V> topic, Instant from, Instant to) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic.name(), Duration.ofSeconds(20));
        if (infos == null || infos.isEmpty()) {
            return List.of();
        }
        List<TopicPartition> partitions = new ArrayList<>();
        infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        Map<TopicPartition, Long> start = new HashMap<>(consumer.beginningOffsets(partitions));
        if (from != null) {
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(tp -> query.put(tp, from.toEpochMilli()));
            Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query);
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp o = found.get(tp);
                start.put(tp, o == null ? end.get(tp) : o.offset()); // null: nothing at or after `from`
            }
        }
        List<TopicPartition> open = new ArrayList<>(partitions.stream().filter(tp -> start.get(tp) < end.get(tp)).toList());
        List<V> out = new ArrayList<>();
        if (open.isEmpty()) {
            return out;
        }
        @SuppressWarnings("resource")
        Deserializer<V> de = serdes.valueSerde(topic).deserializer();
        consumer.assign(open);
        open.forEach(tp -> consumer.seek(tp, start.get(tp)));
        long lastProgress = System.nanoTime();
        while (!open.isEmpty()) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (r.offset() >= end.get(tp) || r.value() == null) {
                    continue;
                }
                lastProgress = System.nanoTime();
                if (to != null && r.timestamp() >= to.toEpochMilli()) {
                    continue;
                }
                try {
                    out.add(de.deserialize(r.topic(), r.value()));
                } catch (RuntimeException e) {
                    undecodable++;
                }
            }
            List<TopicPartition> done = open.stream().filter(tp -> consumer.position(tp) >= end.get(tp)).toList();
            if (!done.isEmpty()) {
                open.removeAll(done);
                lastProgress = System.nanoTime();
            }
            if (!open.isEmpty() && Duration.ofNanos(System.nanoTime() - lastProgress).compareTo(idleLimit) > 0) {
                throw new IllegalStateException("reading " + topic.name() + " made no progress for " + idleLimit
                        + "; still short of the end: " + open);
            }
        }
        consumer.unsubscribe();
        return out;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
