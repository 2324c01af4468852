package io.agora.ledger;

import io.agora.events.JobEvent;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.ReputationChanged;
import io.agora.schemas.Outage;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.TopicPartition;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The transactional handler of the sink: applies one poll batch and the consumer offsets that
 * follow it in a single PostgreSQL transaction, so a crash at any point leaves either all of
 * it or none of it.
 *
 * <p>The whole batch is first applied under one savepoint, each table's rows in one JDBC batch
 * (about ten round trips whatever the batch's size), and its deferred checks (balanced postings)
 * are fired before the savepoint is released. If PostgreSQL refuses anything, the batch is rolled
 * back to that savepoint and applied again one record at a time, each under its own savepoint: a
 * record refused for its content (class 22 data exceptions, class 23 integrity violations:
 * unbalanced, overdraft) is rolled back alone and reported as {@link Refused} with a reason; the
 * rest of the batch commits. Any other error (connection lost, database down) aborts the whole
 * transaction and is thrown, so the caller retries the same batch later.
 */
public final class BatchRecorder {
    private final DataSource dataSource;
    private final String schema;
    private final String groupId;
    private final LedgerWriter ledger = new LedgerWriter();
    private final JobProjection jobs = new JobProjection();
    private final ReputationProjection reputation = new ReputationProjection();

    public BatchRecorder(DataSource dataSource, String schema, String groupId) {
        this.dataSource = dataSource;
        this.schema = LedgerSchema.requireValidName(schema);
        this.groupId = groupId;
    }

    /** A record the database refused, and why, in words for the person reading the DLQ. */
    public record Refused(SinkRecord record, String reason) {
    }

    /** What one batch did. */
    public record Result(int applied, int duplicates, List<Refused> refused) {
    }

    /** Runs after every record is applied and before the commit: DLQ sends, test crash points. */
    @FunctionalInterface
    public interface BeforeCommit {
        void run(List<Refused> refused) throws Exception;
    }

    public String schema() {
        return schema;
    }

    public String groupId() {
        return groupId;
    }

    /**
     * Applies {@code records} in order and stores {@code nextOffsets} for the group, in one
     * transaction. If {@code beforeCommit} throws, everything is rolled back and the exception
     * is rethrown (wrapped in a {@link SQLException} if checked).
     */
    public Result record(List<SinkRecord> records, Map<TopicPartition, Long> nextOffsets, BeforeCommit beforeCommit)
            throws SQLException {
        try (Connection c = open()) {
            try {
                Result result = applyTogether(c, records);
                if (result == null) {
                    result = applyOneByOne(c, records);
                }
                List<Refused> refused = result.refused();
                storeOffsets(c, nextOffsets);
                if (beforeCommit != null) {
                    beforeCommit.run(refused);
                }
                c.commit();
                return result;
            } catch (Exception | Error e) {
                rollbackQuietly(c);
                if (e instanceof SQLException s) {
                    throw s;
                }
                if (e instanceof RuntimeException rt) {
                    throw rt;
                }
                if (e instanceof Error err) {
                    throw err;
                }
                throw new SQLException("batch aborted before commit: " + e.getMessage(), e);
            }
        }
    }

    /** The batch under one savepoint; null (and nothing applied) when PostgreSQL refuses any of it. */
    private Result applyTogether(Connection c, List<SinkRecord> records) throws SQLException {
        if (records.isEmpty()) {
            return new Result(0, 0, List.of());
        }
        List<LedgerEntry> entries = new ArrayList<>();
        List<JobEvent> events = new ArrayList<>();
        List<JobVerdict> verdicts = new ArrayList<>();
        List<ReputationChanged> moves = new ArrayList<>();
        for (SinkRecord r : records) {
            if (r.event() instanceof LedgerEntry e) {
                entries.add(e);
            } else if (r.event() instanceof JobEvent e) {
                events.add(e);
            } else if (r.event() instanceof JobVerdict v) {
                verdicts.add(v);
            } else if (r.event() instanceof ReputationChanged m) {
                moves.add(m);
            } else {
                return null; // the record-by-record path names what it cannot handle
            }
        }
        Savepoint sp = c.setSavepoint();
        try {
            // Each table keeps its records' topic order; across tables the order does not matter
            // (JobProjection merges events and verdicts the same in any interleaving).
            int applied = count(ledger.bookAll(c, entries)) + count(jobs.recordEvents(c, events))
                    + count(jobs.recordVerdicts(c, verdicts)) + count(reputation.recordAll(c, moves));
            checkDeferredConstraints(c);
            c.releaseSavepoint(sp);
            return new Result(applied, records.size() - applied, List.of());
        } catch (SQLException e) {
            if (!isRefusal(e)) {
                throw e;
            }
            c.rollback(sp);
            return null;
        } catch (RuntimeException e) {
            c.rollback(sp);
            if (Outage.isOutage(e)) {
                throw new SQLTransientException("outage while applying a batch of " + records.size() + " records: " + e, e);
            }
            return null;
        }
    }

    /** Each record under its own savepoint: a refused record is rolled back alone. */
    private Result applyOneByOne(Connection c, List<SinkRecord> records) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET CONSTRAINTS ALL DEFERRED"); // whatever the refused batch left
        }
        int applied = 0;
        int duplicates = 0;
        List<Refused> refused = new ArrayList<>();
        for (SinkRecord r : records) {
            Savepoint sp = c.setSavepoint();
            try {
                if (apply(c, r.event())) {
                    checkDeferredConstraints(c);
                    applied++;
                } else {
                    duplicates++;
                }
                c.releaseSavepoint(sp);
            } catch (SQLException e) {
                if (!isRefusal(e)) {
                    throw e;
                }
                c.rollback(sp);
                refused.add(new Refused(r, reason(r, e)));
            } catch (RuntimeException e) {
                if (Outage.isOutage(e)) {
                    throw new SQLTransientException("outage while applying " + describe(r.event()) + ": " + e, e);
                }
                c.rollback(sp);
                refused.add(new Refused(r, "cannot apply " + describe(r.event()) + ": " + e));
            }
        }
        return new Result(applied, duplicates, refused);
    }

    /** Fires the deferred checks (balanced postings) now, in one round trip, and defers them again. */
    private static void checkDeferredConstraints(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED");
        }
    }

    private static int count(boolean[] flags) {
        int n = 0;
        for (boolean f : flags) {
            if (f) {
                n++;
            }
        }
        return n;
    }

    /** The next offset to read of each partition, as last committed by this group; absent = from the start. */
    public Map<TopicPartition, Long> storedOffsets(Collection<TopicPartition> partitions) throws SQLException {
        Map<TopicPartition, Long> out = new HashMap<>();
        try (Connection c = open()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT topic, partition, next_offset FROM consumer_offsets WHERE group_id = ?")) {
                ps.setString(1, groupId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        TopicPartition tp = new TopicPartition(rs.getString(1), rs.getInt(2));
                        if (partitions == null || partitions.contains(tp)) {
                            out.put(tp, rs.getLong(3));
                        }
                    }
                }
            }
            c.commit();
        }
        return out;
    }

    private Connection open() throws SQLException {
        Connection c = dataSource.getConnection();
        try {
            c.setAutoCommit(false);
            c.setSchema(schema);
            return c;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    private boolean apply(Connection c, SpecificRecord event) throws SQLException {
        if (event instanceof LedgerEntry e) {
            return ledger.book(c, e);
        } else if (event instanceof JobEvent e) {
            return jobs.record(c, e);
        } else if (event instanceof JobVerdict v) {
            return jobs.record(c, v);
        } else if (event instanceof ReputationChanged r) {
            return reputation.record(c, r);
        }
        throw new IllegalArgumentException("the ledger sink has no handler for " + event.getClass().getSimpleName());
    }

    private void storeOffsets(Connection c, Map<TopicPartition, Long> nextOffsets) throws SQLException {
        if (nextOffsets.isEmpty()) {
            return;
        }
        // GREATEST: a consumer that lost its partitions while waiting for the database never moves them back.
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES (?, ?, ?, ?)
                ON CONFLICT (group_id, topic, partition)
                DO UPDATE SET next_offset = greatest(consumer_offsets.next_offset, EXCLUDED.next_offset)""")) {
            for (Map.Entry<TopicPartition, Long> o : nextOffsets.entrySet()) {
                ps.setString(1, groupId);
                ps.setString(2, o.getKey().topic());
                ps.setInt(3, o.getKey().partition());
                ps.setLong(4, o.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Data exceptions (22) and integrity violations (23) are about the record; anything else is about the database. */
    static boolean isRefusal(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("22") || state.startsWith("23"));
    }

    static String reason(SinkRecord r, SQLException e) {
        String what = describe(r.event());
        String constraint = null;
        String detail = null;
        String message = e.getMessage();
        PSQLException p = serverError(e);
        if (p != null) {
            ServerErrorMessage m = p.getServerErrorMessage();
            constraint = m.getConstraint();
            detail = m.getDetail();
            message = m.getMessage();
        }
        if ("accounts_no_overdraft".equals(constraint)) {
            return what + " refused: it would make a client or escrow account negative (" + detail + ")";
        }
        if ("ledger_transaction_balanced".equals(constraint)) {
            return what + " refused: " + message;
        }
        return what + " refused by PostgreSQL [" + e.getSQLState() + "]: " + message
                + (detail == null ? "" : " (" + detail + ")");
    }

    /** The server's own error, also when it hides behind a JDBC batch exception. */
    private static PSQLException serverError(SQLException e) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            if (x instanceof PSQLException p && p.getServerErrorMessage() != null) {
                return p;
            }
            if (x.getCause() instanceof PSQLException p && p.getServerErrorMessage() != null) {
                return p;
            }
        }
        return null;
    }

    static String describe(SpecificRecord event) {
        if (event instanceof LedgerEntry e) {
            return "ledger transaction " + e.getTransactionId() + " (" + e.getKind() + ", event " + e.getEventId() + ")";
        } else if (event instanceof JobEvent e) {
            return "job event " + e.getEventId() + " (" + e.getType() + " of job " + e.getJobId() + ")";
        } else if (event instanceof JobVerdict v) {
            return "verdict " + v.getEventId() + " (" + v.getOutcome() + " of job " + v.getJobId() + ")";
        } else if (event instanceof ReputationChanged r) {
            return "reputation event " + r.getEventId() + " (worker " + r.getWorkerId() + ")";
        }
        return String.valueOf(event);
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is gone; PostgreSQL rolls the transaction back itself
        }
    }
}
