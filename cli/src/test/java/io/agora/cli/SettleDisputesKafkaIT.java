package io.agora.cli;

import io.agora.events.EntryKind;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.ledger.AuditReport;
import io.agora.ledger.Replay;
import io.agora.market.Accounts;
import io.agora.market.Postings;
import io.agora.market.Stake;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.Receipts;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import io.agora.schemas.testing.KafkaTestCluster;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.agora.cli.Market.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code agora settle-disputes} against an in-JVM Kafka broker and an embedded PostgreSQL: a dispute overturned by a
 * build before slash results (SLASH booked, no settlement receipt) is settled from the ledger, published once, kept by
 * the sink's projection and passes the receipts audit.
 */
class SettleDisputesKafkaIT {
    private static final AgoraSerdes SERDES = AgoraSerdes.plain();

    @Test
    void anOverturnedDisputeWithoutASettlementReceiptIsSettledFromTheLedgerPublishedOnceAndPassesTheAudit(@TempDir Path dir)
            throws Exception {
        try (KafkaTestCluster kafka = KafkaTestCluster.start(); EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            String jdbcUrl = "jdbc:postgresql://localhost:" + pg.getPort() + "/postgres";
            ds.setURL(jdbcUrl);
            ds.setUser("postgres");
            ds.setPassword("postgres");
            Identity market = Identity.generate();
            Path key = dir.resolve("verifier-market.key");
            Files.writeString(key, Base64.getEncoder().encodeToString(market.privateKey().getEncoded()) + "\n");

            Instant t = Instant.now().minusSeconds(3_600);
            Stake.Slash slash = Stake.slash(new Stake.Account(0, 100, 0, 0, -1, Set.of("job1")), 100, List.of("w3"));
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers",
                    kafka.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
                for (LedgerEntry e : List.of(
                        entry("grant:c1", EntryKind.STARTER_GRANT, null, t, posting(Accounts.MINT_GRANTS, -1000),
                                posting(Accounts.client("c1"), 1000)),
                        entry("hold:job1", EntryKind.ESCROW_HOLD, "job1", t, posting(Accounts.client("c1"), -500),
                                posting(Accounts.escrow("job1"), 500)),
                        payout("job1", "w1", 100, t), payout("job1", "w2", 120, t),
                        entry("refund:job1", EntryKind.REFUND, "job1", t, posting(Accounts.escrow("job1"), -280),
                                posting(Accounts.client("c1"), 280)),
                        Postings.stake("w1", 1, 100, t.toEpochMilli()),
                        Postings.slash("job1", "c1", "w1", slash, t.plusSeconds(60).toEpochMilli()))) {
                    send(p, Topics.LEDGER, "c1", e);
                }
                send(p, Topics.VERDICTS, "job1", verdict("job1", Outcome.COMPLETED, List.of("w1", "w2"), List.of(), t, t));
                send(p, Topics.JOB_EVENTS, "job1", JobEvent.newBuilder().setEventId(id()).setJobId("job1").setClientId("c1")
                        .setType(JobEventType.ACCEPTED).setPool("public").setEscrowMicros(500).setTimestamp(t).build());
                send(p, Topics.JOB_EVENTS, "job1", JobEvent.newBuilder().setEventId(id()).setJobId("job1").setClientId("c1")
                        .setType(JobEventType.DISPUTED).setPool("public").setReason("overturned: dispute replicas agree on h2")
                        .setTimestamp(t.plusSeconds(60)).build());
            }
            new Replay(kafka.bootstrapServers(), SERDES, ds, "agora_live").toEnd(); // what the sink wrote
            assertThat(AuditReport.checkReceipts(ds, "agora_live", market.workerId()).findings())
                    .anySatisfy(f -> assertThat(f).contains("the overturned dispute of job job1 has no settlement receipt"));

            StringWriter dry = new StringWriter();
            assertThat(run(kafka, dry, settle(jdbcUrl, key, "agora_live", "--dry-run"))).as(dry.toString()).isZero();
            assertThat(dry.toString()).contains("signing with market key " + market.workerId(),
                    "would settle job job1: settled from the ledger: 2 slashes took 50 micro-credits",
                    "1 settled, 0 refused (dry run: nothing published)");
            StringWriter out = new StringWriter();
            assertThat(run(kafka, out, settle(jdbcUrl, key, "agora_live"))).as(out.toString()).isZero();
            assertThat(out.toString()).contains("settled job job1: settled from the ledger", "1 settled, 0 refused");

            // the sink reads the published settlement like the verifier's own, and the audit checks it
            new Replay(kafka.bootstrapServers(), SERDES, ds, "agora_after").toEnd();
            assertThat(AuditReport.checkReceipts(ds, "agora_after", market.workerId()).findings()).noneMatch(f -> f.contains("job1"));
            List<byte[]> stored = receipts(ds, "agora_after");
            assertThat(stored).as("published once: the dry run published nothing").hasSize(1);
            var r = Receipts.settlementFromBytes(stored.get(0));
            assertThat(r.getSlashes()).containsExactly(Postings.taken("w1", slash),
                    new io.agora.events.SlashTaken("w2", 0L, 0L, 0L, List.of(), 0L));
            StringWriter again = new StringWriter();
            assertThat(run(kafka, again, settle(jdbcUrl, key, "agora_after"))).isZero();
            assertThat(again.toString()).contains("0 settled, 0 refused");
        }
    }

    private static String[] settle(String jdbcUrl, Path key, String schema, String... extra) {
        List<String> a = new ArrayList<>(List.of("settle-disputes", "--jdbc-url", jdbcUrl, "--jdbc-user", "postgres",
                "--jdbc-password", "postgres", "--live-schema", schema, "--market-key-secret", key.toString(),
                "--decided-before", "now"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static int run(KafkaTestCluster kafka, StringWriter out, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", kafka.bootstrapServers(), "--registry", "plain"));
        return AgoraCli.run(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(out, true));
    }

    private static <V> void send(KafkaProducer<String, byte[]> p, TopicSpec<String, V> topic, String key, V value) throws Exception {
        p.send(new ProducerRecord<>(topic.name(), key, SERDES.valueSerde(topic).serializer().serialize(topic.name(), value))).get();
    }

    private static List<byte[]> receipts(PGSimpleDataSource ds, String schema) throws Exception {
        List<byte[]> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT settlement_receipt FROM " + schema
                     + ".job_events WHERE settlement_receipt IS NOT NULL")) {
            while (rs.next()) {
                out.add(rs.getBytes(1));
            }
        }
        return out;
    }
}
