package io.agora.ingest.market;

import io.agora.market.Accounts;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Read-only queries on the PostgreSQL projection that ledger-sink writes (schema {@code agora}:
 * jobs, accounts, ledger_transactions, ledger_postings, worker_reputation). The API never writes there.
 */
@Singleton
public class ReadModel {
    private static final String JOB_COLUMNS = "job_id, client_id, pool, status, reason, submitted_at, updated_at,"
            + " escrow_micros, cost_micros, refund_micros, consensus_hash, output, exit_code, agreeing, dissenting, dispute,"
            + " gpu_cost_micros, memory_cost_micros";
    private final DataSource dataSource;

    public ReadModel(DataSource dataSource) {
        // plain JDBC with our own short-lived connections, outside Micronaut Data's connection context
        this.dataSource = io.micronaut.data.connection.jdbc.advice.DelegatingDataSource.unwrapDataSource(dataSource);
    }

    /** The job with its verdict history ({@link #verdicts}). */
    public Optional<JobView> job(String jobId) {
        return query("SELECT " + JOB_COLUMNS + " FROM agora.jobs WHERE job_id = ?", List.of(jobId), ReadModel::job)
                .stream().findFirst().map(j -> j.terminal() ? j.withVerdicts(verdicts(jobId)) : j);
    }

    /** The job's verdict history: its verdict, then each DISPUTED event that opened or decided its dispute, in order. */
    List<JobView.VerdictStep> verdicts(String jobId) {
        List<JobView.VerdictStep> out = new ArrayList<>(query("SELECT outcome, consensus_hash, reason, decided_at"
                + " FROM agora.verdicts WHERE job_id = ?", List.of(jobId), rs -> JobView.VerdictStep.verdict(
                rs.getString(1), rs.getString(2), rs.getString(3), Rows.instant(rs, "decided_at"))));
        query("SELECT reason, consensus_hash, ts FROM agora.job_events WHERE job_id = ? AND type = 'DISPUTED'"
                + " ORDER BY ts, event_id", List.of(jobId), rs -> {
            JobView.VerdictStep.dispute(rs.getString(1), rs.getString(2), Rows.instant(rs, "ts")).ifPresent(out::add);
            return null;
        });
        return out;
    }

    /**
     * A client's jobs, newest first. {@code after} (a {@link JobCursor}) continues a listing after its
     * last job, however many jobs were submitted meanwhile; {@code offset} skips rows as before.
     */
    public List<JobView> jobs(String clientId, @Nullable String status, int limit, int offset, @Nullable JobCursor after) {
        List<Object> args = new ArrayList<>();
        args.add(clientId);
        String where = "client_id = ?";
        if (status != null && !status.isBlank()) {
            where += " AND upper(status) = upper(?)";
            args.add(status);
        }
        if (after != null) {
            where += " AND (submitted_at, job_id) < (?, ?)";
            args.add(java.sql.Timestamp.from(after.submittedAt()));
            args.add(after.jobId());
        }
        args.add(limit);
        args.add(offset);
        return query("SELECT " + JOB_COLUMNS + " FROM agora.jobs WHERE " + where
                + " ORDER BY submitted_at DESC, job_id DESC LIMIT ? OFFSET ?", args, ReadModel::job);
    }

    /** The job's events as the sink recorded them, oldest first. */
    public List<Executions.Event> jobEvents(String jobId) {
        return query("SELECT event_id, type, reason, worker_id, replica, attempt, ts FROM agora.job_events"
                        + " WHERE job_id = ? ORDER BY ts, event_id", List.of(jobId),
                rs -> new Executions.Event(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getInt(5), rs.getInt(6), Rows.instant(rs, "ts")));
    }

    /** Jobs by status (upper case), over the whole market. */
    public Map<String, Long> jobsByStatus() {
        Map<String, Long> out = new LinkedHashMap<>();
        query("SELECT upper(status), count(*) FROM agora.jobs GROUP BY 1 ORDER BY 1", List.of(), rs -> {
            out.put(rs.getString(1), rs.getLong(2));
            return null;
        });
        return out;
    }

