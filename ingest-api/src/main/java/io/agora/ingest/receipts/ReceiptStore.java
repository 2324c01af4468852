package io.agora.ingest.receipts;

import io.agora.events.DisputeReceipt;
import io.agora.events.Receipt;
import io.agora.events.SettlementReceipt;
import io.agora.schemas.Receipts;
import jakarta.inject.Singleton;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The market-signed receipts the ledger sink keeps ({@code agora.verdicts.receipt}, {@code agora.job_events.dispute_receipt}
 * and {@code settlement_receipt}), read only.
 */
@Singleton
public class ReceiptStore {
    private final DataSource dataSource;

    public ReceiptStore(DataSource dataSource) {
        // plain JDBC with our own short-lived connections, as ReadModel does
        this.dataSource = io.micronaut.data.connection.jdbc.advice.DelegatingDataSource.unwrapDataSource(dataSource);
    }

    /**
     * The receipt of {@code clientId}'s own job {@code jobId}; empty when the job is someone
     * else's (the receipt's signed client id decides), has no verdict yet, or one from before receipts.
     */
    public Optional<Receipt> receipt(String jobId, String clientId) {
        return receipt(jobId).filter(r -> r.getClientId().equals(clientId));
    }

    private Optional<Receipt> receipt(String jobId) {
        return stored("SELECT receipt FROM agora.verdicts WHERE job_id = ? AND receipt IS NOT NULL", jobId)
                .map(Receipts::fromBytes);
    }

    /**
     * The receipt of the decided dispute of {@code clientId}'s own job {@code jobId} (a job's dispute is decided
     * once); empty when the job is someone else's, was not disputed, is not decided yet, or was decided before
     * dispute receipts.
     */
    public Optional<DisputeReceipt> disputeReceipt(String jobId, String clientId) {
        return stored("SELECT dispute_receipt FROM agora.job_events WHERE job_id = ? AND dispute_receipt IS NOT NULL"
                + " ORDER BY ts LIMIT 1", jobId).map(Receipts::disputeFromBytes).filter(r -> r.getClientId().equals(clientId));
    }

    /**
     * The settlement receipt of the overturned dispute of {@code clientId}'s own job {@code jobId}: what each slash
     * took; empty when the job is someone else's, no dispute of it was overturned, or not every slash is booked yet.
     */
    public Optional<SettlementReceipt> settlementReceipt(String jobId, String clientId) {
        return stored("SELECT settlement_receipt FROM agora.job_events WHERE job_id = ? AND settlement_receipt IS NOT NULL"
                + " ORDER BY ts LIMIT 1", jobId).map(Receipts::settlementFromBytes).filter(r -> r.getClientId().equals(clientId));
    }

    private Optional<byte[]> stored(String sql, String jobId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState()) || "42703".equals(e.getSQLState())) {
                return Optional.empty(); // the sink has not created (or upgraded) its tables yet
            }
            throw new IllegalStateException("receipt query failed: " + e.getMessage(), e);
        }
    }
}
