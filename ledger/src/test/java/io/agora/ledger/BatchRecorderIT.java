package io.agora.ledger;

import io.agora.events.JobEventType;
import io.agora.events.JobVerdict;
import io.agora.events.Outcome;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.market.Accounts;
import io.agora.schemas.Identity;
import io.agora.schemas.Receipts;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.agora.ledger.Events.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The transactional handler against a real PostgreSQL. */
class BatchRecorderIT {
    private DataSource ds;
    private String schema;
    private BatchRecorder recorder;
    private long offset;

    @BeforeEach
    void setUp() {
        ds = TestPostgres.dataSource();
        schema = TestPostgres.freshSchema("rec");
        LedgerSchema.migrate(ds, schema);
        recorder = new BatchRecorder(ds, schema, "g");
    }

    @Test
    void migrationCreatesTheProjection() throws SQLException {
        List<String> tables = strings("SELECT table_name FROM information_schema.tables WHERE table_schema = '"
                + schema + "' ORDER BY 1");
        assertThat(tables).contains("ledger_transactions", "ledger_postings", "accounts", "jobs", "job_events",
                "verdicts", "reputation_events", "worker_reputation", "worker_earnings",
                "consumer_offsets");
        LedgerSchema.migrate(ds, schema); // idempotent on restart
    }

    @Test
    void sameBatchTwiceIsAppliedOnce() throws SQLException {
        List<SinkRecord> batch = records(grant("c1", 5_000), hold("c1", "j1", 2_000),
                jobEvent("j1", "c1", JobEventType.ACCEPTED, 0), reputation("w1", 5));
        BatchRecorder.Result first = recorder.record(batch, nextOffsets(batch), null);
        BatchRecorder.Result second = recorder.record(batch, nextOffsets(batch), null);

        assertThat(first.applied()).isEqualTo(4);
        assertThat(second.applied()).isZero();
        assertThat(second.duplicates()).isEqualTo(4);
        assertThat(balance("client:c1")).isEqualTo(3_000);
        assertThat(balance("escrow:j1")).isEqualTo(2_000);
        assertThat(balance("mint:grants")).isEqualTo(-5_000);
        assertThat(longValue("SELECT reputation FROM worker_reputation WHERE worker_id = 'w1'")).isEqualTo(5);
        assertThat(longValue("SELECT count(*) FROM ledger_postings")).isEqualTo(4);
    }

    @Test
    void aRetriedTransactionWithANewEventIdIsRefusedByItsTransactionId() throws SQLException {
        recorder.record(records(grant("c1", 5_000)), Map.of(), null);
        recorder.record(records(grant("c1", 5_000)), Map.of(), null);
        assertThat(balance("client:c1")).isEqualTo(5_000);
    }

    @Test
    void unbalancedTransactionIsRefusedWithAClearReasonAndTheRestCommits() throws SQLException {
        List<SinkRecord> batch = records(grant("c1", 5_000),
                entry("bad:1", "c1", io.agora.events.EntryKind.DEPOSIT, null, p("mint:deposits", -100), p("client:c1", 150)),
                hold("c1", "j1", 1_000));
        BatchRecorder.Result result = recorder.record(batch, nextOffsets(batch), null);

        assertThat(result.applied()).isEqualTo(2);
        assertThat(result.refused()).singleElement().satisfies(r -> {
            assertThat(r.record().offset()).isEqualTo(batch.get(1).offset());
            assertThat(r.reason()).contains("bad:1", "unbalanced", "sum to 50");
        });
        assertThat(balance("client:c1")).isEqualTo(4_000);
        assertThat(longValue("SELECT count(*) FROM ledger_transactions WHERE transaction_id = 'bad:1'")).isZero();
        assertThat(storedOffset(Topics.LEDGER.name(), 0)).isEqualTo(batch.get(2).offset() + 1);
    }

