package io.agora.ledger;

import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.ReplayReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Rebuilds the sink's projection from the topics: migrates a fresh schema with Flyway and
 * applies every record of {@code agora.ledger.entries}, {@code agora.jobs.events},
 * {@code agora.jobs.verdicts} and {@code agora.workers.reputation} from offset 0 up to a stop
 * offset per partition (the current end, or the live sink's stored position) with the same
 * {@link BatchRecorder} as the live sink, then stops. Used by {@code agora audit}; writes
 * nothing to Kafka (records the live sink dead-lettered are counted and skipped here too).
 */
public final class Replay {
    public static final String GROUP_ID = "agora-audit-replay";

    private final String bootstrap;
    private final Map<String, Object> kafkaSecurity;
    private final AgoraSerdes serdes;
    private final DataSource dataSource;
    private final String schema;
    private Duration idleLimit = Duration.ofSeconds(60);

    /** What the replay read and did. */
    public record Result(String schema, long records, int applied, int duplicates, int refused, int undecodable,
                         Map<TopicPartition, Long> stoppedAt) {
    }

    public Replay(String bootstrap, AgoraSerdes serdes, DataSource dataSource, String schema) {
        this(bootstrap, Map.of(), serdes, dataSource, schema);
    }

    /** @param kafkaSecurity the reader's Kafka security settings (security.protocol, sasl.*, ssl.*) */
    public Replay(String bootstrap, Map<String, Object> kafkaSecurity, AgoraSerdes serdes, DataSource dataSource,
                  String schema) {
        this.kafkaSecurity = Map.copyOf(kafkaSecurity);
        this.bootstrap = bootstrap;
        this.serdes = serdes;
        this.dataSource = dataSource;
        this.schema = LedgerSchema.requireValidName(schema);
    }

    /** Gives up when no progress is made for this long (a broker that went away). */
    public Replay idleLimit(Duration limit) {
        this.idleLimit = limit;
        return this;
    }

    /** Replays everything committed up to now (the last stable offsets). */
    public Result toEnd() throws SQLException {
        return run(null);
    }

    /** Replays up to {@code stopAt} per partition; a partition missing from the map is not read at all. */
    public Result until(Map<TopicPartition, Long> stopAt) throws SQLException {
        return run(stopAt);
    }

    private Result run(Map<TopicPartition, Long> stopAtOrNull) throws SQLException {
        LedgerSchema.migrate(dataSource, schema);
        BatchRecorder recorder = new BatchRecorder(dataSource, schema, GROUP_ID);
        EventDecoder decoder = new EventDecoder(serdes);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : EventDecoder.topicNames()) {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
                if (infos != null) {
                    infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
                }
            }
            Map<TopicPartition, Long> stopAt = new HashMap<>();
            if (stopAtOrNull == null) {
                stopAt.putAll(consumer.endOffsets(partitions));
            } else {
                for (TopicPartition tp : partitions) {
                    stopAt.put(tp, stopAtOrNull.getOrDefault(tp, 0L));
                }
            }
            List<TopicPartition> toRead = partitions.stream().filter(tp -> stopAt.get(tp) > 0).toList();
            consumer.assign(toRead);
            consumer.seekToBeginning(toRead);

            long records = 0;
            int applied = 0;
            int duplicates = 0;
            int refused = 0;
            int undecodable = 0;
            List<TopicPartition> open = new ArrayList<>(toRead);
            long lastProgress = System.nanoTime();
            while (!open.isEmpty()) {
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(200));
                List<SinkRecord> batch = new ArrayList<>();
                Map<TopicPartition, Long> next = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : polled) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() >= stopAt.get(tp)) {
                        continue;
                    }
                    records++;
                    next.merge(tp, r.offset() + 1, Math::max);
                    try {
                        batch.add(new SinkRecord(r.topic(), r.partition(), r.offset(), r.key(), r.value(),
                                decoder.decode(r.topic(), r.value())));
                    } catch (EventDecoder.UndecodableRecord e) {
                        undecodable++;
                    }
                }
                if (!next.isEmpty()) {
                    BatchRecorder.Result res = recorder.record(batch, next, null);
                    applied += res.applied();
                    duplicates += res.duplicates();
                    refused += res.refused().size();
                    lastProgress = System.nanoTime();
                }
                List<TopicPartition> done = open.stream().filter(tp -> consumer.position(tp) >= stopAt.get(tp)).toList();
                if (!done.isEmpty()) {
                    consumer.pause(done);
                    open.removeAll(done);
                    lastProgress = System.nanoTime();
                }
                if (Duration.ofNanos(System.nanoTime() - lastProgress).compareTo(idleLimit) > 0) {
                    throw new IllegalStateException("replay made no progress for " + idleLimit + "; still open: " + open);
                }
            }
            return new Result(schema, records, applied, duplicates, refused, undecodable, stopAt);
        }
    }

    private Properties consumerProperties() {
        return ReplayReader.properties(bootstrap, kafkaSecurity, "agora-audit-replay", 1000);
    }
}
