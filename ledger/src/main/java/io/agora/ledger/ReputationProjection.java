package io.agora.ledger;

import io.agora.events.ReputationChanged;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Records every {@link ReputationChanged} (topic {@code agora.workers.reputation}) and keeps each
 * worker's reputation as the sum of its moves (a worker without moves has none: 0).
 */
public final class ReputationProjection {

    /** @return false if the event id was already recorded */
    public boolean record(Connection c, ReputationChanged r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO reputation_events (event_id, worker_id, delta, reason, job_id, ts)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""")) {
            ps.setString(1, r.getEventId());
            ps.setString(2, r.getWorkerId());
            ps.setInt(3, r.getDelta());
            ps.setString(4, r.getReason());
            ps.setString(5, r.getJobId());
            ps.setObject(6, Sql.ts(r.getTimestamp()));
            if (ps.executeUpdate() == 0) {
                return false;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO worker_reputation (worker_id, reputation) VALUES (?, ?)
                ON CONFLICT (worker_id) DO UPDATE SET reputation = worker_reputation.reputation + EXCLUDED.reputation""")) {
            ps.setString(1, r.getWorkerId());
            ps.setLong(2, r.getDelta());
            ps.executeUpdate();
        }
        return true;
    }
}
