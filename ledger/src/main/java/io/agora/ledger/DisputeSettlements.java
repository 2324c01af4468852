package io.agora.ledger;

import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.Posting;
import io.agora.events.SettlementReceipt;
import io.agora.events.SlashTaken;
import io.agora.market.Postings;
import io.agora.schemas.Identity;
import io.agora.schemas.Receipts;

import javax.sql.DataSource;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Settlement receipts, from the ledger, for the overturned disputes that have none: those a build before
 * {@code SlashResult} decided (its matcher booked SLASH transactions but sent no result, its verifier kept no
 * {@code overturned} flag), and those whose job the verifier retired before every slash result came (JobEvent DISPUTED
 * "unsettled"). Each one's slashes are read back from its SLASH transactions ({@link Postings#takenFrom}), for exactly
 * the workers the overturned dispute slashed (the verdict's agreeing workers; a worker with no SLASH transaction had
 * nothing taken), signed with the market's key and carried, as the verifier's own, by a JobEvent DISPUTED "settled"
 * for {@code agora.jobs.events}; {@code agora audit --market-key} then checks it like any other
 * ({@link AuditReport#settlementProblems}). Run by {@code agora settle-disputes}.
 */
public final class DisputeSettlements {
    /** The settlements to publish, and the disputes refused with the reason (their SLASH legs do not read as slashes). */
    public record Found(List<JobEvent> settled, List<String> refused) {
    }

    private DisputeSettlements() {
    }

    /**
     * Every overturned dispute of {@code schema} decided before {@code decidedBefore} with no settlement receipt,
     * settled from its SLASH transactions and signed by {@code market} at {@code now}. {@code decidedBefore} keeps out
     * the disputes whose slash results are still on their way to a live verifier.
     */
    public static Found find(DataSource ds, String schema, Instant decidedBefore, Identity market, Instant now)
            throws SQLException {
        LedgerSchema.requireValidName(schema);
        List<JobEvent> settled = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT j.job_id, j.client_id, j.pool, v.agreeing
                  FROM %1$s.jobs j JOIN %1$s.verdicts v USING (job_id)
                 WHERE EXISTS (SELECT 1 FROM %1$s.job_events e WHERE e.job_id = j.job_id AND e.type = 'DISPUTED'
                                  AND e.reason LIKE 'overturned%%' AND e.ts < ?)
                   AND NOT EXISTS (SELECT 1 FROM %1$s.job_events e WHERE e.job_id = j.job_id AND e.settlement_receipt IS NOT NULL)
                 ORDER BY 1""".formatted(schema))) {
            ps.setTimestamp(1, Timestamp.from(decidedBefore));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String job = rs.getString(1);
                    String client = rs.getString(2);
                    String pool = rs.getString(3);
                    Array a = rs.getArray(4);
                    List<String> slashed = List.copyOf(new LinkedHashSet<>(Arrays.asList((String[]) a.getArray())));
                    settle(job, client, pool, slashed, slashTransactions(c, schema, job), market, now)
                            .ifPresentOrElse(settled::add, () -> refused.add("job " + job + ": its SLASH transactions are not"
                                    + " the slashes of " + slashed + " for client " + client + "; nothing signed"));
                }
            }
        }
        return new Found(settled, refused);
    }

    /**
     * The DISPUTED "settled" event of job {@code job}'s overturned dispute, which slashed {@code slashed}: each worker's
     * slash read back from {@code transactions} (by transaction id, legs in posting order); empty when a transaction
     * does not read as its worker's slash or slashes a worker not named.
     */
    static Optional<JobEvent> settle(String job, String client, String pool, List<String> slashed,
                                     Map<String, List<Posting>> transactions, Identity market, Instant now) {
        Map<String, List<Posting>> unmatched = new LinkedHashMap<>(transactions);
        List<SlashTaken> slashes = new ArrayList<>();
        for (String w : slashed) {
            Optional<SlashTaken> t = Postings.takenFrom(job, client, w,
                    Optional.ofNullable(unmatched.remove(Postings.slashTransactionId(job, w))).orElse(List.of()));
            if (t.isEmpty()) {
                return Optional.empty();
            }
            slashes.add(t.get());
        }
        if (!unmatched.isEmpty()) {
            return Optional.empty();
        }
        SettlementReceipt r = Receipts.sign(SettlementReceipt.newBuilder().setJobId(job).setClientId(client).setSlashes(slashes)
                .setIssuedAt(now).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), market);
        long taken = slashes.stream().mapToLong(x -> x.getReclaimMicros() + x.getSlashedMicros()).sum();
        return Optional.of(JobEvent.newBuilder()
                // one id per job: published twice, the sink keeps the first
                .setEventId(UUID.nameUUIDFromBytes(("settled:" + job).getBytes(StandardCharsets.UTF_8)).toString())
                .setJobId(job).setClientId(client).setType(JobEventType.DISPUTED).setPool(pool).setTimestamp(now)
                .setReason("settled from the ledger: " + slashes.size() + " slashes took " + taken
                        + " micro-credits (what the job paid them and part of their bonds)")
                .setSettlementReceipt(r).build());
    }

    /** Job {@code job}'s SLASH transactions: id to legs, in posting order. */
    private static Map<String, List<Posting>> slashTransactions(Connection c, String schema, String job) throws SQLException {
        Map<String, List<Posting>> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT t.transaction_id, p.account_id, p.amount_micros
                  FROM %1$s.ledger_transactions t JOIN %1$s.ledger_postings p USING (transaction_id)
                 WHERE t.kind = 'SLASH' AND t.job_id = ?
                 ORDER BY t.transaction_id, p.posting_no""".formatted(schema))) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(new Posting(rs.getString(2), rs.getLong(3)));
                }
            }
        }
        return out;
    }
}
