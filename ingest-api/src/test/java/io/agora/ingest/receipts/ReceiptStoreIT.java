package io.agora.ingest.receipts;

import io.agora.events.Outcome;
import io.agora.events.Receipt;
import io.agora.schemas.Identity;
import io.agora.schemas.Receipts;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The receipts the sink stored, read back for their own client only, from a real PostgreSQL. */
class ReceiptStoreIT {
    @Test
    void aClientGetsItsOwnJobsReceiptsAndNobodyElses() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            DataSource ds = pg.getPostgresDatabase();
            Flyway.configure().dataSource(ds).schemas("agora").defaultSchema("agora").createSchemas(true)
                    .locations("classpath:ledger/db/migration").load().migrate();
            Receipt r = Receipts.sign(Receipt.newBuilder().setJobId("j1").setClientId("alice").setOutcome(Outcome.EXPIRED)
                    .setPayouts(List.of()).setRefundMicros(1_000).setEscrowMicros(1_000)
                    .setIssuedAt(Instant.ofEpochMilli(5_000)).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(),
                    Identity.generate());
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO agora.verdicts (job_id, event_id, outcome, exit_code, agreeing, dissenting, cost_micros,
                                                refund_micros, submitted_at, decided_at, receipt)
                    VALUES ('j1', 'e1', 'EXPIRED', -1, '{}', '{}', 0, 1000, now(), now(), ?),
                           ('j0', 'e0', 'EXPIRED', -1, '{}', '{}', 0, 1000, now(), now(), NULL)""")) {
                ps.setBytes(1, Receipts.toBytes(r));
                ps.executeUpdate();
            }
            ReceiptStore store = new ReceiptStore(ds);
            assertThat(store.receipt("j1", "alice")).contains(r);
            assertThat(store.receipt("j1", "mallory")).as("someone else's job").isEmpty();
            assertThat(store.receipt("j0", "alice")).as("a verdict from before receipts").isEmpty();
            assertThat(store.receipt("nope", "alice")).isEmpty();

            io.agora.events.DisputeReceipt d = Receipts.sign(io.agora.events.DisputeReceipt.newBuilder().setJobId("j1")
                    .setClientId("alice").setOverturned(true).setDecidedHash("ab").setFeeMicros(100).setFeePayouts(List.of())
                    .setFeeRefundMicros(100).setSlashed(List.of("w1")).setHonestWorkers(List.of("w2"))
                    .setIssuedAt(Instant.ofEpochMilli(9_000)).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(),
                    Identity.generate());
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO agora.job_events (event_id, job_id, type, replica, attempt, ts, dispute_receipt)
                    VALUES ('d0', 'j1', 'DISPUTED', -1, -1, now(), NULL), ('d1', 'j1', 'DISPUTED', -1, -1, now(), ?)""")) {
                ps.setBytes(1, Receipts.toBytes(d));
                ps.executeUpdate();
            }
            assertThat(store.disputeReceipt("j1", "alice")).as("the decision's, not the opening's").contains(d);
            assertThat(store.disputeReceipt("j1", "mallory")).as("someone else's job").isEmpty();
            assertThat(store.disputeReceipt("j0", "alice")).as("never disputed").isEmpty();

            io.agora.events.SettlementReceipt settled = Receipts.sign(io.agora.events.SettlementReceipt.newBuilder().setJobId("j1")
                    .setClientId("alice").setSlashes(List.of(new io.agora.events.SlashTaken("w1", 0L, 0L, 0L, List.of(), 0L)))
                    .setIssuedAt(Instant.ofEpochMilli(9_500)).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(),
                    Identity.generate());
            assertThat(store.settlementReceipt("j1", "alice")).as("not every slash booked yet").isEmpty();
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO agora.job_events (event_id, job_id, type, replica, attempt, ts, settlement_receipt)
                    VALUES ('d2', 'j1', 'DISPUTED', -1, -1, now(), ?)""")) {
                ps.setBytes(1, Receipts.toBytes(settled));
                ps.executeUpdate();
            }
            assertThat(store.settlementReceipt("j1", "alice")).contains(settled);
            assertThat(store.settlementReceipt("j1", "mallory")).as("someone else's job").isEmpty();
            assertThat(store.disputeReceipt("j1", "alice")).as("the dispute's receipt is still the decision's").contains(d);
        }
    }
}