    /** Jobs decided since {@code since} and their mean time from submission to decision, in ms. */
    public Decided decidedSince(Instant since) {
        return query("SELECT count(*), avg(extract(epoch FROM updated_at - submitted_at) * 1000) FROM agora.jobs"
                        + " WHERE upper(status) IN ('COMPLETED', 'FAILED', 'NO_CONSENSUS', 'EXPIRED', 'CANCELLED')"
                        + " AND updated_at >= ?", List.of(java.sql.Timestamp.from(since)),
                rs -> new Decided(rs.getLong(1), rs.getObject(2) instanceof Number n ? n.doubleValue() : null))
                .stream().findFirst().orElse(new Decided(0, null));
    }

    @Serdeable
    public record Decided(long jobs, @Nullable Double meanLatencyMs) {
    }

    /** The balance of one ledger account, empty if the sink has never seen it. */
    public Optional<Long> balance(String accountId) {
        return query("SELECT balance_micros FROM agora.accounts WHERE account_id = ?", List.of(accountId),
                rs -> rs.getLong(1)).stream().findFirst();
    }

    /** What a client has in escrow right now: the sum of its jobs' escrow accounts. */
    public long held(String clientId) {
        return query("SELECT coalesce(sum(a.balance_micros), 0) FROM agora.accounts a JOIN agora.jobs j"
                        + " ON a.account_id = 'escrow:' || j.job_id WHERE j.client_id = ?",
                List.of(clientId), rs -> rs.getLong(1)).stream().findFirst().orElse(0L);
    }

    public List<Transaction> transactions(String clientId, int limit, int offset) {
        List<Transaction> txs = query("SELECT transaction_id, event_id, kind, job_id, memo, ts FROM agora.ledger_transactions"
                        + " WHERE client_id = ? ORDER BY ts DESC, transaction_id LIMIT ? OFFSET ?",
                List.of(clientId, limit, offset),
                rs -> new Transaction(rs.getString("transaction_id"), rs.getString("kind"), rs.getString("job_id"),
                        rs.getString("memo"), Rows.instant(rs, "ts"), new ArrayList<>()));
        if (txs.isEmpty()) {
            return txs;
        }
        Map<String, Transaction> byId = new LinkedHashMap<>();
        txs.forEach(t -> byId.put(t.transactionId(), t));
        String in = String.join(",", java.util.Collections.nCopies(byId.size(), "?"));
        query("SELECT transaction_id, account_id, amount_micros FROM agora.ledger_postings WHERE transaction_id IN (" + in
                        + ") ORDER BY transaction_id, account_id", new ArrayList<>(byId.keySet()),
                rs -> {
                    byId.get(rs.getString(1)).postings().add(new PostingView(rs.getString(2), rs.getLong(3)));
                    return null;
                });
        return txs;
    }

    public long countTransactions(String clientId) {
        return query("SELECT count(*) FROM agora.ledger_transactions WHERE client_id = ?", List.of(clientId),
                rs -> rs.getLong(1)).stream().findFirst().orElse(0L);
    }

    /** A worker's earnings (view {@code worker_earnings}: PAYOUT, SLASH and DISPUTE_FEE legs, not its stake moves) since the given instant (null = ever). */
    public long earnedSince(String workerId, @Nullable Instant since) {
        List<Object> args = new ArrayList<>();
        args.add(workerId);
        String sql = "SELECT coalesce(sum(amount_micros), 0) FROM agora.worker_earnings WHERE worker_id = ?";
        if (since != null) {
            sql += " AND ts >= ?";
            args.add(java.sql.Timestamp.from(since));
        }
        return query(sql, args, rs -> rs.getLong(1)).stream().findFirst().orElse(0L);
    }

