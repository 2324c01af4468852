package io.agora.cli;

import io.agora.events.EntryKind;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.ledger.Replay;
import io.agora.market.Accounts;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.Signatures;
import io.agora.schemas.testing.KafkaTestCluster;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

import javax.imageio.ImageIO;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static io.agora.cli.Market.*;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code agora audit} and {@code agora analytics} against an in-JVM Kafka broker and an embedded PostgreSQL. */
class MarketCommandsKafkaIT {
    private static final AgoraSerdes SERDES = AgoraSerdes.plain();
    private static final String LIVE = "agora_live";
    private static KafkaTestCluster kafka;
    private static EmbeddedPostgres pg;
    private static PGSimpleDataSource ds;
    private static final Identity ALICE = Identity.generate();
    private static final Identity BOB = Identity.generate();
    private static final Identity MALLORY = Identity.generate();
    private static final Instant NOW = Instant.now();

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        pg = EmbeddedPostgres.builder().setServerConfig("fsync", "off").start();
        ds = new PGSimpleDataSource();
        ds.setURL(jdbcUrl());
        ds.setUser("postgres");
        ds.setPassword("postgres");
        publishMarket();
        // The "live" projection: what the sink would have written.
        new Replay(kafka.bootstrapServers(), SERDES, ds, LIVE).toEnd();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    private static String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + pg.getPort() + "/postgres";
    }

    /** One COMPLETED job: Alice and Bob agree; Mallory forges a result in Bob's name, which the verifier refused. */
    private static void publishMarket() throws Exception {
        Instant t = NOW.minusSeconds(120);
        TaskAssigned ta = task("job1", 0, ALICE.workerId(), "public", 10, t);
        TaskAssigned tb = task("job1", 1, BOB.workerId(), "public", 12, t);
        TaskResult ra = signed(ta, "h", t.plusSeconds(5), ALICE);
        TaskResult rb = signed(tb, "h", t.plusSeconds(6), BOB);
        TaskResult forged = Signatures.sign(result(tb, "evil", t.plusSeconds(7)).setWorkerId(BOB.workerId()).setSeq(9).build(),
                MALLORY.privateKey());
        JobVerdict v = verdict("job1", Outcome.COMPLETED, List.of(ALICE.workerId(), BOB.workerId()), List.of(), t, t.plusSeconds(8));
        List<LedgerEntry> ledger = List.of(
                entry("grant:c1", EntryKind.STARTER_GRANT, null, t, posting(Accounts.MINT_GRANTS, -1000), posting(Accounts.client("c1"), 1000)),
                entry("hold:job1", EntryKind.ESCROW_HOLD, "job1", t, posting(Accounts.client("c1"), -500), posting(Accounts.escrow("job1"), 500)),
                payout("job1", ALICE.workerId(), 100, t.plusSeconds(8)),
                payout("job1", BOB.workerId(), 120, t.plusSeconds(8)),
                entry("refund:job1", EntryKind.REFUND, "job1", t.plusSeconds(8), posting(Accounts.escrow("job1"), -280),
                        posting(Accounts.client("c1"), 280)));
        JobEvent accepted = JobEvent.newBuilder().setEventId(id()).setJobId("job1").setClientId("c1").setType(JobEventType.ACCEPTED)
                .setPool("public").setEscrowMicros(500).setTimestamp(t).build();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            send(producer, Topics.JOB_REQUESTS, "c1", request("job1", "c1", "public", t));
            send(producer, Topics.TASKS, ta.getWorkerId(), ta);
            send(producer, Topics.TASKS, tb.getWorkerId(), tb);
            for (TaskResult r : List.of(ra, rb, forged)) {
                send(producer, Topics.RESULTS, "job1", r);
            }
            send(producer, Topics.JOB_EVENTS, "job1", accepted);
            send(producer, Topics.VERDICTS, "job1", v);
            for (LedgerEntry e : ledger) {
                send(producer, Topics.LEDGER, "c1", e);
            }
            producer.flush();
        }
    }

    private static <V> void send(KafkaProducer<String, byte[]> producer, TopicSpec<String, V> topic, String key, V value) throws Exception {
        byte[] bytes = SERDES.valueSerde(topic).serializer().serialize(topic.name(), value);
        producer.send(new ProducerRecord<>(topic.name(), topic == Topics.TASKS ? 0 : null, key, bytes)).get();
    }

    private static int run(StringWriter out, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", kafka.bootstrapServers(), "--registry", "plain"));
        return AgoraCli.run(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(out, true));
    }

    private String[] audit(String... extra) {
        List<String> a = new ArrayList<>(List.of("audit", "--jdbc-url", jdbcUrl(), "--jdbc-user", "postgres",
                "--jdbc-password", "postgres", "--live-schema", LIVE, "--to-end"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void auditIsCleanWhenTheForgedResultWasRefusedAndFlagsItOnceCounted() throws Exception {
        StringWriter out = new StringWriter();
        int code = run(out, audit("--replay-schema", "agora_audit_clean"));
        System.out.println(out);
        assertThat(code).as(out.toString()).isZero();
        assertThat(out.toString()).contains("ledger: no differences", "3 results, 2 valid, 1 invalid",
                "invalid: BAD_SIGNATURE task job1/1/0 worker " + BOB.workerId(), "no invalid result was counted", "AUDIT CLEAN");
        assertThat(schemaExists("agora_audit_clean")).isFalse();

        // Tamper with the live verdict: Mallory, who sent no result of her own, is counted as agreeing.
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("UPDATE " + LIVE + ".verdicts SET agreeing = agreeing || '" + MALLORY.workerId() + "'::text");
        }
        try {
            StringWriter out2 = new StringWriter();
            int code2 = run(out2, audit("--replay-schema", "agora_audit_kept", "--keep"));
            System.out.println(out2);
            assertThat(code2).as(out2.toString()).isEqualTo(1);
            assertThat(out2.toString()).contains("verdicts: only in " + LIVE, "UNBACKED: job job1", MALLORY.workerId(),
                    "replay kept in schema agora_audit_kept", "AUDIT FOUND PROBLEMS");
            assertThat(schemaExists("agora_audit_kept")).isTrue();
        } finally {
            try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                st.execute("UPDATE " + LIVE + ".verdicts SET agreeing = array_remove(agreeing, '" + MALLORY.workerId() + "')");
                st.execute("DROP SCHEMA IF EXISTS agora_audit_kept CASCADE");
            }
        }
    }

    @Test
    void auditExitsTwoWhenItCannotRun() {
        StringWriter out = new StringWriter();
        int code = run(out, "audit", "--jdbc-url", "jdbc:postgresql://localhost:1/none", "--live-schema", LIVE);
        assertThat(code).isEqualTo(2);
        assertThat(out.toString()).contains("audit could not run");
    }

    @Test
    void analyticsReadsTheRangeAndWritesFiles(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        int code = run(out, "analytics", "--from", "-1h", "--to", "now", "--out", dir.toString());
        System.out.println(out);
        assertThat(code).as(out.toString()).isZero();
        assertThat(out.toString()).contains("1 verdicts", "p50=8000", "earned=120", "public       1/1 COMPLETED (100.0%)");
        assertThat(Files.readAllLines(dir.resolve("prices.csv"))).contains("10,10,1", "12,12,1");
        assertThat(ImageIO.read(dir.resolve("throughput.png").toFile())).isNotNull();

        StringWriter none = new StringWriter();
        assertThat(run(none, "analytics", "--from", "2020-01-01T00:00:00Z", "--to", "2020-01-01T01:00:00Z", "--out",
                dir.resolve("old").toString())).isZero();
        assertThat(none.toString()).contains("0 verdicts");
    }

    @Test
    void analyticsRejectsABadRange() {
        StringWriter out = new StringWriter();
        assertThat(run(out, "analytics", "--from", "now", "--to", "-1h", "--out", "/tmp/x")).isEqualTo(2);
        assertThat(out.toString()).contains("is not before");
    }

    private static boolean schemaExists(String schema) throws Exception {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM information_schema.schemata WHERE schema_name = '" + schema + "'")) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }
}
