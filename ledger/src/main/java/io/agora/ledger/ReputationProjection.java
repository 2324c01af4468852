package io.agora.ledger;

import io.agora.events.ReputationChanged;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * Records every {@link ReputationChanged} (topic {@code agora.workers.reputation}) and keeps each
 * worker's reputation as the sum of its moves (a worker without moves has none: 0).
 */
public final class ReputationProjection {

    /** @return false if the event id was already recorded */
    public boolean record(Connection c, ReputationChanged r) throws SQLException {
        return recordAll(c, List.of(r))[0];
    }

    /** @return for each event, false if its id was already recorded; two round trips for the whole list */
    public boolean[] recordAll(Connection c, List<ReputationChanged> moves) throws SQLException {
        boolean[] fresh = new boolean[moves.size()];
        if (moves.isEmpty()) {
            return fresh;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO reputation_events (event_id, worker_id, delta, reason, job_id, ts)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""")) {
            for (ReputationChanged r : moves) {
                ps.setString(1, r.getEventId());
                ps.setString(2, r.getWorkerId());
                ps.setInt(3, r.getDelta());
                ps.setString(4, r.getReason());
                ps.setString(5, r.getJobId());
                ps.setObject(6, Sql.ts(r.getTimestamp()));
                ps.addBatch();
            }
            fresh = Sql.inserted(ps.executeBatch());
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO worker_reputation (worker_id, reputation) VALUES (?, ?)
                ON CONFLICT (worker_id) DO UPDATE SET reputation = worker_reputation.reputation + EXCLUDED.reputation""")) {
            boolean any = false;
            for (int i = 0; i < moves.size(); i++) {
                if (fresh[i]) {
                    ps.setString(1, moves.get(i).getWorkerId());
                    ps.setLong(2, moves.get(i).getDelta());
                    ps.addBatch();
                    any = true;
                }
            }
            if (any) {
                ps.executeBatch();
            }
        }
        return fresh;
    }
}
