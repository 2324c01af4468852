package io.agora.ledger;

import io.agora.ledger.sink.LedgerSink;
import io.agora.ledger.sink.SinkConfig;
import io.agora.ledger.sink.SinkHealth;
import io.agora.events.JobEventType;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.ReputationChanged;
import io.agora.events.JobEvent;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.testing.KafkaTestCluster;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

import static io.agora.ledger.Events.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The sink against a real (in-JVM) Kafka broker and a real PostgreSQL. */
class LedgerSinkKafkaIT {
    private static KafkaTestCluster kafka;
    private static final AgoraSerdes SERDES = AgoraSerdes.plain();

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** Thrown from the fault point: the sink thread dies mid-batch, like a killed process. */
    static final class SimulatedCrash extends Error {
        SimulatedCrash() {
            super("simulated crash before commit");
        }
    }

    @Test
    void projectsTheTopicsSurvivesACrashAndEqualsAReplay() throws Exception {
        DataSource ds = TestPostgres.dataSource();
        String live = TestPostgres.freshSchema("live");
        String group = "sink-" + live;
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String client = "c" + i;
            String job = "job" + i;
            add(records, Topics.LEDGER.name(), client, grant(client, 10_000));
            add(records, Topics.LEDGER.name(), client, hold(client, job, 4_000));
            add(records, Topics.JOB_EVENTS.name(), job, jobEvent(job, client, JobEventType.ACCEPTED, 0));
            add(records, Topics.JOB_EVENTS.name(), job, jobEvent(job, client, JobEventType.ASSIGNED, 100));
            add(records, Topics.JOB_EVENTS.name(), job, jobEvent(job, client, JobEventType.COMPLETED, 5_000));
            add(records, Topics.VERDICTS.name(), job, verdict(job, client, Outcome.COMPLETED, 1_500, 2_500));
            add(records, Topics.LEDGER.name(), client, payout(client, job, "w1", 1_500));
            add(records, Topics.LEDGER.name(), client, refund(client, job, 2_500));
            add(records, Topics.REPUTATION.name(), "w1", reputation("w1", 5));
        }
        records.add(new ProducerRecord<>(Topics.LEDGER.name(), "c0", "not avro at all".getBytes(StandardCharsets.UTF_8)));
        add(records, Topics.LEDGER.name(), "c1", entry("bad:1", "c1", io.agora.events.EntryKind.DEPOSIT, null,
                p("mint:deposits", -10), p("client:c1", 20)));
        produce(records);

        // First run: small batches, killed before the commit of its third batch.
        AtomicInteger batches = new AtomicInteger();
        SinkConfig cfg = new SinkConfig(live, group, Duration.ofMillis(100), 7, kafka.bootstrapServers(), "plain",
                Duration.ofMillis(50), Duration.ofMillis(500));
        LedgerSink first = LedgerSink.create(cfg, ds, new EventDecoder(SERDES), new SinkHealth(), refused -> {
            if (batches.incrementAndGet() == 3) {
                throw new SimulatedCrash();
            }
        });
        Thread t1 = new Thread(first, "sink-1");
        t1.setUncaughtExceptionHandler((t, e) -> { });
        t1.start();
        t1.join(60_000);
        assertThat(t1.isAlive()).isFalse();
        assertThat(first.health().state().reason()).contains("simulated crash");
        long afterCrash = count(ds, live, "SELECT count(*) FROM ledger_transactions");
        assertThat(afterCrash).isLessThan(48);

        // Second run resumes from the offsets stored in PostgreSQL.
        SinkHealth health = new SinkHealth();
        LedgerSink second = LedgerSink.create(cfg, ds, new EventDecoder(SERDES), health, null);
        Thread t2 = new Thread(second, "sink-2");
        t2.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> count(ds, live,
                    "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets") == records.size());
            assertThat(health.state().up()).isTrue();

            assertThat(count(ds, live, "SELECT count(*) FROM ledger_transactions")).isEqualTo(48);
            assertThat(count(ds, live, "SELECT balance_micros FROM accounts WHERE account_id = 'client:c3'")).isEqualTo(8_500);
            assertThat(count(ds, live, "SELECT balance_micros FROM accounts WHERE account_id = 'worker:w1'")).isEqualTo(12 * 1_500);
            assertThat(count(ds, live, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED'")).isEqualTo(12);
            assertThat(count(ds, live, "SELECT count(*) FROM verdicts")).isEqualTo(12);
            assertThat(count(ds, live, "SELECT reputation FROM worker_reputation WHERE worker_id = 'w1'")).isEqualTo(60);

            List<ConsumerRecord<byte[], byte[]>> dead = readDlq(2);
            assertThat(dead).extracting(r -> DeadLetters.header(r.headers(), DeadLetters.H_REASON))
                    .anySatisfy(reason -> assertThat(reason).contains("cannot decode"))
                    .anySatisfy(reason -> assertThat(reason).contains("bad:1", "unbalanced"));

            // The sink keeps running after bad input: a later record is still applied.
            produce(List.of(new ProducerRecord<>(Topics.REPUTATION.name(), "w2",
                    SERDES.avroSerde(ReputationChanged.class).serializer().serialize(Topics.REPUTATION.name(), reputation("w2", -10)))));
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    count(ds, live, "SELECT count(*) FROM worker_reputation WHERE worker_id = 'w2'") == 1);
        } finally {
            second.close();
            t2.join(30_000);
        }

        // A clean replay into a fresh schema gives the same database.
        String replay = TestPostgres.freshSchema("replay");
        Replay.Result result = new Replay(kafka.bootstrapServers(), SERDES, ds, replay).toEnd();
        assertThat(result.undecodable()).isEqualTo(1);
        assertThat(result.refused()).isEqualTo(1);
        AuditReport report = AuditReport.compare(ds, live, replay);
        assertThat(report.findings()).isEmpty();

        // And the audit entry point says so too (replaying up to the live sink's stored offsets).
        String audited = TestPostgres.freshSchema("audit");
        AuditReport viaMain = AuditMain.audit(ds, kafka.bootstrapServers(), Map.of(), SERDES, live, audited, group, false, System.out);
        assertThat(viaMain.findings()).isEmpty();
    }

    private static void add(List<ProducerRecord<String, byte[]>> out, String topic, String key, SpecificRecord event) {
        @SuppressWarnings("unchecked")
        Class<SpecificRecord> type = (Class<SpecificRecord>) event.getClass();
        byte[] value = SERDES.avroSerde(type).serializer().serialize(topic, event);
        out.add(new ProducerRecord<>(topic, key, value));
    }

    private static void produce(List<ProducerRecord<String, byte[]>> records) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            records.forEach(producer::send);
            producer.flush();
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readDlq(int atLeast) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(Topics.DLQ.name(), 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
                return out.size() >= atLeast;
            });
            return out;
        }
    }

    static long count(DataSource ds, String schema, String sql) throws Exception {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("SET search_path TO " + schema);
            try (ResultSet rs = st.executeQuery(sql)) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }
}