    /** Every worker's bonded stake: the balance of each {@code stake:<workerId>} account. */
    public Map<String, Long> stakes() {
        Map<String, Long> out = new LinkedHashMap<>();
        String prefix = io.agora.market.Accounts.stake("");
        query("SELECT account_id, balance_micros FROM agora.accounts WHERE account_id LIKE ?", List.of(prefix + "%"), rs -> {
            out.put(rs.getString(1).substring(prefix.length()), rs.getLong(2));
            return null;
        });
        return out;
    }

    public Map<String, Integer> reputations() {
        Map<String, Integer> out = new LinkedHashMap<>();
        query("SELECT worker_id, reputation FROM agora.worker_reputation", List.of(), rs -> {
            out.put(rs.getString(1), rs.getInt(2));
            return null;
        });
        return out;
    }

    /**
     * Per worker, the mean time from a task's assignment (its latest ASSIGNED or REASSIGNED event) to
     * its result (REPLICA_FINISHED) for results since {@code since}, in ms; workers without such a
     * result are absent.
     */
    public Map<String, Double> resultLatencies(Instant since) {
        Map<String, Double> out = new LinkedHashMap<>();
        query("""
                SELECT f.worker_id, avg(extract(epoch FROM f.ts - a.ts) * 1000)
                FROM agora.job_events f
                CROSS JOIN LATERAL (
                    SELECT max(x.ts) AS ts FROM agora.job_events x
                    WHERE x.job_id = f.job_id AND x.replica = f.replica AND x.attempt = f.attempt
                      AND x.worker_id = f.worker_id AND x.type IN ('ASSIGNED', 'REASSIGNED') AND x.ts <= f.ts) a
                WHERE f.type = 'REPLICA_FINISHED' AND f.worker_id IS NOT NULL AND f.ts >= ? AND a.ts IS NOT NULL
                GROUP BY f.worker_id""", List.of(java.sql.Timestamp.from(since)), rs -> {
            out.put(rs.getString(1), rs.getDouble(2));
            return null;
        });
        return out;
    }

    /** A pool's jobs counted by status (upper case), for {@link MarketView#consensusReliability}. */
    public Map<String, Long> jobsByStatus(String pool) {
        Map<String, Long> out = new LinkedHashMap<>();
        query("SELECT upper(status), count(*) FROM agora.jobs WHERE pool = ? GROUP BY upper(status)", List.of(pool), rs -> {
            out.put(rs.getString(1), rs.getLong(2));
            return null;
        });
        return out;
    }

    private static JobView job(ResultSet rs) throws SQLException {
        String status = rs.getString("status");
        return new JobView(rs.getString("job_id"), rs.getString("client_id"), rs.getString("pool"), status,
                rs.getString("reason"), outcome(status), rs.getString("output"), rs.getString("consensus_hash"),
                Rows.intOrNull(rs, "exit_code"), Rows.longOrNull(rs, "escrow_micros"), Rows.longOrNull(rs, "cost_micros"),
                Rows.longOrNull(rs, "refund_micros"), Rows.strings(rs, "agreeing"), Rows.strings(rs, "dissenting"),
                Rows.instant(rs, "submitted_at"), Rows.instant(rs, "updated_at"), rs.getString("dispute"),
                JobView.CostBreakdown.of(Rows.longOrNull(rs, "cost_micros"), rs.getLong("gpu_cost_micros"),
                        rs.getLong("memory_cost_micros")), List.of());
    }

    private static String outcome(String status) {
        return JobView.isTerminal(status) ? status.toUpperCase(java.util.Locale.ROOT) : null;
    }

    private <T> List<T> query(String sql, List<?> args, RowMapper<T> mapper) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) {
                    T t = mapper.map(rs);
                    if (t != null) {
                        out.add(t);
                    }
                }
                return out;
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState())) {
                // the sink has not created its tables yet: nothing is known
                return List.of();
            }
            throw new IllegalStateException("read model query failed: " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    private interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    @Serdeable
    public record PostingView(String accountId, long amountMicros) {
    }

    @Serdeable
    public record Transaction(String transactionId, String kind, @Nullable String jobId, @Nullable String memo,
                              @Nullable Instant timestamp, List<PostingView> postings) {
    }
}
