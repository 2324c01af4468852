package io.agora.market;

import io.agora.events.EntryKind;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The market's money vocabulary: every ledger transaction the market ever posts, each a balanced
 * transfer between two {@link Accounts} under a deterministic transaction id. The event id is
 * derived from the transaction id, so a retried or replayed posting is the same event and the
 * sink refuses it as a duplicate.
 *
 * <table>
 *   <tr><th>kind</th><th>transaction id</th><th>from → to</th></tr>
 *   <tr><td>STARTER_GRANT</td><td>{@code grant:<clientId>}</td><td>mint:grants → client</td></tr>
 *   <tr><td>DEPOSIT</td><td>{@code deposit:<clientId>:<depositId>}</td><td>mint:deposits → client</td></tr>
 *   <tr><td>ESCROW_HOLD</td><td>{@code hold:<jobId>}</td><td>client → escrow:job</td></tr>
 *   <tr><td>PAYOUT</td><td>{@code payout:<jobId>:<workerId>}</td><td>escrow:job → worker</td></tr>
 *   <tr><td>REFUND</td><td>{@code refund:<jobId>}</td><td>escrow:job → client</td></tr>
 * </table>
 * Every entry is keyed, on the ledger topic, by its client id.
 */
public final class Postings {
    private Postings() {
    }

    /** Credits a new client once; there is one grant per client whatever happens. */
    public static LedgerEntry grant(String clientId, long micros, long timestampMs) {
        return transfer("grant:" + clientId, clientId, EntryKind.STARTER_GRANT, null, "starter grant", timestampMs,
                Accounts.MINT_GRANTS, Accounts.client(clientId), micros);
    }

    /**
     * Credits a client with money from outside the market. {@code depositId} names the deposit
     * (the operator's idempotency key): the same id twice is one deposit.
     */
    public static LedgerEntry deposit(String clientId, String depositId, long micros, String memo, long timestampMs) {
        return transfer("deposit:" + clientId + ":" + depositId, clientId, EntryKind.DEPOSIT, null,
                memo == null ? "deposit" : memo, timestampMs, Accounts.MINT_DEPOSITS, Accounts.client(clientId), micros);
    }

    /** Moves a job's maximum cost from its client into the job's own escrow account. */
    public static LedgerEntry hold(String jobId, String clientId, long micros, long timestampMs) {
        return transfer("hold:" + jobId, clientId, EntryKind.ESCROW_HOLD, jobId, "escrow hold", timestampMs,
                Accounts.client(clientId), Accounts.escrow(jobId), micros);
    }

    /** Pays one worker from a job's escrow; at most one payout per (job, worker). */
    public static LedgerEntry payout(String jobId, String clientId, String workerId, long micros, long timestampMs) {
        return transfer("payout:" + jobId + ":" + workerId, clientId, EntryKind.PAYOUT, jobId, "payout to " + workerId,
                timestampMs, Accounts.escrow(jobId), Accounts.worker(workerId), micros);
    }

    /** Returns what is left in a job's escrow to its client; at most one refund per job. */
    public static LedgerEntry refund(String jobId, String clientId, long micros, String memo, long timestampMs) {
        return transfer("refund:" + jobId, clientId, EntryKind.REFUND, jobId, memo, timestampMs,
                Accounts.escrow(jobId), Accounts.client(clientId), micros);
    }

    /** The event id of a transaction: a name-based UUID of its transaction id. */
    public static String eventId(String transactionId) {
        return UUID.nameUUIDFromBytes(transactionId.getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static LedgerEntry transfer(String tx, String clientId, EntryKind kind, String jobId, String memo,
                                        long timestampMs, String from, String to, long micros) {
        return LedgerEntry.newBuilder()
                .setEventId(eventId(tx))
                .setTransactionId(tx)
                .setClientId(clientId)
                .setKind(kind)
                .setPostings(List.of(new Posting(from, -micros), new Posting(to, micros)))
                .setJobId(jobId)
                .setMemo(memo)
                .setTimestamp(Instant.ofEpochMilli(timestampMs))
                .build();
    }
}
