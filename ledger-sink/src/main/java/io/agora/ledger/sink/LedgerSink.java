package io.agora.ledger.sink;

import io.agora.ledger.BatchRecorder;
import io.agora.ledger.EventDecoder;
import io.agora.ledger.LedgerSchema;
import io.agora.ledger.SinkRecord;
import io.agora.schemas.DeadLetters;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import io.agora.schemas.Traces;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The transport layer of the ledger sink: one consumer on {@code agora.ledger.entries},
 * {@code agora.jobs.events}, {@code agora.jobs.verdicts} and {@code agora.workers.reputation}
 * (group {@code agora-ledger-sink}, read_committed, no auto-commit); output {@code agora.dlq}.
 *
 * <p>PostgreSQL, not Kafka, holds the sink's position: on assignment each partition is paused
 * until its offset is read from {@code consumer_offsets} and sought. Each poll batch becomes one
 * database transaction ({@link BatchRecorder}) holding the rows and the next offsets. Records
 * that do not decode, and records the database refuses, go to the DLQ with the reason (sent
 * and flushed before the commit: a crash can repeat a DLQ record, never lose one). When
 * PostgreSQL or the schema registry is unreachable the sink keeps the batch, dead-letters nothing,
 * reports DOWN, and retries with capped exponential back-off while polling with every partition
 * paused, so it stays in the group.
 * Offsets are committed to Kafka too, after the database commit, for lag monitoring only.
 */
public final class LedgerSink implements Runnable, AutoCloseable {
    static final String APP = "ledger-sink";
    private static final Logger LOG = LoggerFactory.getLogger(LedgerSink.class);

    private final SinkConfig cfg;
    private final DataSource dataSource;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> dlq;
    private final EventDecoder decoder;
    private final BatchRecorder recorder;
    private final SinkHealth health;
    private final BatchRecorder.BeforeCommit faultPoint;
    private final SinkMeters meters;
    private final MonitoringOffsets monitoring = new MonitoringOffsets();

    private final Set<TopicPartition> awaitingSeek = new HashSet<>();
    private boolean rebalanced;
    private boolean migrated;
    private volatile boolean running = true;

    /**
     * @param faultPoint runs before each commit, after the DLQ flush; tests throw from it to
     *                   simulate a crash; null in production
     */
    public LedgerSink(SinkConfig cfg, DataSource dataSource, Consumer<byte[], byte[]> consumer,
                      Producer<byte[], byte[]> dlq, EventDecoder decoder, SinkHealth health,
                      BatchRecorder.BeforeCommit faultPoint) {
        this(cfg, dataSource, consumer, dlq, decoder, health, faultPoint, SinkMeters.none());
    }

    /** A sink counting its batches in {@code meters}. */
    public LedgerSink(SinkConfig cfg, DataSource dataSource, Consumer<byte[], byte[]> consumer,
                      Producer<byte[], byte[]> dlq, EventDecoder decoder, SinkHealth health,
                      BatchRecorder.BeforeCommit faultPoint, SinkMeters meters) {
        this.meters = meters;
        this.cfg = cfg;
        this.dataSource = dataSource;
        this.consumer = consumer;
        this.dlq = dlq;
        this.decoder = decoder;
        this.recorder = new BatchRecorder(dataSource, cfg.schema(), cfg.groupId());
        this.health = health;
        this.faultPoint = faultPoint;
    }

