package io.agora.ledger;

import io.agora.events.JobEvent;
import io.agora.events.JobVerdict;
import io.agora.schemas.Receipts;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Keeps the {@code jobs} row of every job, its {@code job_events} history (with the market-signed receipts of a
 * decided dispute and of an overturned dispute's slashes) and its {@code verdicts} (with the market-signed receipt each carries), from topics {@code agora.jobs.events}
 * and {@code agora.jobs.verdicts}.
 *
 * <p>The two topics are read in no particular order relative to each other, so every column is
 * merged by a rule that gives the same row whatever the interleaving (the audit compares a live
 * database with a replay):
 * <ul>
 *   <li>a terminal status is never overwritten by an event; the verdict, the market's final word,
 *       sets the status and reason whatever came before;</li>
 *   <li>{@code submitted_at} is the earliest and {@code updated_at} the latest time seen;</li>
 *   <li>{@code escrow_micros} is the largest escrow announced;</li>
 *   <li>{@code dispute} is the state the latest DISPUTED event left ({@link #dispute}).</li>
 * </ul>
 * Events of one job share a partition (key jobId), so among events the topic order holds.
 */
public final class JobProjection {
    /** Statuses a job never leaves. */
    public static final Set<String> TERMINAL =
            Set.of("COMPLETED", "FAILED", "NO_CONSENSUS", "EXPIRED", "CANCELLED", "REJECTED");

    private static final String TERMINAL_SQL = "('COMPLETED','FAILED','NO_CONSENSUS','EXPIRED','CANCELLED','REJECTED')";

    /** @return false if the event id was already recorded (nothing changes) */
    public boolean record(Connection c, JobEvent e) throws SQLException {
        return recordEvents(c, List.of(e))[0];
    }

    /** @return for each event, false if its id was already recorded; two round trips for the whole list */
    public boolean[] recordEvents(Connection c, List<JobEvent> events) throws SQLException {
        boolean[] fresh = new boolean[events.size()];
        if (events.isEmpty()) {
            return fresh;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO job_events (event_id, job_id, type, reason, worker_id, replica, attempt, ts, consensus_hash,
                                        dispute_receipt, settlement_receipt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""")) {
            for (JobEvent e : events) {
                ps.setString(1, e.getEventId());
                ps.setString(2, e.getJobId());
                ps.setString(3, e.getType().name());
                ps.setString(4, e.getReason());
                ps.setString(5, e.getWorkerId());
                ps.setInt(6, e.getReplica());
                ps.setInt(7, e.getAttempt());
                ps.setObject(8, Sql.ts(e.getTimestamp()));
                ps.setString(9, e.getConsensusHash());
                ps.setBytes(10, e.getDisputeReceipt() == null ? null : Receipts.toBytes(e.getDisputeReceipt()));
                ps.setBytes(11, e.getSettlementReceipt() == null ? null : Receipts.toBytes(e.getSettlementReceipt()));
                ps.addBatch();
            }
            fresh = Sql.inserted(ps.executeBatch());
        }
        // one statement per event, in topic order: a job's events run in sequence
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO jobs (job_id, client_id, pool, status, reason, submitted_at, updated_at, escrow_micros, dispute)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (job_id) DO UPDATE SET
                  pool = coalesce(EXCLUDED.pool, jobs.pool),
                  dispute = coalesce(EXCLUDED.dispute, jobs.dispute),
                  status = CASE WHEN jobs.status IN %1$s THEN jobs.status ELSE EXCLUDED.status END,
                  reason = CASE WHEN jobs.status IN %1$s THEN jobs.reason ELSE EXCLUDED.reason END,
                  submitted_at = least(jobs.submitted_at, EXCLUDED.submitted_at),
                  updated_at = greatest(jobs.updated_at, EXCLUDED.updated_at),
                  escrow_micros = greatest(jobs.escrow_micros, EXCLUDED.escrow_micros)""".formatted(TERMINAL_SQL))) {
            boolean any = false;
            for (int i = 0; i < events.size(); i++) {
                if (!fresh[i]) {
                    continue;
                }
                JobEvent e = events.get(i);
                ps.setString(1, e.getJobId());
                ps.setString(2, e.getClientId());
                ps.setString(3, e.getPool());
                ps.setString(4, e.getType().name());
                ps.setString(5, e.getReason());
                ps.setObject(6, Sql.ts(e.getTimestamp()));
                ps.setObject(7, Sql.ts(e.getTimestamp()));
                ps.setLong(8, e.getEscrowMicros());
                ps.setString(9, dispute(e));
                ps.addBatch();
                any = true;
            }
            if (any) {
                ps.executeBatch();
            }
        }
        return fresh;
    }

    /**
     * The dispute state a DISPUTED event leaves on its job ({@code opened}, {@code overturned},
     * {@code upheld}: the first word of its reason); null for every other event, a refused dispute included.
     */
    static String dispute(JobEvent e) {
        if (e.getType() != io.agora.events.JobEventType.DISPUTED || e.getReason() == null) {
            return null;
        }
        String word = e.getReason().split("[: ]", 2)[0];
        return Set.of("opened", "overturned", "upheld").contains(word) ? word : null;
    }

    /** @return false if the job already has a verdict (the first one stands) */
    public boolean record(Connection c, JobVerdict v) throws SQLException {
        return recordVerdicts(c, List.of(v))[0];
    }

    /** @return for each verdict, false if its job already had one; two round trips for the whole list */
    public boolean[] recordVerdicts(Connection c, List<JobVerdict> verdicts) throws SQLException {
        boolean[] first = new boolean[verdicts.size()];
        if (verdicts.isEmpty()) {
            return first;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO verdicts (job_id, event_id, outcome, consensus_hash, output, exit_code, agreeing, dissenting,
                                      cost_micros, refund_micros, reason, submitted_at, decided_at, receipt,
                                      output_truncated, stderr, stderr_truncated, gpu_cost_micros, memory_cost_micros)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""")) {
            for (JobVerdict v : verdicts) {
                ps.setString(1, v.getJobId());
                ps.setString(2, v.getEventId());
                ps.setString(3, v.getOutcome().name());
                ps.setString(4, v.getConsensusHash());
                ps.setString(5, v.getOutput());
                ps.setInt(6, v.getExitCode());
                ps.setArray(7, Sql.textArray(c, v.getAgreeing()));
                ps.setArray(8, Sql.textArray(c, v.getDissenting()));
                ps.setLong(9, v.getCostMicros());
                ps.setLong(10, v.getRefundMicros());
                ps.setString(11, v.getReason());
                ps.setObject(12, Sql.ts(v.getSubmittedAt()));
                ps.setObject(13, Sql.ts(v.getDecidedAt()));
                ps.setBytes(14, v.getReceipt() == null ? null : Receipts.toBytes(v.getReceipt()));
                ps.setBoolean(15, v.getOutputTruncated());
                ps.setString(16, v.getStderr());
                ps.setBoolean(17, v.getStderrTruncated());
                ps.setLong(18, v.getGpuCostMicros());
                ps.setLong(19, v.getMemoryCostMicros());
                ps.addBatch();
            }
            first = Sql.inserted(ps.executeBatch());
        }
        recordFiles(c, verdicts, first);
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO jobs (job_id, client_id, status, reason, submitted_at, updated_at, cost_micros, refund_micros,
                                  consensus_hash, output, exit_code, agreeing, dissenting, gpu_cost_micros, memory_cost_micros)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (job_id) DO UPDATE SET
                  status = EXCLUDED.status,
                  reason = EXCLUDED.reason,
                  submitted_at = least(jobs.submitted_at, EXCLUDED.submitted_at),
                  updated_at = greatest(jobs.updated_at, EXCLUDED.updated_at),
                  cost_micros = EXCLUDED.cost_micros,
                  refund_micros = EXCLUDED.refund_micros,
                  consensus_hash = EXCLUDED.consensus_hash,
                  output = EXCLUDED.output,
                  exit_code = EXCLUDED.exit_code,
                  agreeing = EXCLUDED.agreeing,
                  dissenting = EXCLUDED.dissenting,
                  gpu_cost_micros = EXCLUDED.gpu_cost_micros,
                  memory_cost_micros = EXCLUDED.memory_cost_micros""")) {
            boolean any = false;
            for (int i = 0; i < verdicts.size(); i++) {
                if (!first[i]) {
                    continue;
                }
                JobVerdict v = verdicts.get(i);
                ps.setString(1, v.getJobId());
                ps.setString(2, v.getClientId());
                ps.setString(3, v.getOutcome().name());
                ps.setString(4, v.getReason());
                ps.setObject(5, Sql.ts(v.getSubmittedAt()));
                ps.setObject(6, Sql.ts(v.getDecidedAt()));
                ps.setLong(7, v.getCostMicros());
                ps.setLong(8, v.getRefundMicros());
                ps.setString(9, v.getConsensusHash());
                ps.setString(10, v.getOutput());
                ps.setInt(11, v.getExitCode());
                ps.setArray(12, Sql.textArray(c, v.getAgreeing()));
                ps.setArray(13, Sql.textArray(c, v.getDissenting()));
                ps.setLong(14, v.getGpuCostMicros());
                ps.setLong(15, v.getMemoryCostMicros());
                ps.addBatch();
                any = true;
            }
            if (any) {
                ps.executeBatch();
            }
        }
        return first;
    }

    /** The agreed result's files of each verdict that was its job's first. */
    private static void recordFiles(Connection c, List<JobVerdict> verdicts, boolean[] first) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO verdict_files (job_id, path, sha256) VALUES (?, ?, ?)")) {
            boolean any = false;
            for (int i = 0; i < verdicts.size(); i++) {
                if (!first[i]) {
                    continue;
                }
                for (Map.Entry<String, String> f : new TreeMap<>(verdicts.get(i).getFiles()).entrySet()) {
                    ps.setString(1, verdicts.get(i).getJobId());
                    ps.setString(2, f.getKey());
                    ps.setString(3, f.getValue());
                    ps.addBatch();
                    any = true;
                }
            }
            if (any) {
                ps.executeBatch();
            }
        }
    }
}
