package io.agora.ingest.receipts;

import io.agora.events.Receipt;
import io.agora.schemas.Receipts;
import jakarta.inject.Singleton;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The market-signed receipts the ledger sink keeps ({@code agora.verdicts.receipt}), read only.
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
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT receipt FROM agora.verdicts WHERE job_id = ? AND receipt IS NOT NULL")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(Receipts.fromBytes(rs.getBytes(1))) : Optional.empty();
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState()) || "42703".equals(e.getSQLState())) {
                return Optional.empty(); // the sink has not created (or upgraded) its tables yet
            }
            throw new IllegalStateException("receipt query failed: " + e.getMessage(), e);
        }
    }
}