    public static Properties consumerProperties(SinkConfig cfg) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrapServers());
        p.putAll(cfg.kafkaClientProperties());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, cfg.groupId());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(cfg.batchSize()));
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, cfg.groupId() + "-consumer");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, Integer.toString(cfg.fetchMaxWaitMs()));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    public static Properties dlqProducerProperties(SinkConfig cfg) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrapServers());
        p.putAll(cfg.kafkaClientProperties());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, cfg.groupId() + "-dlq");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    /** A sink with real Kafka clients built from {@code cfg}. */
    public static LedgerSink create(SinkConfig cfg, DataSource dataSource, EventDecoder decoder, SinkHealth health,
                                    BatchRecorder.BeforeCommit faultPoint) {
        return create(cfg, dataSource, decoder, health, faultPoint, SinkMeters.none());
    }

    /** A sink with real Kafka clients, whose metrics (lag per partition among them) go to {@code meters} too. */
    public static LedgerSink create(SinkConfig cfg, DataSource dataSource, EventDecoder decoder, SinkHealth health,
                                    BatchRecorder.BeforeCommit faultPoint, SinkMeters meters) {
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties(cfg));
        KafkaProducer<byte[], byte[]> dlq = new KafkaProducer<>(dlqProducerProperties(cfg));
        new KafkaClientMetrics(consumer).bindTo(meters.registry());
        new KafkaClientMetrics(dlq).bindTo(meters.registry());
        return new LedgerSink(cfg, dataSource, consumer, dlq, decoder, health, faultPoint, meters);
    }

    @Override
    public void run() {
        consumer.subscribe(EventDecoder.topicNames(), new SeekFromDatabase());
        try {
            Duration backoff = cfg.retryInitial();
            while (running) {
                try {
                    if (!migrated) {
                        LedgerSchema.migrate(dataSource, cfg.schema());
                        migrated = true;
                    }
                    seekAwaitingPartitions();
                    backoff = cfg.retryInitial();
                } catch (SQLException | RuntimeException e) {
                    if (e instanceof RuntimeException rt && !isDatabaseDown(rt)) {
                        throw rt;
                    }
                    waitForDatabase(e, backoff);
                    backoff = next(backoff);
                    continue;
                }
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(cfg.pollTimeout());
                if (!polled.isEmpty()) {
                    recordBatch(polled);
                } else {
                    commitToKafkaForMonitoring(monitoring.idle(System.currentTimeMillis()));
                }
            }
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } catch (RuntimeException | Error e) {
            health.down("crashed: " + e);
            LOG.error("ledger sink stopped", e);
            throw e;
        } finally {
            closeClients();
        }
    }

    /** Applies one poll batch, retrying until it commits; the batch is dropped only for partitions lost meanwhile. */
    private void recordBatch(ConsumerRecords<byte[], byte[]> polled) {
        List<SinkRecord> decoded = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> undecodable = new ArrayList<>();
        Map<TopicPartition, Long> next = new HashMap<>();
        Duration backoff = cfg.retryInitial();
        while (running && !decode(polled, decoded, undecodable, next, backoff)) {
            backoff = next(backoff);
        }
        backoff = cfg.retryInitial();
        List<Span> spans = spans(polled);
        while (running && !next.isEmpty()) {
            try {
                BatchRecorder.Result result = recorder.record(decoded, next, refused -> {
                    for (ProducerRecord<byte[], byte[]> d : undecodable) {
                        dlq.send(d);
                    }
                    for (BatchRecorder.Refused r : refused) {
                        LOG.warn("dead-lettering {}: {}", r.record().where(), r.reason());
                        SinkRecord s = r.record();
                        dlq.send(DeadLetters.record(APP, r.reason(), s.topic(), s.partition(), s.offset(), s.key(), s.value()));
                    }
                    if (!undecodable.isEmpty() || !refused.isEmpty()) {
                        dlq.flush();
                    }
                    if (faultPoint != null) {
                        faultPoint.run(refused);
                    }
                });
                spans.forEach(Span::end);
                health.up(polled.count());
                meters.committed(decoded, undecodable.size() + result.refused().size());
                commitToKafkaForMonitoring(monitoring.committed(next, System.currentTimeMillis()));
                LOG.debug("batch of {} records: {} applied, {} duplicates, {} refused, {} undecodable",
                        polled.count(), result.applied(), result.duplicates(), result.refused().size(), undecodable.size());
                return;
            } catch (SQLException e) {
                waitForDatabase(e, backoff);
                backoff = next(backoff);
                if (rebalanced) {
                    dropLostPartitions(decoded, undecodable, next);
                }
            }
        }
    }

    /** A span per traced record, the last hop of its job's trace; ended once the batch is committed. */
    static List<Span> spans(Iterable<ConsumerRecord<byte[], byte[]>> polled) {
        List<Span> spans = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : polled) {
            if (Traces.traceId(r.headers()) != null) {
                spans.add(Traces.start("ledger-sink " + r.topic(), SpanKind.CONSUMER, Traces.parent(r.headers())));
            }
        }
        return spans;
    }

    /**
     * Decodes the records of the partitions still owned; an undecodable one becomes a DLQ record.
     * While the schema registry is out nothing is dead-lettered: it waits, every partition paused,
     * and answers false so the whole batch is decoded again.
     */
    private boolean decode(ConsumerRecords<byte[], byte[]> polled, List<SinkRecord> decoded,
                           List<ProducerRecord<byte[], byte[]>> undecodable, Map<TopicPartition, Long> next,
                           Duration backoff) {
        decoded.clear();
        undecodable.clear();
        next.clear();
        Set<TopicPartition> owned = consumer.assignment();
        for (ConsumerRecord<byte[], byte[]> r : polled) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            if (awaitingSeek.contains(tp) || !owned.contains(tp)) {
                continue;
            }
            next.merge(tp, r.offset() + 1, Math::max);
            try {
                SpecificRecord event = decoder.decode(r.topic(), r.value());
                decoded.add(new SinkRecord(r.topic(), r.partition(), r.offset(), r.key(), r.value(), event));
            } catch (EventDecoder.UndecodableRecord e) {
                LOG.warn("dead-lettering {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
                undecodable.add(DeadLetters.record(APP, e.getMessage(), r));
            } catch (EventDecoder.RegistryOutage e) {
                pauseAndWait("cannot decode " + r.topic() + "-" + r.partition() + "@" + r.offset() + ": "
                        + e.getMessage(), backoff);
                return false;
            }
        }
        return true;
    }

    /** Partitions that were revoked, or re-assigned and so will be sought from the database, are re-read later. */
    private void dropLostPartitions(List<SinkRecord> decoded, List<ProducerRecord<byte[], byte[]>> undecodable,
                                    Map<TopicPartition, Long> next) {
        rebalanced = false;
        Set<TopicPartition> owned = new HashSet<>(consumer.assignment());
        owned.removeAll(awaitingSeek);
        next.keySet().retainAll(owned);
        decoded.removeIf(r -> !owned.contains(r.topicPartition()));
        undecodable.removeIf(d -> !owned.contains(new TopicPartition(
                DeadLetters.header(d.headers(), DeadLetters.H_TOPIC),
                Integer.parseInt(DeadLetters.header(d.headers(), DeadLetters.H_PARTITION)))));
    }

    private void seekAwaitingPartitions() throws SQLException {
        if (awaitingSeek.isEmpty()) {
            return;
        }
        Set<TopicPartition> partitions = new HashSet<>(awaitingSeek);
        Map<TopicPartition, Long> stored = recorder.storedOffsets(partitions);
        List<TopicPartition> fromStart = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            Long offset = stored.get(tp);
            if (offset == null) {
                fromStart.add(tp);
            } else {
                consumer.seek(tp, offset);
            }
        }
        if (!fromStart.isEmpty()) {
            consumer.seekToBeginning(fromStart);
        }
        LOG.info("resuming {} partitions from the offsets stored in PostgreSQL ({} from the start)",
                partitions.size(), fromStart.size());
        awaitingSeek.removeAll(partitions);
        consumer.resume(partitions);
    }

    /** Waits with every partition paused: the consumer keeps its place in the group and fetches nothing. */
    private void waitForDatabase(Exception e, Duration backoff) {
        pauseAndWait("PostgreSQL unavailable: " + e.getMessage(), backoff);
    }

    /** Reports DOWN with the reason and waits out {@code backoff}, polling with every partition paused. */
    private void pauseAndWait(String reason, Duration backoff) {
        health.down(reason);
        LOG.warn("{}; retrying in {} ms", reason, backoff.toMillis());
        Set<TopicPartition> assigned = consumer.assignment();
        consumer.pause(assigned);
        try {
            ConsumerRecords<byte[], byte[]> none = consumer.poll(backoff);
            if (!none.isEmpty()) {
                throw new IllegalStateException("paused consumer returned records");
            }
        } finally {
            Set<TopicPartition> resumable = new HashSet<>(consumer.assignment());
            resumable.removeAll(awaitingSeek);
            consumer.resume(resumable);
        }
    }

    private Duration next(Duration backoff) {
        Duration doubled = backoff.multipliedBy(2);
        return doubled.compareTo(cfg.retryMax()) > 0 ? cfg.retryMax() : doubled;
    }

    private static boolean isDatabaseDown(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException) {
                return true;
            }
        }
        return false;
    }

    /** Kafka's copy of the offsets, for monitoring only ({@link MonitoringOffsets}): of the partitions still assigned. */
    private void commitToKafkaForMonitoring(Map<TopicPartition, Long> next) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Set<TopicPartition> assigned = next.isEmpty() ? Set.of() : consumer.assignment();
        next.forEach((tp, o) -> {
            if (assigned.contains(tp)) {
                offsets.put(tp, new OffsetAndMetadata(o));
            }
        });
        if (offsets.isEmpty()) {
            return;
        }
        consumer.commitAsync(offsets, (o, e) -> {
            if (e != null) {
                LOG.debug("informational Kafka offset commit failed: {}", e.toString());
            }
        });
    }

    /** Stops the loop; the batch in flight is either committed or rolled back, never half-applied. */
    @Override
    public void close() {
        running = false;
        consumer.wakeup();
    }

    private void closeClients() {
        try {
            consumer.close();
        } catch (RuntimeException e) {
            LOG.debug("closing consumer: {}", e.toString());
        }
        try {
            dlq.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.debug("closing DLQ producer: {}", e.toString());
        }
        if (health.state().up()) {
            health.down("stopped");
        }
    }

    public SinkHealth health() {
        return health;
    }

    /** New partitions wait, paused, until their position is read from PostgreSQL. */
    private final class SeekFromDatabase implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) {
                awaitingSeek.addAll(partitions);
                consumer.pause(partitions);
                rebalanced = true;
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            awaitingSeek.removeAll(partitions);
            if (!partitions.isEmpty()) {
                rebalanced = true;
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            onPartitionsRevoked(partitions);
        }
    }
}