    @Test
    void theDatabaseItselfRefusesUnbalancedPostings() throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SET search_path TO " + schema);
            st.execute("INSERT INTO ledger_transactions VALUES ('t', 'e', 'c', 'DEPOSIT', null, '', now())");
            st.execute("INSERT INTO ledger_postings VALUES ('t', 0, 'client:c', 10)");
            assertThatThrownBy(c::commit).hasMessageContaining("ledger transaction t is unbalanced");
        }
    }

    @Test
    void overdraftIsRefused() throws SQLException {
        List<SinkRecord> batch = records(grant("c1", 1_000), hold("c1", "j1", 1_500));
        BatchRecorder.Result result = recorder.record(batch, nextOffsets(batch), null);

        assertThat(result.refused()).singleElement()
                .satisfies(r -> assertThat(r.reason()).contains("hold:j1", "negative", "client:c1"));
        assertThat(balance("client:c1")).isEqualTo(1_000);
        assertThat(longValue("SELECT count(*) FROM accounts WHERE account_id = 'escrow:j1'")).isZero();
    }

    @Test
    void aCrashBeforeCommitLeavesNothingAndTheRetryAppliesOnce() throws SQLException {
        List<SinkRecord> batch = records(grant("c1", 5_000), hold("c1", "j1", 2_000));
        assertThatThrownBy(() -> recorder.record(batch, nextOffsets(batch), refused -> {
            throw new IllegalStateException("killed before commit");
        })).hasMessageContaining("killed before commit");

        assertThat(longValue("SELECT count(*) FROM ledger_transactions")).isZero();
        assertThat(longValue("SELECT count(*) FROM accounts")).isZero();
        assertThat(recorder.storedOffsets(null)).isEmpty();

        BatchRecorder.Result retry = recorder.record(batch, nextOffsets(batch), null);
        assertThat(retry.applied()).isEqualTo(2);
        assertThat(balance("client:c1")).isEqualTo(3_000);
        assertThat(recorder.storedOffsets(null)).containsEntry(new TopicPartition(Topics.LEDGER.name(), 0),
                batch.get(1).offset() + 1);
    }

    @Test
    void storedOffsetsNeverMoveBack() throws SQLException {
        TopicPartition tp = new TopicPartition(Topics.LEDGER.name(), 3);
        recorder.record(List.of(), Map.of(tp, 10L), null);
        recorder.record(List.of(), Map.of(tp, 7L), null);
        assertThat(recorder.storedOffsets(List.of(tp))).containsEntry(tp, 10L);
    }

    @Test
    void aTerminalStatusIsNeverOverwrittenByALaterEvent() throws SQLException {
        recorder.record(records(jobEvent("j1", "c1", JobEventType.ACCEPTED, 0),
                jobEvent("j1", "c1", JobEventType.COMPLETED, 3_000),
                jobEvent("j1", "c1", JobEventType.STARTED, 2_000),
                jobEvent("j2", "c1", JobEventType.REJECTED, 0),
                jobEvent("j2", "c1", JobEventType.QUEUED, 1_000)), Map.of(), null);

        assertThat(string("SELECT status FROM jobs WHERE job_id = 'j1'")).isEqualTo("COMPLETED");
        assertThat(string("SELECT status FROM jobs WHERE job_id = 'j2'")).isEqualTo("REJECTED");
        assertThat(string("SELECT updated_at = submitted_at + interval '3 seconds' FROM jobs WHERE job_id = 'j1'"))
                .isEqualTo("t");
        assertThat(longValue("SELECT count(*) FROM job_events")).isEqualTo(5);
    }

    @Test
    void jobRowIsTheSameWhateverOrderEventsAndVerdictArriveIn() throws SQLException {
        var accepted = jobEvent("j1", "c1", JobEventType.ACCEPTED, 0);
        var running = jobEvent("j1", "c1", JobEventType.STARTED, 1_000);
        var completed = jobEvent("j1", "c1", JobEventType.COMPLETED, 12_000);
        var verdict = verdict("j1", "c1", Outcome.COMPLETED, 300, 700);

        recorder.record(records(accepted, running, completed, verdict), Map.of(), null);
        String other = TestPostgres.freshSchema("rec");
        LedgerSchema.migrate(ds, other);
        new BatchRecorder(ds, other, "g").record(records(verdict, accepted, running, completed), Map.of(), null);

        assertThat(AuditReport.compare(ds, schema, other).findings()).isEmpty();
        assertThat(string("SELECT status || ' ' || cost_micros || ' ' || escrow_micros || ' ' || array_to_string(agreeing, ',') FROM jobs"))
                .isEqualTo("COMPLETED 300 1000 w1,w2");
    }

    @Test
    void aVerdictKeepsItsLogsAndTheAgreedFilesOnceAndTheAuditComparesThem() throws SQLException {
        JobVerdict v = JobVerdict.newBuilder(verdict("j1", "c1", Outcome.COMPLETED, 300, 700))
                .setOutputTruncated(true).setStderr("warn\n").setFiles(Map.of("/outputs/b", "bb", "/outputs/a", "aa")).build();
        recorder.record(records(v), Map.of(), null);
        recorder.record(records(JobVerdict.newBuilder(v).setEventId("again").setFiles(Map.of("/outputs/c", "cc")).build()),
                Map.of(), null);
        assertThat(string("SELECT output_truncated || ' ' || stderr || stderr_truncated FROM verdicts")).isEqualTo("true warn\nfalse");
        assertThat(strings("SELECT path || '=' || sha256 FROM verdict_files ORDER BY path")).containsExactly("/outputs/a=aa", "/outputs/b=bb");

        String other = TestPostgres.freshSchema("rec");
        LedgerSchema.migrate(ds, other);
        new BatchRecorder(ds, other, "g").record(records(v), Map.of(), null);
        assertThat(AuditReport.compare(ds, schema, other).findings()).isEmpty();
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("UPDATE " + other + ".verdict_files SET sha256 = 'zz' WHERE path = '/outputs/a'");
        }
        assertThat(AuditReport.compare(ds, schema, other).findings()).anyMatch(f -> f.contains("verdict_files"));
    }

    @Test
    void theVerdictsCostPartsReachItsRowAndItsJobAndTheAuditComparesThem() throws SQLException {
        JobVerdict v = JobVerdict.newBuilder(verdict("j1", "c1", Outcome.COMPLETED, 1_000, 0))
                .setGpuCostMicros(600).setMemoryCostMicros(150).build();
        JobVerdict cpuOnly = verdict("j2", "c1", Outcome.COMPLETED, 300, 700);
        recorder.record(records(v, cpuOnly), Map.of(), null);
        assertThat(strings("SELECT job_id || ' ' || gpu_cost_micros || ' ' || memory_cost_micros FROM verdicts ORDER BY 1"))
                .containsExactly("j1 600 150", "j2 0 0");
        assertThat(strings("SELECT job_id || ' ' || gpu_cost_micros || ' ' || memory_cost_micros FROM jobs ORDER BY 1"))
                .containsExactly("j1 600 150", "j2 0 0");

        String other = TestPostgres.freshSchema("rec");
        LedgerSchema.migrate(ds, other);
        new BatchRecorder(ds, other, "g").record(records(v, cpuOnly), Map.of(), null);
        assertThat(AuditReport.compare(ds, schema, other).findings()).isEmpty();
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("UPDATE " + other + ".verdicts SET gpu_cost_micros = 0 WHERE job_id = 'j1'");
        }
        assertThat(AuditReport.compare(ds, schema, other).findings()).anyMatch(f -> f.startsWith("verdicts:"));
    }

    @Test
    void workerEarningsSumsPayouts() throws SQLException {
        recorder.record(records(grant("c1", 5_000), hold("c1", "j1", 2_000), payout("c1", "j1", "w1", 1_200),
                refund("c1", "j1", 800)), Map.of(), null);
        assertThat(longValue("SELECT sum(amount_micros) FROM worker_earnings WHERE worker_id = 'w1'")).isEqualTo(1_200);
        assertThat(longValue("SELECT count(*) FROM worker_earnings WHERE worker_id = 'w2'")).isZero();
        assertThat(AuditReport.check(ds, schema).findings()).isEmpty();
    }

    @Test
    void aStakeAndASlashBalanceAreNotEarningsAndTheJobShowsItsDispute() throws SQLException {
        long ts = T0.toEpochMilli();
        io.agora.market.Stake.Account liar = new io.agora.market.Stake.Account(200, 800, 0, 0, -1, java.util.Set.of("j1"));
        io.agora.market.Stake.Slash slash = io.agora.market.Stake.slash(liar, 1_000, List.of("h1"));
        recorder.record(records(grant("c1", 5_000), hold("c1", "j1", 2_000), payout("c1", "j1", "w1", 1_000),
                refund("c1", "j1", 1_000), io.agora.market.Postings.stake("w1", 7, 800, ts),
                jobEvent("j1", "c1", JobEventType.ACCEPTED, 0),
                io.agora.events.JobEvent.newBuilder(jobEvent("j1", "c1", JobEventType.DISPUTED, 10)).setReason("opened: 2 dispute replicas").build(),
                io.agora.market.Postings.slash("j1", "c1", "w1", slash, ts + 20),
                io.agora.events.JobEvent.newBuilder(jobEvent("j1", "c1", JobEventType.DISPUTED, 20)).setReason("overturned: dispute replicas agree on x").build(),
                io.agora.events.JobEvent.newBuilder(jobEvent("j1", "c1", JobEventType.DISPUTED, 30)).setReason("refused: already disputed").build()),
                Map.of(), null);
        assertThat(longValue("SELECT balance_micros FROM accounts WHERE account_id = 'stake:w1'")).isEqualTo(400);
        assertThat(longValue("SELECT balance_micros FROM accounts WHERE account_id = 'worker:w1'")).as("reclaimed").isZero();
        assertThat(longValue("SELECT balance_micros FROM accounts WHERE account_id = 'client:c1'"))
                .as("the 200 its credits paid back, then the 800 short out of the slashed 400 first: all of it")
                .isEqualTo(5_000 - 1_000 + 200 + 400);
        assertThat(longValue("SELECT coalesce(max(balance_micros), 0) FROM accounts WHERE account_id = 'mint:slashed'"))
                .as("nothing left to burn").isZero();
        assertThat(longValue("SELECT sum(amount_micros) FROM worker_earnings WHERE worker_id = 'w1'"))
                .as("the payout less what was reclaimed; the stake move is not earnings").isEqualTo(1_000 - 200);
        assertThat(longValue("SELECT coalesce(sum(amount_micros), 0) FROM worker_earnings WHERE worker_id = 'h1'"))
                .as("nothing left to share while the client is short").isZero();
        assertThat(string("SELECT dispute FROM jobs WHERE job_id = 'j1'")).isEqualTo("overturned");
        assertThat(AuditReport.check(ds, schema).findings()).isEmpty();
    }

    @Test
    void aStakeAndASlashReadBeforeTheCreditsTheySpendAreBookedAndTheLedgerEndsAsInOrder() throws SQLException {
        long ts = T0.toEpochMilli();
        io.agora.market.Stake.Account liar = new io.agora.market.Stake.Account(1_000, 800, 0, 0, -1, java.util.Set.of("j2"));
        io.agora.market.Stake.Slash slash = io.agora.market.Stake.slash(liar, 1_000, List.of("h1"));
        // the worker's partition (its STAKE) and the second job's SLASH read before the client's partition
        // (the PAYOUTs they spend), as the sink or the audit's replay may read them
        recorder.record(records(io.agora.market.Postings.stake("w1", 7, 800, ts), io.agora.market.Postings.slash("j2", "c1", "w1", slash, ts)),
                Map.of(), null);
        assertThat(balance("worker:w1")).as("booked before its credits").isEqualTo(-800 - 1_000);
        assertThat(AuditReport.check(ds, schema).findings()).as("not caught up yet").anyMatch(f -> f.contains("worker:w1 is negative"));
        recorder.record(records(grant("c1", 5_000), hold("c1", "j1", 2_000), payout("c1", "j1", "w1", 800), refund("c1", "j1", 1_200),
                hold("c1", "j2", 2_000), payout("c1", "j2", "w1", 1_000), refund("c1", "j2", 1_000)), Map.of(), null);
        assertThat(balance("worker:w1")).isZero();
        assertThat(balance("stake:w1")).isEqualTo(400);
        assertThat(balance("client:c1")).isEqualTo(5_000 - 800 - 1_000 + 1_000 + 160);
        assertThat(AuditReport.check(ds, schema).findings()).isEmpty();
        // a client's account is still never booked below 0
        BatchRecorder.Result overdraft = recorder.record(records(hold("c1", "j3", 1_000_000)), Map.of(), null);
        assertThat(overdraft.refused()).singleElement().satisfies(r -> assertThat(r.reason()).contains("client:c1", "negative"));
    }

    @Test
    void aDisputeFeePaidToTheWorkersIsEarnings() throws SQLException {
        long ts = T0.toEpochMilli();
        recorder.record(records(grant("c1", 5_000), hold("c1", "j1", 2_000), payout("c1", "j1", "w1", 1_000),
                refund("c1", "j1", 1_000), io.agora.market.Postings.disputeFee("j1", "c1", 300, ts),
                io.agora.market.Postings.disputeFeePaid("j1", "c1", List.of("w1", "w2"), 300, ts + 10)), Map.of(), null);
        assertThat(longValue("SELECT sum(amount_micros) FROM worker_earnings WHERE worker_id = 'w1'"))
                .as("the payout and half the fee").isEqualTo(1_000 + 150);
        assertThat(longValue("SELECT sum(amount_micros) FROM worker_earnings WHERE worker_id = 'w2'")).isEqualTo(150);
        assertThat(longValue("SELECT count(*) FROM worker_earnings WHERE kind = 'DISPUTE_FEE'")).isEqualTo(2);
        assertThat(AuditReport.check(ds, schema).findings()).isEmpty();
    }

    @Test
    void auditReportFindsARowAlteredByHand() throws SQLException {
        List<SinkRecord> batch = records(grant("c1", 5_000), hold("c1", "j1", 2_000),
                jobEvent("j1", "c1", JobEventType.ACCEPTED, 0), verdict("j1", "c1", Outcome.COMPLETED, 0, 2_000),
                refund("c1", "j1", 2_000));
        recorder.record(batch, Map.of(), null);
        String copy = TestPostgres.freshSchema("rec");
        LedgerSchema.migrate(ds, copy);
        new BatchRecorder(ds, copy, "g").record(batch, Map.of(), null);
        assertThat(AuditReport.compare(ds, schema, copy).clean()).isTrue();

        exec("UPDATE " + copy + ".accounts SET balance_micros = balance_micros + 1 WHERE account_id = 'client:c1'");
        exec("UPDATE " + copy + ".jobs SET status = 'RUNNING' WHERE job_id = 'j1'");
        AuditReport report = AuditReport.compare(ds, schema, copy);

        assertThat(report.clean()).isFalse();
        assertThat(report.findings()).anySatisfy(f -> assertThat(f).startsWith("accounts: only in " + copy).contains("5001"))
                .anySatisfy(f -> assertThat(f).startsWith("jobs: only in " + copy).contains("RUNNING"))
                .anySatisfy(f -> assertThat(f).contains("credits not conserved"))
                .anySatisfy(f -> assertThat(f).contains("client:c1 has balance 5001 but its postings sum to 5000"));
    }

    @Test
    void theReceiptIsStoredAndTheAuditVerifiesItAgainstTheMarketKeyAndThePostings() throws SQLException {
        Identity market = Identity.generate();
        JobVerdict good = verdict("j1", "c1", Outcome.COMPLETED, 1_200, 800);
        good.setReceipt(receipt(market, "j1", 1_200, 800));
        JobVerdict forged = verdict("j2", "c1", Outcome.COMPLETED, 1_001, 999);
        Receipt raised = receipt(market, "j2", 1_000, 1_000);
        raised.getPayouts().get(0).setMicros(1_001L); // a payout raised by one after signing
        raised.setRefundMicros(999L);
        forged.setReceipt(raised);
        recorder.record(records(grant("c1", 5_000), hold("c1", "j1", 2_000), payout("c1", "j1", "w1", 1_200),
                refund("c1", "j1", 800), good, hold("c1", "j2", 2_000), payout("c1", "j2", "w1", 1_000),
                refund("c1", "j2", 1_000), forged), Map.of(), null);

        assertThat(Receipts.fromBytes(bytes("SELECT receipt FROM verdicts WHERE job_id = 'j1'"))).isEqualTo(good.getReceipt());
        AuditReport report = AuditReport.check(ds, schema).withReceipts(ds, schema, market.workerId());
        assertThat(report.findings()).noneMatch(f -> f.contains("job j1"));
        assertThat(report.findings()).anySatisfy(f -> assertThat(f).contains("receipt of job j2: bad signature"))
                .anySatisfy(f -> assertThat(f).contains("receipt of job j2 says").contains("PAYOUT worker:w1=1001"));
        assertThat(AuditReport.checkReceipts(ds, schema, Identity.generate().workerId()).findings())
                .anySatisfy(f -> assertThat(f).contains("receipt of job j1: signed by " + market.workerId()));
    }

    @Test
    void theDisputeReceiptIsStoredAndTheAuditVerifiesItAgainstTheFeeAndSlashPostings() throws SQLException {
        Identity market = Identity.generate();
        io.agora.events.JobEvent upheld = jobEvent("j1", "c1", JobEventType.DISPUTED, 5_000);
        upheld.setDisputeReceipt(disputeReceipt(market, "j1", false, List.of(new io.agora.events.DisputeFeePayout("w3", 100L)), 0,
                List.of(), List.of()));
        io.agora.events.JobEvent overturned = jobEvent("j2", "c1", JobEventType.DISPUTED, 5_000);
        // signed and balanced, but the ledger refunded all 100 and a SLASH credited w5, whom it does not name
        overturned.setDisputeReceipt(disputeReceipt(market, "j2", true, List.of(new io.agora.events.DisputeFeePayout("w3", 40L)),
                60, List.of("w1"), List.of("w4")));
        io.agora.events.JobEvent settled = jobEvent("j2", "c1", JobEventType.DISPUTED, 6_000);
        io.agora.market.Stake.Slash slash = new io.agora.market.Stake.Slash(0, 500, 200, Map.of("w5", 200L), 100);
        settled.setReason("settled: 1 slashes took 500 micro-credits");
        settled.setSettlementReceipt(Receipts.sign(io.agora.events.SettlementReceipt.newBuilder().setJobId("j2").setClientId("c1")
                .setSlashes(List.of(io.agora.market.Postings.taken("w1", slash))).setIssuedAt(T0.plusSeconds(6)).setMarketKey("")
                .setSignature(ByteBuffer.allocate(0)).build(), market));
        long t = T0.toEpochMilli();
        recorder.record(records(grant("c1", 5_000),
                entry("bond:w1", "w1", io.agora.events.EntryKind.STAKE, null, p(Accounts.MINT_GRANTS, -1_000), p(Accounts.stake("w1"), 1_000)),
                io.agora.market.Postings.disputeFee("j1", "c1", 100, t), io.agora.market.Postings.disputeFeePaid("j1", "c1", List.of("w3"), 100, t),
                upheld, io.agora.market.Postings.disputeFee("j2", "c1", 100, t), io.agora.market.Postings.disputeFeeRefund("j2", "c1", 100, t),
                io.agora.market.Postings.slash("j2", "c1", "w1", slash, t), overturned, settled), Map.of(), null);

        assertThat(Receipts.disputeFromBytes(bytes("SELECT dispute_receipt FROM job_events WHERE job_id = 'j1'")))
                .isEqualTo(upheld.getDisputeReceipt());
        List<String> findings = AuditReport.checkReceipts(ds, schema, market.workerId()).findings();
        assertThat(findings).noneMatch(f -> f.contains("job j1"));
        assertThat(findings).anySatisfy(f -> assertThat(f).contains("dispute receipt of job j2 says the fee went to")
                        .contains("but the ledger credited {client:c1=100}"))
                .anySatisfy(f -> assertThat(f).contains("a SLASH of job j2 moved 200 on worker:w5"))
                .noneMatch(f -> f.contains("stake:w1"))
                .noneMatch(f -> f.contains("settlement receipt")); // its amounts are the SLASH posted
        assertThat(Receipts.settlementFromBytes(bytes("SELECT settlement_receipt FROM job_events WHERE settlement_receipt IS NOT NULL")))
                .isEqualTo(settled.getSettlementReceipt());
        assertThat(AuditReport.checkReceipts(ds, schema, Identity.generate().workerId()).findings())
                .anySatisfy(f -> assertThat(f).contains("dispute receipt of job j1: signed by " + market.workerId()))
                .anySatisfy(f -> assertThat(f).contains("settlement receipt of job j2: signed by " + market.workerId()));
    }

    @Test
    void anOverturnedDisputeWithoutASettlementReceiptIsSettledFromItsSlashPostingsAndTheAuditChecksIt() throws SQLException {
        Identity market = Identity.generate();
        long ts = T0.toEpochMilli();
        io.agora.market.Stake.Account liar = new io.agora.market.Stake.Account(200, 800, 0, 0, -1, java.util.Set.of("j1"));
        io.agora.market.Stake.Slash slash = io.agora.market.Stake.slash(liar, 1_000, List.of("h1"));
        // as a build before slash results left it: the verdict (w1 and w2 agreeing), a dispute overturned with no
        // receipt, one SLASH (w2 had nothing to take: no transaction); j2 the same, decided after the cut-off
        recorder.record(records(grant("c1", 5_000), hold("c1", "j1", 2_000), payout("c1", "j1", "w1", 1_000),
                refund("c1", "j1", 1_000), io.agora.market.Postings.stake("w1", 7, 800, ts),
                jobEvent("j1", "c1", JobEventType.ACCEPTED, 0), verdict("j1", "c1", Outcome.COMPLETED, 1_000, 1_000),
                io.agora.events.JobEvent.newBuilder(jobEvent("j1", "c1", JobEventType.DISPUTED, 20))
                        .setReason("overturned: dispute replicas agree on x").build(),
                io.agora.market.Postings.slash("j1", "c1", "w1", slash, ts + 20),
                jobEvent("j2", "c1", JobEventType.ACCEPTED, 0), verdict("j2", "c1", Outcome.COMPLETED, 0, 0),
                io.agora.events.JobEvent.newBuilder(jobEvent("j2", "c1", JobEventType.DISPUTED, 60_000))
                        .setReason("overturned: dispute replicas agree on x").build()), Map.of(), null);
        assertThat(AuditReport.checkReceipts(ds, schema, market.workerId()).findings())
                .anySatisfy(f -> assertThat(f).endsWith("the overturned dispute of job j1 has no settlement receipt"
                        + " (agora settle-disputes settles it from its SLASH transactions)"))
                .anySatisfy(f -> assertThat(f).contains("the overturned dispute of job j2 has no settlement receipt"));

        DisputeSettlements.Found found = DisputeSettlements.find(ds, schema, T0.plusSeconds(30), market, T0.plusSeconds(90));
        assertThat(found.refused()).isEmpty();
        io.agora.events.JobEvent settled = found.settled().stream().filter(e -> e.getJobId().equals("j1")).findFirst().orElseThrow();
        assertThat(found.settled()).as("j2 was decided after the cut-off").hasSize(1);
        assertThat(settled.getType()).isEqualTo(JobEventType.DISPUTED);
        assertThat(settled.getReason()).isEqualTo("settled from the ledger: 2 slashes took 600 micro-credits"
                + " (what the job paid them and part of their bonds)");
        io.agora.events.SettlementReceipt r = settled.getSettlementReceipt();
        assertThat(Receipts.problems(r, market.workerId())).isEmpty();
        assertThat(r.getSlashes()).as("in the verdict's order, w2's taking nothing")
                .containsExactly(io.agora.market.Postings.taken("w1", slash),
                        new io.agora.events.SlashTaken("w2", 0L, 0L, 0L, List.of(), 0L));

        // published, the sink keeps it like the verifier's own, and the audit checks it against the SLASH postings
        recorder.record(records(settled), Map.of(), null);
        assertThat(AuditReport.checkReceipts(ds, schema, market.workerId()).findings()).noneMatch(f -> f.contains("job j1"));
        assertThat(DisputeSettlements.find(ds, schema, T0.plusSeconds(30), market, T0.plusSeconds(90)).settled())
                .as("settled once").isEmpty();
        assertThat(AuditReport.checkReceipts(ds, schema, Identity.generate().workerId()).findings())
                .anySatisfy(f -> assertThat(f).contains("settlement receipt of job j1: signed by " + market.workerId()));

        // a SLASH of a worker the verdict did not name: nothing signed, the dispute refused with the reason
        recorder.record(records(io.agora.market.Postings.slash("j2", "c1", "w9", slash, ts + 60_000)), Map.of(), null);
        DisputeSettlements.Found j2 = DisputeSettlements.find(ds, schema, T0.plusSeconds(90), market, T0.plusSeconds(90));
        assertThat(j2.settled()).isEmpty();
        assertThat(j2.refused()).containsExactly("job j2: its SLASH transactions are not the slashes of [w1, w2] for client c1;"
                + " nothing signed");
    }

    private static io.agora.events.DisputeReceipt disputeReceipt(Identity market, String job, boolean overturned,
                                                                 List<io.agora.events.DisputeFeePayout> payouts, long refund,
                                                                 List<String> slashed, List<String> honest) {
        return Receipts.sign(io.agora.events.DisputeReceipt.newBuilder().setJobId(job).setClientId("c1").setOverturned(overturned)
                .setDecidedHash("abc").setFeeMicros(100).setFeePayouts(payouts).setFeeRefundMicros(refund).setSlashed(slashed)
                .setHonestWorkers(honest).setIssuedAt(T0.plusSeconds(5)).setMarketKey("").setSignature(ByteBuffer.allocate(0))
                .build(), market);
    }

    private static Receipt receipt(Identity market, String job, long payout, long refund) {
        return Receipts.sign(Receipt.newBuilder().setJobId(job).setClientId("c1").setOutcome(Outcome.COMPLETED)
                .setAgreedHash("abc").setPayouts(new ArrayList<>(List.of(new ReceiptPayout("w1", payout))))
                .setRefundMicros(refund).setEscrowMicros(payout + refund).setIssuedAt(T0.plusSeconds(10))
                .setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), market);
    }

    private byte[] bytes(String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("SET search_path TO " + schema);
            try (ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                return rs.getBytes(1);
            }
        }
    }

    // --- helpers ---

    private List<SinkRecord> records(SpecificRecord... events) {
        List<SinkRecord> out = new ArrayList<>();
        for (SpecificRecord e : events) {
            String topic = switch (e.getClass().getSimpleName()) {
                case "LedgerEntry" -> Topics.LEDGER.name();
                case "JobEvent" -> Topics.JOB_EVENTS.name();
                case "JobVerdict" -> Topics.VERDICTS.name();
                default -> Topics.REPUTATION.name();
            };
            out.add(new SinkRecord(topic, 0, offset++, null, new byte[0], e));
        }
        return out;
    }

    private static Map<TopicPartition, Long> nextOffsets(List<SinkRecord> batch) {
        Map<TopicPartition, Long> next = new HashMap<>();
        batch.forEach(r -> next.merge(r.topicPartition(), r.offset() + 1, Math::max));
        return next;
    }

    private long balance(String account) throws SQLException {
        return longValue("SELECT balance_micros FROM accounts WHERE account_id = '" + account + "'");
    }

    private long storedOffset(String topic, int partition) throws SQLException {
        return longValue("SELECT next_offset FROM consumer_offsets WHERE topic = '" + topic + "' AND partition = " + partition);
    }

    private long longValue(String sql) throws SQLException {
        return Long.parseLong(string(sql));
    }

    private String string(String sql) throws SQLException {
        List<String> rows = strings(sql);
        assertThat(rows).as(sql).hasSize(1);
        return rows.get(0);
    }

    private List<String> strings(String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("SET search_path TO " + schema);
            List<String> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery(sql)) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    private void exec(String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
